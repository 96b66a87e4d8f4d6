"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs every call on the connection's own thread, and SQLAlchemy's adapter makes
several calls per statement: open a cursor, execute, fetch the rows, close the cursor. Each is
a hand-over to that thread and back, and under load each hand-over also waits for the
interpreter lock: profiling ``serve`` under wrk showed the event loop spending more time in
these hand-overs than in the statements themselves. Here the cursor does all four in one
call on the thread and keeps the rows; fetching them afterwards costs nothing.

Statements that only open or close a transaction or savepoint (``BEGIN IMMEDIATE``,
``SAVEPOINT``, ``RELEASE SAVEPOINT``) answer nothing and fail only when the connection itself
is unusable, so they wait and ride with the next trip: the next statement (run after them, in
order), or the commit. Intake writes each message in its own savepoint, so a message in a batch
costs two trips fewer (and a transaction one). A failure of a waiting statement is raised by the
trip that carries it, before the statements after it run; a rollback drops what waits (a
transaction or savepoint that wrote nothing has nothing to undo).

A write may ride along too when its caller marks it (``RIDES_WITH_NEXT``, a comment after
``INSERT``) and guarantees that the next statement belongs to the same savepoint, so that a
failure of the write fails that statement, which undoes both: intake's sealed original rides
with the message that points at it.

Nothing else changes: the same sqlite3 connection, statements, errors and transactions.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Sequence
from typing import Any

import aiosqlite

# Statements with no answer and no effect until the next one runs: sent with that one.
_RIDES_ALONG = re.compile(r"(BEGIN IMMEDIATE|SAVEPOINT \S+|RELEASE SAVEPOINT \S+)\s*")
# A write whose caller needs no answer from it and runs the next statement in its savepoint.
RIDES_WITH_NEXT = "/* rides with the next statement */"
_RIDING_WRITE = "INSERT " + RIDES_WITH_NEXT


class OneTripCursor:
    """The cursor SQLAlchemy's aiosqlite adapter uses, answering from rows read in one trip."""

    arraysize = 1

    def __init__(self, owner: OneTripConnection) -> None:
        self._owner = owner
        self._connection = owner._inner
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    def __await__(self) -> Generator[Any, None, OneTripCursor]:  # ``await connection.cursor()``
        async def opened() -> OneTripCursor:
            return self

        return opened().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows = []

    async def _run(self, many: bool, sql: str, parameters: Any) -> OneTripCursor:
        if not many and (
            (not parameters and _RIDES_ALONG.fullmatch(sql)) or sql.startswith(_RIDING_WRITE)
        ):
            self._owner.waiting.append((sql, parameters))
            self._rows, self.description, self.rowcount, self.lastrowid = [], None, -1, None
            return self
        raw = self._connection._conn
        waiting = self._owner.take_waiting()

        def statement() -> tuple[list[Any], Any, int, int | None]:
            cursor = raw.cursor()
            try:
                for earlier, earlier_parameters in waiting:
                    cursor.execute(earlier, earlier_parameters or ())
                if many:
                    cursor.executemany(sql, parameters)
                elif parameters is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                return rows, cursor.description, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        found = await self._connection._execute(statement)
        self._rows, self.description, self.rowcount, self.lastrowid = found
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return await self._run(False, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        return await self._run(True, sql, parameters)

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = size or self.arraysize
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class OneTripConnection:
    """An aiosqlite connection whose cursors make one trip per statement."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._inner = connection
        # Statements that ride with the next trip, in order, with their parameters.
        self.waiting: list[tuple[str, Any]] = []

    def take_waiting(self) -> list[tuple[str, Any]]:
        waiting, self.waiting = self.waiting, []
        return waiting

    def cursor(self) -> OneTripCursor:
        return OneTripCursor(self)

    async def commit(self) -> None:
        """What waits, then the commit: one trip."""
        waiting, raw = self.take_waiting(), self._inner._conn

        def commit() -> None:
            for earlier, earlier_parameters in waiting:
                raw.execute(earlier, earlier_parameters or ())
            raw.commit()

        await self._inner._execute(commit)

    async def rollback(self) -> None:
        """What waits is dropped: it opened nothing that wrote."""
        self.waiting = []
        await self._inner.rollback()

    async def close(self) -> None:
        self.waiting = []
        await self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def connect(database: Any, **kwargs: Any) -> OneTripConnection:
    """What SQLAlchemy's aiosqlite dialect calls to open a connection (``async_creator_fn``)."""
    connection = aiosqlite.connect(database, **kwargs)
    # As SQLAlchemy does for its own aiosqlite connections: the thread never keeps the
    # process alive (before aiosqlite 0.22 the connection was itself the thread).
    thread: Any = getattr(connection, "_thread", connection)
    thread.daemon = True
    return OneTripConnection(await connection)
