"""The audit chain without a lock every writer waits on (invariant 4).

On PostgreSQL transactions write their events unsequenced and the sequencer chains them right
after commit, one sequencer at a time across processes; a crash in between leaves them pending,
never lost, and ``audit verify`` says so.
"""

from __future__ import annotations

import asyncio
import io
import sys

import pytest
from sqlalchemy import func, select

from gateway.audit import AuditSequencer, verify, verify_database
from gateway.storage.db import Database, StoreUnavailable
from gateway.storage.models import AuditEvent, AuditPending, Message

WRITERS = 2
PER_WRITER = 200


async def test_two_processes_writing_at_once_leave_one_unbroken_chain(pg_url: str) -> None:
    db = Database(pg_url)
    await db.migrate()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.intake.concurrent_writer",
            pg_url,
            f"w{n}",
            str(PER_WRITER),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(WRITERS)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0 and out.strip().endswith(b"done"), err.decode()[-2000:]
    verdict = await verify_database(db)
    async with db.read() as s:
        messages = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
        by_actor = dict(
            (
                await s.execute(
                    select(AuditEvent.actor, func.count())
                    .where(AuditEvent.action == "test.action")
                    .group_by(AuditEvent.actor)
                )
            ).all()
        )
    await db.close()
    assert messages == WRITERS * PER_WRITER
    assert by_actor == {f"writer-w{n}": PER_WRITER for n in range(WRITERS)}
    assert verdict.ok, verdict.problem
    # Every message's event plus every action's event, each exactly once in the chain.
    assert verdict.verified >= WRITERS * PER_WRITER * 2


async def test_events_left_by_a_crash_are_chained_by_the_worker(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(pg_url)
    await db.migrate()
    async with db.transaction() as tx:
        tx.audit("a", "test.before", "thing:0")

    async def crashed() -> int:
        raise StoreUnavailable("the process died right after its commit")

    monkeypatch.setattr(db, "sequence_audit", crashed)
    for i in range(3):
        async with db.transaction() as tx:  # the caller still succeeds: its change is committed
            tx.audit("a", "test.after", f"thing:{i}")
    monkeypatch.undo()
    assert await db.pending_audit() == 3
    out = io.StringIO()
    assert await verify(pg_url, out) == 0
    assert "1 events verified; 3 newer events are not sequenced yet" in out.getvalue()
    assert await AuditSequencer(db).run_once() == 0
    assert await db.pending_audit() == 0
    verdict = await verify_database(db)
    async with db.read() as s:
        actions = (await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))).all()
        left = (await s.execute(select(func.count()).select_from(AuditPending))).scalar_one()
    await db.close()
    assert verdict.ok and verdict.verified == 4 and left == 0
    assert [a for (a,) in actions] == ["test.before"] + ["test.after"] * 3


async def test_sqlite_chains_in_the_writing_transaction(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    await db.migrate()
    async with db.transaction() as tx:
        tx.audit("a", "test.action", "thing:1")
    assert await db.pending_audit() == 0
    assert (await verify_database(db)).verified == 1
    await db.close()
