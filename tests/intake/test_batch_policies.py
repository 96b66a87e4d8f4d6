"""The policy hooks in a batch: what they read once for the batch, plus what the batch stored.

A burst from one number (a parent texting again and again, a flood) must be rate limited and
answered exactly as if the messages had come one at a time; a message whose savepoint rolled
back must count for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select, text

from gateway.core.inbound import InboundMessage
from gateway.intake import IntakeContext, IntakeResult
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.storage.db import StoreUnavailable, utcnow
from gateway.storage.models import Message, OutboxJob
from tests.conftest import RecordingSender, make_settings

SERVICE = "+4759440000"
UNKNOWN = "+4798765432"


def sms(i: int, text: str = "Hei, kan dere ringe meg?", sender: str = UNKNOWN) -> InboundMessage:
    return InboundMessage(
        channel="sms",
        provider_id=f"SM{i:032d}",
        sender=sender,
        recipient=SERVICE,
        text=text,
        raw=f"MessageSid=SM{i:032d}&Body={text}".encode(),
        received_at=utcnow(),
    )


@pytest.fixture
async def limited(db_url: str) -> AsyncIterator[Runtime]:
    """A gateway that rate-limits at three messages an hour and answers unknown numbers."""
    settings = make_settings(
        db_url,
        practice={"rate_limit_count": 3, "rate_limit_minutes": 60, "unknown_sender_notice": True},
    )
    rt = build_runtime(
        settings,
        senders={"sms": RecordingSender(), "email": RecordingSender()},
        keyring=parse_keys(new_key_line("test")),
    )
    await rt.db.migrate()
    yield rt
    await rt.close()


async def inbound_rows(rt: Runtime) -> list[Message]:
    async with rt.db.read() as s:
        return list(
            (
                await s.execute(
                    select(Message).where(Message.direction == "in").order_by(Message.id)
                )
            ).scalars()
        )


async def notices(rt: Runtime) -> list[Message]:
    async with rt.db.read() as s:
        return list(
            (
                await s.execute(
                    select(Message)
                    .join(OutboxJob, OutboxJob.message_id == Message.id)
                    .where(Message.direction == "out")
                )
            ).scalars()
        )


async def test_a_burst_in_one_batch_is_limited_and_answered_as_one_at_a_time(
    limited: Runtime,
) -> None:
    before = limited.intake.batches
    outcomes = await asyncio.gather(*(limited.intake.accept(sms(i)) for i in range(6)))
    assert limited.intake.batches == before + 1  # all six shared one transaction
    assert not any(o.duplicate for o in outcomes)
    rows = await inbound_rows(limited)
    assert [bool(m.flags.get("rate_limited")) for m in rows] == [False] * 3 + [True] * 3
    kinds = [m.flags["auto_reply_decision"]["kind"] for m in rows]
    assert kinds == ["unknown_sender"] + [None] * 5  # one notice, to the first message
    sent = await notices(limited)
    assert len(sent) == 1 and sent[0].in_reply_to_id == rows[0].id
    # The next batch counts what the first one committed.
    await limited.intake.accept(sms(99))
    assert (await inbound_rows(limited))[-1].flags.get("rate_limited") is True


async def test_a_message_rolled_back_in_a_batch_counts_for_nothing(limited: Runtime) -> None:
    async def fail_first(ctx: IntakeContext) -> None:
        """Runs after the auto-reply was queued; its failure takes that reply back too."""
        if "FEIL" in ctx.inbound.text:
            raise RuntimeError("a policy failed for this message")

    limited.intake.hooks.append(fail_first)
    msgs = [sms(0, "FEIL")] + [sms(i) for i in range(1, 5)]
    outcomes = await asyncio.gather(
        *(limited.intake.accept(m) for m in msgs), return_exceptions=True
    )
    assert isinstance(outcomes[0], RuntimeError)
    assert all(isinstance(o, IntakeResult) for o in outcomes[1:])
    rows = await inbound_rows(limited)
    assert [m.provider_id for m in rows] == [m.provider_id for m in msgs[1:]]
    # Had the failed message counted, the third stored one would already be past the limit.
    assert [bool(m.flags.get("rate_limited")) for m in rows] == [False, False, False, True]
    # Its notice went with it, so the first stored message is the one answered.
    sent = await notices(limited)
    assert len(sent) == 1 and sent[0].in_reply_to_id == rows[0].id


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL has no file lock
async def test_writers_of_one_process_take_turns_instead_of_timing_out(
    runtime: Runtime,
) -> None:
    """A writer that waits for another of this process (the relay behind the intake writer)
    is not left in SQLite's busy handler, where it gave up with 'database is locked'."""
    assert runtime.db.is_sqlite
    await runtime.db.engine.dispose()

    @event.listens_for(runtime.db.engine.sync_engine, "connect")
    def short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=20")  # a lock held longer fails at once

    holding = asyncio.Event()

    async def long_writer() -> None:
        async with runtime.db.transaction() as tx:
            await tx.session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
            holding.set()
            await asyncio.sleep(0.3)  # far past the busy timeout above

    async def second_writer() -> str:
        await holding.wait()
        try:
            async with runtime.db.transaction() as tx:
                await tx.session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        except StoreUnavailable as exc:
            return f"failed: {exc}"
        return "committed"

    results = await asyncio.gather(long_writer(), second_writer())
    assert results[1] == "committed"


async def test_answers_read_on_first_need_in_a_batch_are_as_one_at_a_time(db_url: str) -> None:
    """The auto-replies read their facts on the first message of a batch that needs them,
    not before the batch: a keyword first (it needs none), then two messages from the same
    family. The batch must decide exactly what the same messages decide one at a time."""
    from datetime import UTC, datetime

    from tests.helpers import seed_case

    tuesday_morning = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # open in Oslo
    settings = make_settings(db_url, practice={"min_reply_interval_minutes": 0, "receipts": True})
    rt = build_runtime(
        settings,
        senders={"sms": RecordingSender(), "email": RecordingSender()},
        keyring=parse_keys(new_key_line("test")),
        clock=lambda: tuesday_morning,
    )
    await rt.db.migrate()
    try:
        await seed_case(rt, ref="2026-0001", phone="+4791111111", email=None)
        await seed_case(rt, ref="2026-0002", phone="+4792222222", email=None, with_worker=False)
        texts = ["HJELP", "Hei, Emil er syk.", "Han blir hjemme i morgen også."]
        for i, body in enumerate(texts):  # one family: one message at a time
            await rt.intake.accept(sms(i, body, sender="+4791111111"))
        before = rt.intake.batches
        await asyncio.gather(  # the other family: all three in one batch
            *(
                rt.intake.accept(sms(10 + i, body, sender="+4792222222"))
                for i, body in enumerate(texts)
            )
        )
        assert rt.intake.batches == before + 1
        rows = await inbound_rows(rt)
        decisions = [m.flags["auto_reply_decision"] for m in rows]
        assert decisions[:3] == decisions[3:]
        # The first message after the keyword is no first contact: the keyword came before.
        assert decisions[1]["reason"] == "ongoing conversation: no receipt needed"
        # A message alone, first of its conversation, is still answered with a receipt.
        await seed_case(rt, ref="2026-0003", phone="+4793333333", email=None, with_worker=False)
        await rt.intake.accept(sms(20, texts[1], sender="+4793333333"))
        assert (await inbound_rows(rt))[-1].flags["auto_reply_decision"]["kind"] == "receipt"
    finally:
        await rt.close()


async def test_a_rate_limited_message_alone_makes_no_auto_reply_look_ups(limited: Runtime) -> None:
    """Past the limit no automatic reply is sent, so nothing is read to decide one."""
    from gateway.storage.db import StatementCounter

    for i in range(3):
        await limited.intake.accept(sms(i))
    with StatementCounter(limited.db.engine) as counter:
        await limited.intake.accept(sms(3))
    assert (await inbound_rows(limited))[-1].flags.get("rate_limited") is True
    look_ups = [s for s in counter.statements if "opted_out_sms" in s or "message.recipient" in s]
    assert look_ups == []
    # The next sender's first message still reads them (and is answered).
    with StatementCounter(limited.db.engine) as counter:
        await limited.intake.accept(sms(4, sender="+4798765400"))
    assert any("opted_out_sms" in s for s in counter.statements)
