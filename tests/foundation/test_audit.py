"""The audit hash chain: verified end to end, tampering named, concurrent writers never fork it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import delete, select, update

from gateway.audit import verify, verify_database
from gateway.core.audit_chain import GENESIS_HASH, AuditRecord, canonical, chain_hash, verify_chain
from gateway.storage.db import Database, StatementCounter
from gateway.storage.models import AuditEvent


def build_chain(n: int) -> list[AuditRecord]:
    out, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        at = f"2026-11-21T10:00:{seq:02d}.000000+00:00"
        h = chain_hash(
            prev, canonical(seq, at, "system", "message.received", f"message:{seq}", {"n": seq})
        )
        out.append(
            AuditRecord(
                seq, at, "system", "message.received", f"message:{seq}", {"n": seq}, prev, h
            )
        )
        prev = h
    return out


def test_intact_chain_verifies() -> None:
    chain = build_chain(5)
    assert verify_chain(chain, (5, chain[-1].hash)).ok


@pytest.mark.parametrize(
    ("mutate", "broken_at", "words"),
    [
        (
            lambda c: c.__setitem__(2, AuditRecord(**{**c[2].__dict__, "details": {"n": 99}})),
            3,
            "altered",
        ),
        (lambda c: c.pop(1), 2, "missing"),
        (lambda c: c.__setitem__(slice(1, 3), [c[2], c[1]]), 2, "missing"),
        (lambda c: c.pop(), 5, "missing"),
    ],
    ids=["altered", "removed", "reordered", "tail-removed"],
)
def test_tampering_is_named(mutate, broken_at: int, words: str) -> None:  # type: ignore[no-untyped-def]
    chain = build_chain(5)
    head = (5, chain[-1].hash)
    mutate(chain)
    verdict = verify_chain(chain, head)
    assert not verdict.ok
    assert verdict.first_broken_seq == broken_at
    assert words in verdict.problem


async def write_events(db: Database, n: int, actor: str) -> None:
    for i in range(n):
        async with db.transaction() as tx:
            tx.audit(actor, "test.event", f"item:{i}", i=i)


async def test_chain_in_database_and_tamper_detection(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(db_url)
    await db.migrate()
    await write_events(db, 10, "a")
    assert (await verify_database(db)).verified == 10
    assert await verify(db_url, sys.stdout) == 0
    assert "10 events verified" in capsys.readouterr().out
    async with db.transaction() as tx:
        await tx.session.execute(
            update(AuditEvent).where(AuditEvent.seq == 4).values(actor="mallory")
        )
    assert await verify(db_url, sys.stdout) == 1
    assert "BROKEN at event 4" in capsys.readouterr().out
    async with db.transaction() as tx:
        await tx.session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(actor="a"))
        await tx.session.execute(delete(AuditEvent).where(AuditEvent.seq == 7))
    assert await verify(db_url, sys.stdout) == 1
    assert "BROKEN at event 7" in capsys.readouterr().out
    await db.close()


async def test_concurrent_writers_in_one_process_keep_one_chain(db_url: str) -> None:
    db = Database(db_url)
    await db.migrate()
    await asyncio.gather(*(write_events(db, 15, f"w{k}") for k in range(4)))
    verdict = await verify_database(db)
    assert verdict.ok and verdict.verified == 60
    await db.close()


async def test_chain_continues_when_someone_else_moved_the_head(db_url: str) -> None:
    """Each process chains on from the head it last wrote without reading it; when another
    instance (or a transaction of its own that rolled back) moved it, it reads it instead."""
    first, second = Database(db_url), Database(db_url)
    await first.migrate()
    for i in range(3):
        for db in (first, second, first):
            async with db.transaction() as tx:
                tx.audit("system", "test.event", f"item:{i}", i=i)
        # As a transaction of its own leaves it when it rolls back after chaining its events.
        assert first.audit_head.seq is not None
        first.audit_head.seq += 1
        first.audit_head.hash = "0" * 64
    for db in (first, second):
        await db.sequence_audit()
    verdict = await verify_database(first)
    assert verdict.ok, verdict.problem
    assert verdict.verified == 9
    await first.close()
    await second.close()


async def test_a_transaction_chains_its_events_on_the_head_it_wrote_last(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: the head is moved on from where this process left it (one statement), not
    read first; a head moved by another writer is read (as before)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/head.db"
    db, other = Database(url), Database(url)
    await db.migrate()

    async def statements(writer: Database) -> list[str]:
        with StatementCounter(writer.engine) as counter:
            async with writer.transaction() as tx:
                tx.audit("system", "test.event", "item:1")
        return [s.split()[0] + " " + s.split()[1] for s in counter.statements if "audit_" in s]

    await statements(db)  # the first one reads the head
    assert await statements(db) == ["UPDATE audit_head", "INSERT INTO"]
    await statements(other)  # moves the head under db's feet
    assert await statements(db) == [
        "UPDATE audit_head",
        "SELECT audit_head.seq,",
        "INSERT INTO",
        "UPDATE audit_head",
    ]
    verdict = await verify_database(db)
    assert verdict.ok and verdict.verified == 4
    await db.close()
    await other.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from gateway.storage.db import Database, StatementCounter
    async def main(url, actor, n):
        db = Database(url)
        for i in range(n):
            async with db.transaction() as tx:
                tx.audit(actor, "test.event", f"item:{i}", i=i)
        await db.close()
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def test_two_processes_writing_to_postgresql_keep_one_chain(pg_url: str) -> None:
    db = Database(pg_url)
    await db.migrate()
    env = dict(os.environ)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, pg_url, f"proc{k}", "40", env=env
        )
        for k in range(2)
    ]
    codes = [await p.wait() for p in procs]
    assert codes == [0, 0]
    verdict = await verify_database(db)
    assert verdict.ok, verdict.problem
    assert verdict.verified == 80
    async with db.read() as s:
        actors = (await s.execute(select(AuditEvent.actor))).scalars().all()
    assert sorted(set(actors)) == ["proc0", "proc1"]
    await db.close()


def test_subprocess_helper_is_importable() -> None:
    # the writer script above must run against the installed package
    assert (
        subprocess.run([sys.executable, "-c", "import gateway.storage.db"], check=False).returncode
        == 0
    )
