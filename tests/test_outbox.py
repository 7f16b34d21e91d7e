"""The outbox row and the after-commit hook that enqueues its job."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rq import Queue
from sqlalchemy import select

from messaging.models import OutboxMessage, OutStatus, Priority
from messaging.outbox import queue_sms
from text.plain import Letters

if TYPE_CHECKING:
    from services import Services


def test_row_written_and_job_enqueued_only_after_commit(services: Services) -> None:
    high = Queue("high", connection=services.redis)
    with services.db.transaction() as s:
        msg = queue_sms(s, letters=Letters.FULL, to="+254712000003", text="Asante", language="sw", kind="reply",
                        priority=Priority.REPLY)
        assert high.count == 0  # not before the commit
    assert high.job_ids == [services.job_id(f"send-{msg.id}")]
    with services.db.transaction() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert (row.status, row.encoding, row.segments) == (OutStatus.PENDING, "gsm7", 1)


def test_one_transaction_rows_go_in_one_job_per_priority(services: Services) -> None:
    high, default = Queue("high", connection=services.redis), Queue("default", connection=services.redis)
    with services.db.transaction() as s:
        receipts = [queue_sms(s, letters=Letters.FULL, to=f"+25471200000{n}", text=f"Receipt R{n}", language="en", kind="receipt",
                              priority=Priority.REPLY).id for n in range(3, 6)]
        notice = queue_sms(s, letters=Letters.FULL, to="+254712000001", text="Meeting moved", language="en", kind="notice",
                           priority=Priority.NOTICE).id
    [job] = high.jobs
    assert job.func_name == "jobs.sms.send_many" and job.args == (receipts,)
    assert default.job_ids == [services.job_id(f"send-{notice}")]  # a lone row keeps its own job
    with services.db.transaction() as s:  # the next transaction starts a hook of its own
        again = queue_sms(s, letters=Letters.FULL, to="+254712000003", text="Asante", language="sw", kind="reply",
                          priority=Priority.REPLY).id
    assert high.job_ids[1:] == [services.job_id(f"send-{again}")]


def test_rollback_enqueues_nothing(services: Services) -> None:
    try:
        with services.db.transaction() as s:
            queue_sms(s, letters=Letters.FULL, to="+254712000003", text="x", language="en", kind="reply")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert Queue("default", connection=services.redis).count == 0
    with services.db.transaction() as s:
        assert s.scalar(select(OutboxMessage)) is None


def test_plain_letters_make_azerbaijani_gsm7(services: Services) -> None:
    with services.db.transaction() as s:
        msg = queue_sms(s, to="+994501110003", text="Yığımınız: 5 AZN", language="az",
                        kind="receipt", letters=Letters.PLAIN)
    assert msg.encoding == "gsm7" and msg.text == "Yigiminiz: 5 AZN"


def test_the_migrated_outbox_is_cheap_to_write(db_url: str) -> None:
    """What the model-match check cannot see: byte-compared dedupe keys, no foreign keys, a partial index."""
    from sqlalchemy import inspect

    from db import make_engine

    engine = make_engine(db_url)
    try:
        schema = inspect(engine)
        assert schema.get_foreign_keys("outbox") == []
        indexes = {ix["name"]: ix for ix in schema.get_indexes("outbox")}
        assert "ix_outbox_member_id" not in indexes
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                from sqlalchemy import text

                assert conn.scalar(text("SELECT collation_name FROM information_schema.columns "
                                        "WHERE table_name = 'outbox' AND column_name = 'dedupe_key' "
                                        "AND table_schema = current_schema()")) == "C"
                assert "WHERE (provider_id IS NOT NULL)" in conn.scalar(
                    text("SELECT pg_get_indexdef('ix_outbox_provider_id'::regclass)"))
    finally:
        engine.dispose()
