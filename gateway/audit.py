"""`case-gateway audit verify` and the audit sequencer worker.

``verify`` walks the hash chain and names the first broken event; events committed but not yet
chained (PostgreSQL: the sequencer runs right after each commit, and a crash can leave a tail)
are reported, not counted as a break.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from sqlalchemy import select

from gateway.core.audit_chain import AuditRecord, ChainVerdict, verify_chain
from gateway.storage.db import Database, audit_records
from gateway.storage.models import AuditHead
from gateway.workers import poll_until_stopped

SWEEP_SECONDS = 2.0


async def verify_database(db: Database) -> ChainVerdict:
    async with db.read() as s:
        head = (
            await s.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))
        ).first()
        records: list[AuditRecord] = [r async for r in audit_records(s)]
    return verify_chain(records, (head[0], head[1]) if head else None)


async def verify(url: str, out: TextIO) -> int:
    db = Database(url)
    try:
        verdict = await verify_database(db)
        pending = await db.pending_audit()
    finally:
        await db.close()
    tail = (
        f"; {pending} newer events are not sequenced yet (the sequencer chains them shortly)"
        if pending
        else ""
    )
    if verdict.ok:
        print(f"audit chain OK: {verdict.verified} events verified{tail}", file=out)
        return 0
    print(
        f"audit chain BROKEN at event {verdict.first_broken_seq}: {verdict.problem} "
        f"({verdict.verified} events verified before it){tail}",
        file=out,
    )
    return 1


class AuditSequencer:
    """Chains audit events that a crash or a brief database failure left pending.

    Each transaction on PostgreSQL chains its own events right after commit; this worker only
    sweeps up what that missed, so it polls slowly. On SQLite nothing is ever pending.
    """

    def __init__(self, db: Database, poll_seconds: float = SWEEP_SECONDS) -> None:
        self.db = db
        self.poll_seconds = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        await poll_until_stopped("audit-sequencer", self.run_once, stop, self.poll_seconds)

    async def run_once(self) -> int:
        """Chain what is pending; 0 when nothing was (the loop then sleeps a poll interval)."""
        if self.db.is_sqlite:
            return 0
        # The loop runs again at once after work; say 0 so a steady trickle does not spin.
        await self.db.sequence_audit()
        return 0
