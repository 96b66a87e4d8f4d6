"""Readiness probes cost the same every time: /readyz is asked every few seconds by every
load balancer and orchestrator, and a probe must not grow `serve` or push the statements the
webhook and intake use out of the engine's statement cache."""

from __future__ import annotations

from gateway.storage.db import Database


async def test_asking_readiness_again_adds_nothing_to_the_statement_cache(db_url: str) -> None:
    db = Database(db_url)
    try:
        await db.migrate()
        assert await db.ready() == (True, "ok")
        cache = db.engine.sync_engine._compiled_cache
        assert cache is not None
        before = len(cache)
        for _ in range(30):
            assert await db.ready() == (True, "ok")
        assert len(cache) == before
    finally:
        await db.close()
