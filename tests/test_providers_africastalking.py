"""Africa's Talking's webhooks as tables: each row a request in, the answer and its effect out."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from messaging.models import OutStatus
from tests.webhooks import MEMBER, SENT_ID, Case, ids, run

if TYPE_CHECKING:
    from tests.fixture_types import DemoPeople, MakeApp

SMS, REPORT, USSD, EVENTS = "/sms/africastalking", "/sms/africastalking/delivery", "/ussd/africastalking", \
    "/ussd/africastalking/events"
TOKEN = {"WEBHOOK_TOKEN": "s3cret"}


def sms(**fields: str) -> dict[str, str]:
    return {"from": MEMBER, "to": "12345", "text": "HELP", "date": "2026-11-25 09:00:00", "id": "ATXid_1",
            "linkId": "", "networkCode": "63902", **fields}


def report(status: str, **fields: str) -> dict[str, str]:
    return {"id": SENT_ID, "status": status, "phoneNumber": MEMBER, "networkCode": "63902", "retryCount": "0",
            **fields}


def hop(**fields: str) -> dict[str, str]:
    return {"sessionId": "ATUid_1", "serviceCode": "*384*123#", "phoneNumber": MEMBER, "text": "",
            "networkCode": "63902", **fields}


STORED = [("africastalking", "ATXid_1", MEMBER, "HELP")]
NOTHING_STORED: list[tuple[str, str, str, str]] = []

INBOUND = [
    Case("receive valid", SMS, sms(), 200, "OK", inbox=STORED),
    Case("receive redelivered three times: stored once", SMS, sms(), 200, "OK", times=3, inbox=STORED),
    Case("receive '+' decoded to a space", SMS, sms(**{"from": " 254712000003"}), 200, "OK", inbox=STORED),
    Case("receive empty text", SMS, sms(text=""), 200, "OK", inbox=[("africastalking", "ATXid_1", MEMBER, "")]),
    Case("receive no params", SMS, {}, 400, "bad request: id and from are required"),
    Case("receive no id", SMS, sms(id=""), 400, "id and from are required"),
    Case("receive no from", SMS, {k: v for k, v in sms().items() if k != "from"}, 400, "id and from are required"),
    Case("receive without the token", SMS, sms(), 403, "forbidden", config=TOKEN),
    Case("receive with a wrong token", SMS, sms(), 403, "forbidden", query="?token=wrong", config=TOKEN),
    Case("receive with the token", SMS, sms(), 200, "OK", query="?token=s3cret", config=TOKEN, inbox=STORED),
]

REPORTS = [
    Case("report success, replayed three times", REPORT, report("Success"), 200, "OK", times=3, sent="africastalking",
         outbox=(OutStatus.DELIVERED, None)),
    Case("report failed, replayed three times", REPORT, report("Failed", failureReason="UserInBlackList"), 200,
         "OK", times=3, sent="africastalking", outbox=(OutStatus.FAILED, "UserInBlackList")),
    Case("report rejected, replayed three times", REPORT, report("Rejected", failureReason="InvalidPhoneNumber"),
         200, "OK", times=3, sent="africastalking", outbox=(OutStatus.REJECTED, "InvalidPhoneNumber")),
    Case("report buffered, replayed three times", REPORT, report("Buffered"), 200, "OK", times=3,
         sent="africastalking",
         outbox=(OutStatus.SENT, None)),
    Case("report submitted", REPORT, report("Submitted"), 200, "OK", sent="africastalking",
         outbox=(OutStatus.SENT, None)),
    Case("report late: never back from a final state", REPORT, report("Failed"), 200, "OK",
         earlier=(report("Success"), report("Sent"), report("Buffered")), sent="africastalking",
         outbox=(OutStatus.DELIVERED, None)),
    Case("report unknown status", REPORT, report("Exploded"), 400, "bad request: unknown message id or status",
         sent="africastalking", outbox=(OutStatus.SENT, None)),
    Case("report no id", REPORT, {"status": "Success"}, 400, "unknown message id or status",
         sent="africastalking", outbox=(OutStatus.SENT, None)),
    Case("report for another provider's message id", REPORT, report("Success"), 200, "OK", sent="twilio",
         outbox=(OutStatus.SENT, None)),
    Case("report without the token", REPORT, report("Success"), 403, "forbidden", config=TOKEN,
         sent="africastalking", outbox=(OutStatus.SENT, None)),
    Case("report with the token", REPORT, report("Success"), 200, "OK", query="?token=s3cret", config=TOKEN,
         sent="africastalking", outbox=(OutStatus.DELIVERED, None)),
]

EMPTY = "text/html"  # an empty body: Flask's default type
UNREADABLE = "END Sorry, we could not read this request. Please dial again."
SESSIONS = [
    Case("hop first dial", USSD, hop(), 200, begins="CON "),
    Case("hop '+' decoded to a space", USSD, hop(phoneNumber=" 254712000003"), 200, begins="CON "),
    Case("hop repeated: the same screen", USSD, hop(), 200, begins="CON ", times=2),
    Case("hop no params", USSD, {}, 200, begins=UNREADABLE),
    Case("hop no session id", USSD, hop(sessionId=""), 200, begins=UNREADABLE),
    Case("hop session id too long", USSD, hop(sessionId="x" * 101), 200, begins=UNREADABLE),
    Case("hop phone number with letters", USSD, hop(phoneNumber="0712ABC678"), 200, begins=UNREADABLE),
    Case("hop without the token", USSD, hop(), 403, begins="END Not allowed.", config=TOKEN),
    Case("hop with a wrong token", USSD, hop(), 403, begins="END Not allowed.", query="?token=x", config=TOKEN),
    Case("hop with the token", USSD, hop(), 200, begins="CON ", query="?token=s3cret", config=TOKEN),
    Case("session ended: logged, a PIN masked", EVENTS, {"sessionId": "ATUid_1", "status": "Success",
         "hopsCount": "3", "durationInMillis": "5120", "input": "1*2*1234", "errorMessage": ""}, 200,
         mimetype=EMPTY, logged="session=ATUid_1 status=Success hops=3 ms=5120 input=1*2*#### error="),
    Case("session ended without the token", EVENTS, {"sessionId": "ATUid_1", "status": "Failed"}, 403,
         mimetype=EMPTY, config=TOKEN),
]


@pytest.mark.parametrize("case", INBOUND, ids=ids(INBOUND))
def test_inbound_sms(make_app: MakeApp, case: Case) -> None:
    run(make_app, case)


@pytest.mark.parametrize("case", REPORTS, ids=ids(REPORTS))
def test_delivery_reports(make_app: MakeApp, case: Case) -> None:
    run(make_app, case)


@pytest.mark.parametrize("case", SESSIONS, ids=ids(SESSIONS))
def test_ussd(make_app: MakeApp, demo: DemoPeople, caplog: pytest.LogCaptureFixture, case: Case) -> None:
    run(make_app, case, caplog)
