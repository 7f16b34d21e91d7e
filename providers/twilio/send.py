"""Twilio through its official SDK (``client.messages.create``).

One message per request (Twilio has no multi-recipient send). The client's
``TwilioHttpClient`` keeps one pooled session (``pool_connections=True``); its
adapters are remounted so ``pool`` requests in flight each keep a connection.

Error codes are looked up in :data:`ERROR_CODES`; codes not listed are
transient when the HTTP status is 429 or 5xx and permanent otherwise (a 4xx
will fail the same way again).
"""
from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from providers.base import Outgoing, Result, SendError, Sent, http_session, one_by_one, send_each

NAME = "twilio"
TRANSIENT, PERMANENT = "transient", "permanent"

ERROR_CODES: dict[int, str] = {
    20429: TRANSIENT,  # too many concurrent requests
    20500: TRANSIENT,  # internal error
    20503: TRANSIENT,  # service unavailable
    21211: PERMANENT,  # invalid 'To' number
    21408: PERMANENT,  # no permission to send to this region
    21610: PERMANENT,  # the recipient sent STOP
    21611: TRANSIENT,  # queue full for this sender
    21612: PERMANENT,  # 'To' not reachable from this sender
    21614: PERMANENT,  # 'To' is not a mobile number
    30001: TRANSIENT,  # queue overflow
    30003: PERMANENT,  # unreachable handset
    30004: PERMANENT,  # message blocked
    30005: PERMANENT,  # unknown destination
    30006: PERMANENT,  # landline or unreachable carrier
}


class TwilioChannel:
    name = NAME
    parallel = True

    def __init__(self, account_sid: str, auth_token: str, from_: str,
                 status_callback: str | None = None, *, base_url: str | None = None, pool: int = 8) -> None:
        http = TwilioHttpClient(pool_connections=True)
        http.session = http_session(pool)
        self.client = Client(account_sid, auth_token, http_client=http)
        if base_url:  # a local stub (benchmarks): same paths, another host
            self.client.api.base_url = base_url.rstrip("/")
        self.from_ = from_
        self.status_callback = status_callback
        self.account = account_sid

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]:
        return one_by_one(msgs)

    def send_group(self, msgs: list[Outgoing]) -> list[Result]:
        return send_each(self, msgs)

    def send(self, msg: Outgoing) -> Sent:
        extra = {"status_callback": self.status_callback} if self.status_callback else {}
        try:
            created = self.client.messages.create(to=msg.to, from_=self.from_, body=msg.text, **extra)
        except TwilioRestException as exc:
            raise SendError(NAME, str(exc.code or exc.status), str(exc.msg)[:200],
                            permanent=_verdict(exc) == PERMANENT) from None
        except (TwilioException, OSError) as exc:  # network trouble reaching Twilio
            raise SendError(NAME, "http", str(exc)[:200], permanent=False) from None
        return Sent(provider=NAME, provider_id=created.sid)


def _verdict(exc: TwilioRestException) -> str:
    if exc.code in ERROR_CODES:
        return ERROR_CODES[exc.code]
    return TRANSIENT if exc.status == 429 or exc.status >= 500 else PERMANENT
