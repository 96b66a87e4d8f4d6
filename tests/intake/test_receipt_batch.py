"""A receipt batch that the database refuses in part: the others are still committed and
answered, only the refused one is told to retry (DESIGN invariant 1).

The database refuses one row of the batch's INSERT itself (a trigger raises for one key), the
way a constraint or a full disk refuses a row: on PostgreSQL that aborts the transaction the
whole batch is written in, so what the writer does next must not depend on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from structlog.testing import capture_logs

from gateway.receipts import HeldReceipt, Receipt, ReceiptWorker, ReceiptWriter
from gateway.sealing import new_key_line, parse_keys
from gateway.storage.db import Database, StoreUnavailable, utcnow
from gateway.storage.models import InboundReceipt
from tests.conftest import make_settings

SERVICE = "+4759440000"
REFUSED = "SM" + "9" * 32

SQLITE_TRIGGER = f"""
CREATE TRIGGER refuse_one_receipt BEFORE INSERT ON inbound_receipt
WHEN NEW.receipt_key = '{REFUSED}'
BEGIN SELECT RAISE(ABORT, 'refused'); END
"""
PG_FUNCTION = f"""
CREATE FUNCTION refuse_one_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.receipt_key = '{REFUSED}' THEN RAISE EXCEPTION 'refused'; END IF;
  RETURN NEW;
END $$
"""
PG_TRIGGER = """
CREATE TRIGGER refuse_one_receipt BEFORE INSERT ON inbound_receipt
FOR EACH ROW EXECUTE FUNCTION refuse_one_receipt()
"""


def sms(sid: str) -> Receipt:
    raw = f"MessageSid={sid}&From=%2B4791234567&To=%2B4759440000&Body=Hei".encode()
    return Receipt("sms", sid, "+4791234567", SERVICE, raw, key_may_be_reused=False)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await database.migrate()
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            await conn.execute(text(SQLITE_TRIGGER))
        else:
            await conn.execute(text(PG_FUNCTION))
            await conn.execute(text(PG_TRIGGER))
    yield database
    await database.close()


async def stored_keys(db: Database) -> list[str]:
    async with db.read() as s:
        rows = await s.execute(select(InboundReceipt.receipt_key).order_by(InboundReceipt.id))
        return [str(k) for k in rows.scalars()]


async def test_one_refused_receipt_fails_only_itself(db: Database) -> None:
    writer = ReceiptWriter(db, parse_keys(new_key_line("k")), owner="here", lease_seconds=60)
    sids = [f"SM{i:032d}" for i in range(3)] + [REFUSED] + [f"SM{i:032d}" for i in range(4, 6)]
    outcomes = await asyncio.gather(
        *(writer.write(sms(sid)) for sid in sids), return_exceptions=True
    )
    await writer.close()
    assert writer.batches == 1  # all six were written as one batch
    refused = outcomes[3]
    assert isinstance(refused, StoreUnavailable)  # the sender is told to retry (503 / 451)
    answered = [o for i, o in enumerate(outcomes) if i != 3]
    assert all(isinstance(o, HeldReceipt) for o in answered)
    assert [o.key for o in answered if isinstance(o, HeldReceipt)] == [
        s for s in sids if s != REFUSED
    ]
    # Every receipt answered is committed, under the id it was answered with; the refused one
    # is not.
    assert await stored_keys(db) == [s for s in sids if s != REFUSED]
    async with db.read() as s:
        ids = dict((await s.execute(select(InboundReceipt.receipt_key, InboundReceipt.id))).all())
    assert {o.key: o.id for o in answered if isinstance(o, HeldReceipt)} == ids


async def test_a_retry_of_a_waiting_receipt_beside_a_refused_one_is_stored_once(
    db: Database,
) -> None:
    writer = ReceiptWriter(db, parse_keys(new_key_line("k")), owner="here", lease_seconds=60)
    first = await writer.write(sms("SM" + "1" * 32))
    assert isinstance(first, HeldReceipt)
    # Twilio's retry of the first, a new message and a refused one, in one batch.
    outcomes = await asyncio.gather(
        writer.write(sms("SM" + "1" * 32)),
        writer.write(sms("SM" + "2" * 32)),
        writer.write(sms(REFUSED)),
        return_exceptions=True,
    )
    await writer.close()
    assert writer.batches == 2
    assert outcomes[0] is None  # received before: answered as stored
    assert isinstance(outcomes[1], HeldReceipt)
    assert isinstance(outcomes[2], StoreUnavailable)
    assert await stored_keys(db) == ["SM" + "1" * 32, "SM" + "2" * 32]


# --- the backlog warning, looked at every poll ---------------------------------------------


async def test_a_backlog_older_than_the_bound_is_logged_once_with_its_count(
    db: Database,
) -> None:
    keyring = parse_keys(new_key_line("k"))
    worker = ReceiptWorker(
        db, keyring, make_settings(db.url, email={"receipt_backlog_warn_seconds": 60}), {}
    )
    patient = ReceiptWorker(
        db, keyring, make_settings(db.url, email={"receipt_backlog_warn_seconds": 600}), {}
    )
    with capture_logs() as logs:
        await worker._warn_if_old()  # nothing waits
    # Two texts committed two minutes ago by an instance that stopped, one just now.
    stale = ReceiptWriter(
        db, keyring, "stopped", lease_seconds=0, clock=lambda: utcnow() - timedelta(seconds=120)
    )
    for n in range(2):
        await stale.write(sms(f"SM{n:032d}"))
    await stale.close()
    fresh = ReceiptWriter(db, keyring, owner="here", lease_seconds=60)
    await fresh.write(sms("SM" + "3" * 32))
    await fresh.close()
    with capture_logs() as more:
        await patient._warn_if_old()  # within its bound: nothing to say
        await worker._warn_if_old()
        await worker._warn_if_old()  # the next poll, seconds later: not again
    logs += more
    warnings = [e for e in logs if e["event"] == "receipts.backlog_old"]
    assert len(warnings) == 1
    assert warnings[0]["waiting"] == 3 and warnings[0]["oldest_seconds"] >= 120
