"""Twilio's webhooks as tables: each row a request in, the answer and its effect out.

Every request is checked against ``X-Twilio-Signature`` when ``TWILIO_AUTH_TOKEN``
is set, over ``PUBLIC_URL`` (behind a proxy) or the raw URL the request came to.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from messaging.models import OutStatus
from tests.webhooks import (
    MEMBER,
    PUBLIC_URL,
    SENT_ID,
    TWILIO_TOKEN,
    Case,
    ids,
    run,
    signed_over,
    tampered,
    twilio_forged,
    twilio_signed,
)

if TYPE_CHECKING:
    from tests.fixture_types import MakeApp

SMS, STATUS = "/sms/twilio", "/sms/twilio/status"
BEHIND_PROXY = {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "PUBLIC_URL": PUBLIC_URL}
DIRECT = {"TWILIO_AUTH_TOKEN": TWILIO_TOKEN}
PUBLIC = signed_over(PUBLIC_URL)
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
XML = "application/xml"
REFUSED = "forbidden: bad X-Twilio-Signature"


def sms(**fields: str) -> dict[str, str]:
    return {"MessageSid": "SM1", "AccountSid": "AC1", "From": MEMBER, "To": "+15005550006", "Body": "HELP",
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01", **fields}


def status(word: str, **fields: str) -> dict[str, str]:
    return {"MessageSid": SENT_ID, "MessageStatus": word, "AccountSid": "AC1", "To": MEMBER, **fields}


STORED = [("twilio", "SM1", MEMBER, "HELP")]

INBOUND = [
    Case("receive valid", SMS, sms(), 200, TWIML, mimetype=XML, prep=PUBLIC, config=BEHIND_PROXY, inbox=STORED),
    Case("receive redelivered three times: stored once", SMS, sms(), 200, TWIML, mimetype=XML, prep=PUBLIC,
         config=BEHIND_PROXY, times=3, inbox=STORED),
    Case("receive a field Twilio added unannounced", SMS, sms(FromCountry="KE", OptOutType=""), 200, TWIML, mimetype=XML,
         prep=PUBLIC, config=BEHIND_PROXY, inbox=STORED),
    Case("receive no params", SMS, {}, 400, "bad request: MessageSid and From are required", prep=PUBLIC,
         config=BEHIND_PROXY),
    Case("receive no From", SMS, sms(From=""), 400, "MessageSid and From are required", prep=PUBLIC,
         config=BEHIND_PROXY),
    Case("receive missing signature", SMS, sms(), 403, REFUSED, config=BEHIND_PROXY),
    Case("receive forged signature", SMS, sms(), 403, REFUSED, prep=twilio_forged, config=DIRECT),
    Case("receive From changed after signing", SMS, sms(), 403, REFUSED, prep=tampered("From", "+254712000004"),
         config=DIRECT),
    Case("receive signed over the internal URL behind a proxy", SMS, sms(), 403, REFUSED, prep=twilio_signed,
         config=BEHIND_PROXY),
    Case("receive without PUBLIC_URL: the request's URL", SMS, sms(), 200, TWIML, mimetype=XML, prep=twilio_signed,
         config=DIRECT, inbox=STORED),
    Case("receive percent-escapes in the query kept as sent", SMS, sms(), 200, TWIML, mimetype=XML,
         query="?note=%C3%A9t%C3%A9&x=%7Euser&b=x%20y", prep=twilio_signed, config=DIRECT, inbox=STORED),
    Case("receive without a token configured: not checked", SMS, sms(), 200, TWIML, mimetype=XML, inbox=STORED),
]

STATUSES = [
    Case("status delivered", STATUS, status("delivered"), 200, "OK", prep=PUBLIC, config=BEHIND_PROXY,
         sent="twilio", outbox=(OutStatus.DELIVERED, None)),
    Case("status read", STATUS, status("read"), 200, "OK", prep=PUBLIC, config=BEHIND_PROXY, sent="twilio",
         outbox=(OutStatus.DELIVERED, None)),
    Case("status sent", STATUS, status("sent"), 200, "OK", prep=PUBLIC, config=BEHIND_PROXY, sent="twilio",
         outbox=(OutStatus.SENT, None)),
    Case("status late sent after delivered, three times", STATUS, status("sent"), 200, "OK", prep=PUBLIC,
         config=BEHIND_PROXY, earlier=(status("delivered"),), times=3, sent="twilio",
         outbox=(OutStatus.DELIVERED, None)),
    Case("status failed 21610 (STOP): rejected, three times", STATUS, status("failed", ErrorCode="21610"), 200,
         "OK", prep=PUBLIC, config=BEHIND_PROXY, times=3, sent="twilio",
         outbox=(OutStatus.REJECTED, "twilio 21610")),
    Case("status undelivered 30003", STATUS, status("undelivered", ErrorCode="30003"), 200, "OK", prep=PUBLIC,
         config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.FAILED, "twilio 30003")),
    Case("status unknown word", STATUS, status("huh"), 400, "bad request: unknown message id or status",
         prep=PUBLIC, config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status of an inbound message", STATUS, status("received"), 400, "unknown message id or status",
         prep=PUBLIC, config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status no MessageStatus", STATUS, {"MessageSid": SENT_ID}, 400, "unknown message id or status",
         prep=PUBLIC, config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status no MessageSid", STATUS, {"MessageStatus": "delivered"}, 400, "unknown message id or status",
         prep=PUBLIC, config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status for another provider's message id", STATUS, status("delivered"), 200, "OK", prep=PUBLIC,
         config=BEHIND_PROXY, sent="africastalking", outbox=(OutStatus.SENT, None)),
    Case("status missing signature", STATUS, status("delivered"), 403, REFUSED, config=BEHIND_PROXY,
         sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status forged signature", STATUS, status("delivered"), 403, REFUSED, prep=twilio_forged, config=DIRECT,
         sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status changed after signing", STATUS, status("failed"), 403, REFUSED,
         prep=tampered("MessageStatus", "delivered"), config=DIRECT, sent="twilio", outbox=(OutStatus.SENT, None)),
    Case("status signed over the internal URL behind a proxy", STATUS, status("delivered"), 403, REFUSED,
         prep=twilio_signed, config=BEHIND_PROXY, sent="twilio", outbox=(OutStatus.SENT, None)),
]


@pytest.mark.parametrize("case", INBOUND, ids=ids(INBOUND))
def test_inbound_sms(make_app: MakeApp, case: Case) -> None:
    run(make_app, case)


@pytest.mark.parametrize("case", STATUSES, ids=ids(STATUSES))
def test_status_callbacks(make_app: MakeApp, case: Case) -> None:
    run(make_app, case)
