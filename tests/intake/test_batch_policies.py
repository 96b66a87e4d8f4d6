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
