"""SMS and USSD providers: one folder each (``providers/<name>/``), one list of them (``registry``).

A provider's folder holds all Kassa knows of it: its sending channel, how its
requests are authenticated and parsed (inbound SMS, USSD hops, delivery reports,
each turned into one neutral value of :mod:`providers.base`), how it is answered,
and its configuration variables. Nothing outside the folder names a provider's
field or status word.
"""
from __future__ import annotations

from providers.base import (
    Answer,
    Channel,
    Delivery,
    DeliveryReport,
    Inbound,
    Outgoing,
    Provider,
    Result,
    SendError,
    Sent,
    UssdEnded,
    UssdRequest,
    http_session,
    one_by_one,
    send_each,
)

__all__ = ["Answer", "Channel", "Delivery", "DeliveryReport", "Inbound", "Outgoing", "Provider", "Result",
           "SendError", "Sent", "UssdEnded", "UssdRequest", "http_session", "one_by_one", "send_each"]
