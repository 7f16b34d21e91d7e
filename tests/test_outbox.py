"""The outbox row and the after-commit hook that enqueues its job."""
from __future__ import annotations

from rq import Queue
from sqlalchemy import select

from messaging.models import OutboxMessage, OutStatus, Priority
from messaging.outbox import queue_sms


def test_row_written_and_job_enqueued_only_after_commit(services):
    high = Queue("high", connection=services.redis)
    with services.db.transaction() as s:
        msg = queue_sms(s, to="+254712000003", text="Asante", language="sw", kind="reply",
                        priority=Priority.REPLY)
        assert high.count == 0  # not before the commit
    assert high.job_ids == [f"send-{msg.id}"]
    with services.db.transaction() as s:
        row = s.scalar(select(OutboxMessage))
        assert (row.status, row.encoding, row.segments) == (OutStatus.PENDING, "gsm7", 1)


def test_rollback_enqueues_nothing(services):
    try:
        with services.db.transaction() as s:
            queue_sms(s, to="+254712000003", text="x", language="en", kind="reply")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert Queue("default", connection=services.redis).count == 0
    with services.db.transaction() as s:
        assert s.scalar(select(OutboxMessage)) is None


def test_plain_letters_make_azerbaijani_gsm7(services):
    with services.db.transaction() as s:
        msg = queue_sms(s, to="+994501110003", text="Yığımınız: 5 AZN", language="az",
                        kind="receipt", plain=True)
    assert msg.encoding == "gsm7" and msg.text == "Yigiminiz: 5 AZN"
