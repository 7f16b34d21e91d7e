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
    text: str
    end: bool = False

    @property
    def body(self) -> str:
        """The provider body: ``CON ...`` to continue, ``END ...`` to finish."""
        return ("END " if self.end else "CON ") + self.text
