"""`case-gateway audit verify`: walk the hash chain and name the first broken event."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import select

from gateway.core.audit_chain import AuditRecord, ChainVerdict, verify_chain
from gateway.storage.db import Database, audit_records
from gateway.storage.models import AuditHead


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
    finally:
        await db.close()
    if verdict.ok:
        print(f"audit chain OK: {verdict.verified} events verified", file=out)
        return 0
    print(
        f"audit chain BROKEN at event {verdict.first_broken_seq}: {verdict.problem} "
        f"({verdict.verified} events verified before it)",
        file=out,
    )
    return 1
