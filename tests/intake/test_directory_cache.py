"""Intake's cache of cases, contacts and blocked senders never answers from stale rows, even
when another process (another Database on the same store) changes them."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from gateway.intake import IntakeContext
from gateway.runtime import Runtime
from gateway.storage.db import Database, utcnow
from gateway.storage.models import BlockedSender, Case, Contact, Message
from tests.helpers import PARENT_PHONE, seed_case
from tests.intake.test_group_commit import sms


async def test_changes_by_another_process_are_seen_by_the_next_message(
    runtime: Runtime, db_url: str
) -> None:
    await seed_case(runtime)
    first = await runtime.intake.accept(sms(1))
    again = await runtime.intake.accept(sms(2))
    assert first.case_ref == again.case_ref == "2026-0412"
    assert runtime.intake.directory.hits > 0  # the second message was answered from the cache

    other = Database(db_url)  # another instance of the gateway on the same database
    try:
        async with other.transaction() as tx:
            tx.session.add(
                BlockedSender(
                    address=PARENT_PHONE, reason="threats", blocked_by="lead", created_at=utcnow()
                )
            )
        blocked = await runtime.intake.accept(sms(3))
        async with other.transaction() as tx:
            await tx.session.execute(update(Case).values(status="closed"))
        closed = await runtime.intake.accept(sms(4))
        async with other.transaction() as tx:
            await tx.session.execute(update(Case).values(status="open"))
            await tx.session.execute(update(Contact).values(phone="+4799999999"))
        moved = await runtime.intake.accept(sms(5))
    finally:
        await other.close()
    async with runtime.db.read() as s:
        flags = (
            await s.execute(select(Message.flags).where(Message.id == blocked.message_id))
        ).scalar_one()
    assert flags.get("blocked_sender") is True
    assert closed.case_ref is None and closed.triage_reason is not None  # no open case now
    assert moved.case_ref is None  # the number no longer belongs to the family


async def test_a_change_made_inside_a_batch_is_seen_by_the_next_message_of_that_batch(
    runtime: Runtime,
) -> None:
    await seed_case(runtime)
    await runtime.intake.accept(sms(1))  # fills the cache

    async def close_the_case(ctx: IntakeContext) -> None:
        if "LUKK" in ctx.inbound.text:
            await ctx.tx.session.execute(update(Case).values(status="closed"))

    runtime.intake.hooks.append(close_the_case)
    before = runtime.intake.batches
    closing, after = await asyncio.gather(
        runtime.intake.accept(sms(2, "LUKK saken")), runtime.intake.accept(sms(3))
    )
    assert runtime.intake.batches == before + 1
    assert closing.case_ref == "2026-0412"
    assert after.case_ref is None  # same transaction, after the change: triage
