"""SQLite: statements that only open a transaction or a savepoint, or release one, ride with the
next trip to the database thread (``gateway/storage/sqlite_driver.py``).

Intake writes each message of a batch in its own savepoint; these prove the savepoints still
behave as savepoints (a failing message is undone alone, what came before it stays) while a
batch makes fewer trips to the thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from gateway.runtime import Runtime
from gateway.storage.db import Database, StatementCounter
from gateway.storage.models import Message, SealedOriginal
from tests.helpers import seed_case
from tests.intake.test_group_commit import sms


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every trip to an aiosqlite thread, by the name of what it ran."""
    made: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield made


async def make_table(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.session.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, k TEXT UNIQUE)"))


async def notes(db: Database) -> list[str]:
    async with db.read() as s:
        return [r[0] for r in (await s.execute(text("SELECT k FROM note ORDER BY id"))).all()]


async def test_savepoints_ride_along_and_still_undo_only_their_own_writes(
    sqlite_url: str, trips: list[str]
) -> None:
    db = Database(sqlite_url)
    try:
        await make_table(db)
        await notes(db)  # the connection is open: only the transaction's trips count below
        trips.clear()
        async with db.transaction() as tx:
            s = tx.session
            async with s.begin_nested():
                await s.execute(text("INSERT INTO note (k) VALUES ('first')"))
            with pytest.raises(IntegrityError):
                async with s.begin_nested():
                    await s.execute(text("INSERT INTO note (k) VALUES ('second')"))
                    await s.execute(text("INSERT INTO note (k) VALUES ('first')"))
            async with s.begin_nested():
                await s.execute(text("INSERT INTO note (k) VALUES ('third')"))
        # BEGIN + SAVEPOINT + INSERT; RELEASE + SAVEPOINT + INSERT; the failing INSERT;
        # ROLLBACK TO; RELEASE + SAVEPOINT + INSERT; RELEASE + COMMIT.
        assert trips[:6] == ["statement"] * 5 + ["commit"], trips
        assert await notes(db) == ["first", "third"]
    finally:
        await db.close()


async def test_a_transaction_that_writes_nothing_commits_and_rolls_back(
    sqlite_url: str, trips: list[str]
) -> None:
    db = Database(sqlite_url)
    try:
        await make_table(db)
        await notes(db)
        trips.clear()
        async with db.transaction() as tx:
            await tx.session.execute(text("INSERT INTO note (k) VALUES ('one')"))
            async with tx.session.begin_nested():
                pass
        # BEGIN went with the INSERT; SAVEPOINT and RELEASE with the commit.
        assert trips[:2] == ["statement", "commit"], trips

        class Undo(Exception):
            pass

        with pytest.raises(Undo):
            async with db.transaction() as tx:
                await tx.session.execute(text("INSERT INTO note (k) VALUES ('gone')"))
                async with tx.session.begin_nested():
                    raise Undo
        async with db.transaction() as tx:
            await tx.session.execute(text("INSERT INTO note (k) VALUES ('kept')"))
        assert await notes(db) == ["one", "kept"]
    finally:
        await db.close()


async def test_a_batch_makes_two_trips_fewer_per_message_than_statements(
    tmp_path: Any, trips: list[str]
) -> None:
    from gateway.runtime import build_runtime
    from gateway.sealing import new_key_line, parse_keys
    from tests.conftest import make_settings

    rt: Runtime = build_runtime(
        make_settings(f"sqlite+aiosqlite:///{tmp_path}/trips.db"),
        senders={},
        keyring=parse_keys(new_key_line("t")),
    )
    try:
        await rt.db.migrate()
        await seed_case(rt)
        await rt.intake.accept(sms(10_000))  # the caches and the connection are warm
        batches = rt.intake.batches
        trips.clear()
        with StatementCounter(rt.db.engine) as counter:
            results = await asyncio.gather(*(rt.intake.accept(sms(i)) for i in range(20)))
        assert all(not r.duplicate for r in results)
        assert rt.intake.batches == batches + 1
        # Each message's SAVEPOINT, RELEASE and sealed original, and the batch's BEGIN, ride
        # along; every other statement, and the commit, is a trip of its own.
        made = [t for t in trips if t in ("statement", "commit")]
        assert len(made) == counter.count - 3 * 20 - 1, trips
    finally:
        await rt.close()


async def test_each_message_points_at_its_own_original_and_a_retry_leaves_none_behind(
    runtime: Runtime,
) -> None:
    """The original rides with the message's INSERT, which takes its id from it: every message
    must point at its own bytes, and a message undone (a retry of one committed before, caught
    by the UNIQUE constraint on its INSERT) must take its original with it."""
    await seed_case(runtime)
    first = [sms(i, f"Melding nummer {i}") for i in range(8)]
    await asyncio.gather(*(runtime.intake.accept(m) for m in first))
    again = await asyncio.gather(
        *(runtime.intake.accept(m) for m in [*first[:3], sms(8, "Ny melding")])
    )
    assert [r.duplicate for r in again] == [True, True, True, False]
    async with runtime.db.read() as s:
        rows = (
            await s.execute(
                select(Message.provider_id, SealedOriginal.sha256)
                .join(SealedOriginal, SealedOriginal.id == Message.sealed_id)
                .where(Message.direction == "in")
            )
        ).all()
        originals = (await s.execute(select(func.count()).select_from(SealedOriginal))).scalar_one()
    expected = {
        m.provider_id: hashlib.sha256(m.raw).hexdigest() for m in [*first, sms(8, "Ny melding")]
    }
    assert dict((r[0], r[1]) for r in rows) == expected
    assert originals == len(expected)
