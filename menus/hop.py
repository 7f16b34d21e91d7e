"""The neutral shape of one USSD hop and its reply."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hop:
    session_id: str
    phone: str  # E.164
    service_code: str
    text: str  # everything typed so far, joined by '*'
    network: str = ""


@dataclass(frozen=True)
class Reply:
    """A screen and whether it ends the session (each gateway writes it its own way:
    ``providers/<name>/``, e.g. Africa's Talking's ``CON ``/``END ``)."""

    text: str
    end: bool = False
