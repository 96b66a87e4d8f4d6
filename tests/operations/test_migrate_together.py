"""Several instances starting at once (replicas, ExecStartPre on two hosts) may all run
`migrate`: on PostgreSQL one migrates under an advisory lock, the others wait and find
nothing left to do. Without the lock they would race to create the same tables."""

from __future__ import annotations

import asyncio

from gateway.storage.db import Database


async def test_concurrent_migrations_on_one_database_all_succeed(pg_url: str) -> None:
    instances = [Database(pg_url) for _ in range(4)]
    try:
        revisions = await asyncio.gather(*(db.migrate() for db in instances))
        head = instances[0].head_revision()
        assert revisions == [head] * 4
        assert await instances[0].current_revision() == head
        assert (await instances[0].ready())[0]
    finally:
        for db in instances:
            await db.close()
