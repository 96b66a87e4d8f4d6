"""Group commit: concurrent intakes share one transaction, each message in its own savepoint.

What a family or a provider sees must not change: every sender is answered after the commit that
holds its message, one bad message never fails its neighbours, and a retry that arrives in the
same batch as the original is still stored once.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.core.inbound import InboundMessage
from gateway.intake import IntakeContext, IntakeResult
from gateway.runtime import Runtime
from gateway.storage.db import StatementCounter, StoreUnavailable, utcnow
from gateway.storage.models import AuditEvent, BlockedSender, Message, QueueItem
from tests.helpers import PARENT_PHONE, seed_case

SERVICE = "+4759440000"


def sms(i: int, text: str = "Hei, Emil er syk i dag.") -> InboundMessage:
    return InboundMessage(
        channel="sms",
        provider_id=f"SM{i:032d}",
        sender=PARENT_PHONE,
        recipient=SERVICE,
        text=text,
        raw=f"MessageSid=SM{i:032d}&Body={text}".encode(),
        received_at=utcnow(),
    )


async def count(rt: Runtime, model: type) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def poison(ctx: IntakeContext) -> None:
    """A policy that, for one message only, writes a row that breaks a UNIQUE constraint."""
    if "POISON" not in ctx.inbound.text:
        return
    for _ in range(2):
        ctx.tx.session.add(
            BlockedSender(
                address="same@example.org", reason="x", blocked_by="t", created_at=utcnow()
            )
        )
    await ctx.tx.session.flush()


async def test_one_constraint_violation_fails_only_its_own_message(runtime: Runtime) -> None:
    await seed_case(runtime)
    runtime.intake.hooks.append(poison)
    before_batches = runtime.intake.batches
    msgs = [sms(i) for i in range(5)] + [sms(5, "POISON here")] + [sms(i) for i in range(6, 10)]
    outcomes = await asyncio.gather(
        *(runtime.intake.accept(m) for m in msgs), return_exceptions=True
    )
    assert runtime.intake.batches == before_batches + 1  # all ten shared one transaction
    assert isinstance(outcomes[5], StoreUnavailable)  # that sender is told to retry
    stored = [o for o in outcomes if isinstance(o, IntakeResult)]
    assert len(stored) == 9 and not any(o.duplicate for o in stored)
    assert len({o.message_id for o in stored}) == 9
    assert all(o.case_ref == "2026-0412" for o in stored)
    async with runtime.db.read() as s:
        sids = set((await s.execute(select(Message.provider_id))).scalars())
        received = (
            await s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "message.received")
            )
        ).scalar_one()
    assert sids == {m.provider_id for i, m in enumerate(msgs) if i != 5}
    assert received == 9  # the failed message's audit event went with its savepoint
    assert await count(runtime, QueueItem) == 9
    assert await count(runtime, BlockedSender) == 0
    # Its retry, once the fault is gone, is stored like any other message.
    runtime.intake.hooks.remove(poison)
    again = await runtime.intake.accept(msgs[5])
    assert not again.duplicate and await count(runtime, Message) == 10


async def test_a_retry_in_the_same_batch_is_stored_once(runtime: Runtime) -> None:
    await seed_case(runtime)
    before_batches = runtime.intake.batches
    msgs = [sms(1), sms(2), sms(1), sms(3), sms(1)]
    outcomes = await asyncio.gather(*(runtime.intake.accept(m) for m in msgs))
    assert runtime.intake.batches == before_batches + 1
    assert [o.duplicate for o in outcomes] == [False, False, True, False, True]
    assert outcomes[0].message_id == outcomes[2].message_id == outcomes[4].message_id
    assert await count(runtime, Message) == 3
    assert await count(runtime, QueueItem) == 3
    # A later retry of a committed message is answered as success too.
    later = await runtime.intake.accept(sms(2))
    assert later.duplicate and later.message_id == outcomes[1].message_id


async def test_a_failed_commit_answers_every_sender_with_a_temporary_error(
    runtime: Runtime,
) -> None:
    await seed_case(runtime)

    def dead_database() -> None:
        raise OSError("connection reset")

    runtime.db.fault = dead_database
    outcomes = await asyncio.gather(
        *(runtime.intake.accept(sms(i)) for i in range(4)), return_exceptions=True
    )
    assert all(isinstance(o, StoreUnavailable) for o in outcomes)
    runtime.db.fault = None
    assert await count(runtime, Message) == 0
    # The writer survives a failed batch.
    assert not (await runtime.intake.accept(sms(9))).duplicate


async def test_nobody_is_answered_before_the_commit(runtime: Runtime) -> None:
    """The answer arrives only once a separate connection can read the message."""
    await seed_case(runtime)

    async def visible(provider_id: str) -> bool:
        async with runtime.db.read() as s:
            row = (
                await s.execute(select(Message.id).where(Message.provider_id == provider_id))
            ).first()
        return row is not None

    results = await asyncio.gather(*(runtime.intake.accept(sms(i)) for i in range(8)))
    for i, _result in enumerate(results):
        assert await visible(sms(i).provider_id)


@pytest.mark.parametrize("batch", [1, 20])
async def test_statements_per_message(runtime: Runtime, batch: int) -> None:
    """Statements per stored SMS on a known sender's case, alone and in a batch of 20.

    A guard against the write path growing again (the figures are in docs/performance.md).
    """
    await seed_case(runtime)
    await runtime.intake.accept(sms(10**6))  # warm the pool and the caches
    with StatementCounter(runtime.db.engine) as counter:
        await asyncio.gather(*(runtime.intake.accept(sms(i)) for i in range(batch)))
    per_message = counter.count / batch
    # PostgreSQL chains the audit events after commit in a short transaction of its own.
    # Measured: 17 alone and 7.4 in a batch of 20 on SQLite (they were 20 and 13.7 before the
    # policy hooks read a batch at once and kept its caseworker rows in the session).
    limit = (18 if batch == 1 else 8) + (6 / batch if not runtime.db.is_sqlite else 0)
    assert per_message <= limit, counter.statements
