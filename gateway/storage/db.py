"""The database: engine set-up for SQLite and PostgreSQL, transactions that carry their audit
events, migrations and readiness.

Every write goes through :meth:`Database.transaction`. Audit events collected during the
transaction are written with it (invariant 4). On SQLite every transaction starts with
``BEGIN IMMEDIATE``, which serialises writers across processes, so each transaction chains its
own events just before commit. On PostgreSQL writers never wait on a shared lock: events are
written unsequenced (``audit_pending``) and, right after the commit, the sequencer (one at a
time across processes, by an advisory lock) assigns ``seq`` and ``hash`` to everything pending,
in one short transaction. A crash between the two leaves the events pending, never lost: the
sequencer worker of any running instance picks them up.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    String,
    Table,
    any_,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import ColumnElement

from gateway.core.audit_chain import AuditRecord, canonical, chain_hash
from gateway.storage import sqlite_driver
from gateway.storage.models import AuditEvent, AuditHead, AuditPending, Message

MIGRATIONS = Path(__file__).parent / "migrations"
RowT = TypeVar("RowT")
# pg_advisory_xact_lock key of the audit sequencer ("audit seq" in ASCII, fits a bigint).
SEQUENCER_LOCK = 0x6175646974736571
SEQUENCE_BATCH = 2000
SQLITE_BUSY_SECONDS = 10.0  # as PRAGMA busy_timeout below

log = structlog.get_logger("gateway.storage")
# Tables whose rows intake caches (gateway/intake_cache.py): any write to them bumps
# directory_version in the same transaction, and the process's own generation at once.
DIRECTORY_TABLES = frozenset({"case_file", "contact", "user_account", "blocked_sender"})
_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)', re.I
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class StoreUnavailable(Exception):
    """The database failed; callers answer a temporary error so the sender retries."""


def _now_text() -> str:
    return utcnow().isoformat(timespec="microseconds")


@dataclass
class PendingAudit:
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    at: str = field(default_factory=_now_text)  # when it happened, not when it was chained


@dataclass
class Tx:
    """A unit of work: the session plus the audit events it will commit with."""

    session: AsyncSession
    events: list[PendingAudit] = field(default_factory=list)
    # Outbound messages queued in this transaction (``enqueue_outbound``), so a look-up made
    # before them (an intake batch's) can add them; cut back with a rolled-back savepoint.
    queued_outbound: list[Message] = field(default_factory=list)

    def audit(self, actor: str, action: str, subject: str, **details: Any) -> None:
        """Record a state change; it is written in this same transaction."""
        self.events.append(PendingAudit(actor, action, subject, details))


def create_private_file(path: str) -> None:
    """Create the SQLite file readable by the service's user only (0600), whatever the umask.

    SQLite gives its -wal and -shm files the database file's mode, so they follow. An
    existing file is left as the operator made it.
    """
    file_path = path.split("?", 1)[0]
    try:
        fd = os.open(file_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # an unusable path is reported by the engine with its own message
    os.fchmod(fd, 0o600)
    os.close(fd)


class StatementCounter:
    """Counts the SQL statements an engine sends (``with StatementCounter(db.engine) as c``).

    The benchmarks and tests use it to keep the intake's statements per message from creeping up.
    Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) counts as statements too.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.count += 1
        self.statements.append(statement)

    def _on_control(self, _conn: Any) -> None:
        self.count += 1
        self.statements.append("COMMIT/ROLLBACK")

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        for name in ("commit", "rollback"):
            event.listen(self.engine, name, self._on_control)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        for name in ("commit", "rollback"):
            event.remove(self.engine, name, self._on_control)


def _watch_directory(db: Database) -> None:
    """Bump the directory version with every write to a table that intake caches, whoever
    writes it (API, import, policy hooks, raw SQL), so caches are never stale."""

    @event.listens_for(db.engine.sync_engine, "after_cursor_execute")
    def _after(conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        found = _WRITE.match(statement)
        if found is None or found.group(1).lower() not in DIRECTORY_TABLES:
            return
        db.directory_generation += 1
        conn.exec_driver_sql("UPDATE directory_version SET version = version + 1 WHERE id = 1")


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can BEGIN IMMEDIATE ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# PostgreSQL advisory lock key held while migrating ("cgmigrat" as a 64-bit number).
MIGRATE_LOCK = int.from_bytes(b"cgmigrat", "big") & 0x7FFF_FFFF_FFFF_FFFF


class Database:
    """Owns the engine; ``fail_next`` lets tests make the store fail like a dead database."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Parameters are message content: never in SQL logs (echo) or error texts.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                create_private_file(path)
            # One trip to aiosqlite's thread per statement (gateway/storage/sqlite_driver.py).
            kwargs["connect_args"] = {"async_creator_fn": sqlite_driver.connect}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.fault: Callable[[], None] | None = None
        # SQLite has one writer at a time. This process's writers take turns here, first come
        # first served, rather than in SQLite's busy handler, where a writer that commits and
        # begins again at once can starve another for longer than busy_timeout.
        self._write_turn: asyncio.Lock | None = None
        self._write_turn_loop: asyncio.AbstractEventLoop | None = None
        self._turn_holder: asyncio.Task[Any] | None = None
        self.directory_generation = 0  # bumped by every write to DIRECTORY_TABLES here
        self.audit_head = AuditHeadSeen()  # the chain's head as this process last wrote it
        _watch_directory(self)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit: everything written here and its audit events commit together.

        On PostgreSQL the events are chained right after the commit, before this returns; if
        that fails they stay pending for the sequencer worker, and the caller still succeeds
        (its change is committed).
        """
        staged = False
        try:
            async with self._turn(), self.sessions() as session, session.begin():
                tx = Tx(session)
                yield tx
                if self.fault is not None:
                    self.fault()
                if tx.events:
                    if self.is_sqlite:
                        await append_audit(session, tx.events, self.audit_head)
                    else:
                        await stage_audit(session, tx.events)
                        staged = True
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc.__class__.__name__)) from exc
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if staged:
            try:
                await self.sequence_audit()
            except StoreUnavailable as exc:
                log.warning("audit.sequencing_deferred", error=str(exc))

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """On SQLite, wait for this process's write turn (as long as busy_timeout at most).

        A transaction opened inside another one of the same task shares its turn (it begins in
        SQLite only when it first executes, as before)."""
        task = asyncio.current_task()
        if not self.is_sqlite or (task is not None and task is self._turn_holder):
            yield
            return
        loop = asyncio.get_running_loop()
        if self._write_turn is None or self._write_turn_loop is not loop:
            self._write_turn, self._write_turn_loop = asyncio.Lock(), loop
        turn = self._write_turn
        acquiring = asyncio.ensure_future(turn.acquire())
        try:
            done, _ = await asyncio.wait({acquiring}, timeout=SQLITE_BUSY_SECONDS)
        except BaseException:  # cancelled while waiting for the turn
            _give_up(turn, acquiring)
            raise
        if not done:
            _give_up(turn, acquiring)
            raise StoreUnavailable("database busy")
        self._turn_holder = task
        try:
            yield
        finally:
            self._turn_holder = None
            turn.release()

    async def sequence_audit(self) -> int:
        """Chain every pending audit event; returns how many. One sequencer at a time.

        Several processes may call this at once: the advisory lock lets one work while the
        others wait, and a waiter then finds that the holder has already chained its events.
        """
        try:
            return await self._sequence_pending()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(exc.__class__.__name__) from exc

    async def _sequence_pending(self) -> int:
        total = 0
        while True:
            # A Core connection, no ORM session: nothing here needs one.
            async with self.engine.begin() as session:
                if not self.is_sqlite:
                    await session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK}
                    )
                # Taken out and read back in one statement (the chain is written in the same
                # transaction, so a failure puts them back); RETURNING keeps no order.
                oldest = (
                    select(AuditPending.id)
                    .order_by(AuditPending.id)
                    .limit(SEQUENCE_BATCH)
                    .scalar_subquery()
                )
                pending = AuditPending.__table__
                assert isinstance(pending, Table)
                rows = sorted(
                    (
                        await session.execute(
                            delete(pending)
                            .where(pending.c.id.in_(oldest))
                            .returning(
                                pending.c.id,
                                pending.c.at,
                                pending.c.actor,
                                pending.c.action,
                                pending.c.subject,
                                pending.c.details,
                            )
                        )
                    ).all(),
                    key=lambda r: int(r.id),
                )
                if not rows:
                    return total
                await append_audit(
                    session,
                    [
                        PendingAudit(r.actor, r.action, r.subject, dict(r.details), r.at)
                        for r in rows
                    ],
                    self.audit_head,
                )
            total += len(rows)
            if len(rows) < SEQUENCE_BATCH:
                return total

    async def pending_audit(self) -> int:
        """How many committed audit events the sequencer has not chained yet."""
        async with self.read() as s:
            return int(
                (await s.execute(select(func.count()).select_from(AuditPending))).scalar_one()
            )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self.sessions() as session:
                yield session
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(exc.__class__.__name__) from exc

    # --- schema -------------------------------------------------------------------------
    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    async def migrate(self) -> str:
        """Upgrade to the newest schema; returns the revision now current."""
        cfg = self._alembic_config()

        def upgrade(conn: Connection) -> None:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Several instances may start (and migrate) at once: one migrates, the others
                # wait here until it commits and then find nothing left to do.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK}
                )
            await conn.run_sync(upgrade)
        return self.head_revision()

    def head_revision(self) -> str:
        return _head_revision(str(MIGRATIONS))

    async def current_revision(self) -> str | None:
        def current(conn: Connection) -> str | None:
            # Alembic builds its version table anew for every context, so each look-up was a
            # new statement to SQLAlchemy: compiled again and kept in the engine's statement
            # cache (10 KB each, up to 500 of them), pushing out the statements intake and the
            # webhook use. /readyz asks on every probe: not cached.
            uncached = conn.execution_options(compiled_cache=None)
            return MigrationContext.configure(uncached).get_current_revision()

        async with self.engine.connect() as conn:
            return await conn.run_sync(current)

    async def ready(self) -> tuple[bool, str]:
        """Reachable and migrated to the newest revision."""
        try:
            current = await asyncio.wait_for(self.current_revision(), timeout=5)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            return False, f"database unreachable ({exc.__class__.__name__})"
        head = self.head_revision()
        if current != head:
            return (
                False,
                f"database schema at {current or 'nothing'}, expected {head}: run `case-gateway migrate`",
            )
        return True, "ok"


@functools.cache
def _head_revision(script_location: str) -> str:
    """The newest migration this code ships, read once per process.

    Reading it loads every migration script (15 ms of CPU on the event loop here), and
    ``/readyz`` asks on every probe. The scripts cannot change under the running code."""
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def _give_up(turn: asyncio.Lock, acquiring: asyncio.Future[Any]) -> None:
    """Stop waiting for the write turn; hand it on if it was granted just now."""
    if not acquiring.done():
        acquiring.cancel()
    elif not acquiring.cancelled() and acquiring.exception() is None:
        turn.release()


async def stage_audit(session: AsyncSession, events: list[PendingAudit]) -> None:
    """Write ``events`` unsequenced, in the caller's transaction (one multi-row INSERT)."""
    await session.execute(
        insert(_table(AuditPending)),
        [
            {
                "at": ev.at,
                "actor": ev.actor,
                "action": ev.action,
                "subject": ev.subject,
                "details": ev.details,
            }
            for ev in events
        ],
    )


@dataclass
class AuditHeadSeen:
    """The audit chain's head as this process last wrote it, to chain the next events on
    without reading it first. Only a hint: the head is moved only if it is still exactly
    this (``UPDATE … WHERE seq = … AND hash = …``), else read and chained as before."""

    seq: int | None = None
    hash: str = ""


_HEAD_MOVE = (
    update(AuditHead.__table__)  # type: ignore[arg-type]
    .where(
        AuditHead.__table__.c.id == 1,
        AuditHead.__table__.c.seq == bindparam("was_seq"),
        AuditHead.__table__.c.hash == bindparam("was_hash"),
    )
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


async def append_audit(
    session: AsyncSession | AsyncConnection,
    events: list[PendingAudit],
    seen: AuditHeadSeen | None = None,
) -> None:
    """Chain ``events`` after the current head (the head row lock keeps the chain unforked).

    With ``seen`` (the head this process wrote last), one statement fewer: the head is moved
    on from there only if it is still there, which also takes its row lock; if anyone else
    moved it (another process, a rolled-back transaction of ours), it is read under lock
    and the events chained after what is really there.
    """
    # Core statements on the tables, not ORM ones: the ORM's bulk paths (an INSERT of a list,
    # an UPDATE that synchronises the session) cost more than the statements, and every
    # transaction on SQLite, every sequencing on PostgreSQL, runs these.
    head_table = _table(AuditHead)
    if seen is not None and seen.seq is not None:
        rows, seq, last = _chained(seen.seq, seen.hash, events)
        moved = await session.execute(
            _HEAD_MOVE,
            {"was_seq": seen.seq, "was_hash": seen.hash, "new_seq": seq, "new_hash": last},
        )
        if getattr(moved, "rowcount", 0) == 1:
            await session.execute(insert(_table(AuditEvent)), rows)
            seen.seq, seen.hash = seq, last
            return
    head = (
        await session.execute(
            select(head_table.c.seq, head_table.c.hash)
            .where(head_table.c.id == 1)
            .with_for_update()
        )
    ).one()
    rows, seq, last = _chained(int(head[0]), str(head[1]), events)
    await session.execute(insert(_table(AuditEvent)), rows)
    await session.execute(update(head_table).where(head_table.c.id == 1).values(seq=seq, hash=last))
    if seen is not None:
        seen.seq, seen.hash = seq, last


def _chained(
    seq: int, prev: str, events: list[PendingAudit]
) -> tuple[list[dict[str, Any]], int, str]:
    """The audit rows of ``events`` chained after (seq, prev), and the new head."""
    rows: list[dict[str, Any]] = []
    for ev in events:
        seq += 1
        digest = chain_hash(
            prev, canonical(seq, ev.at, ev.actor, ev.action, ev.subject, ev.details)
        )
        rows.append(
            {
                "seq": seq,
                "at": ev.at,
                "actor": ev.actor,
                "action": ev.action,
                "subject": ev.subject,
                "details": ev.details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows, seq, prev


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_INSERTS: dict[Table, Insert] = {}
_INSERT_COLUMNS: dict[Table, tuple[str, ...]] = {}


def inserting(table: Table) -> Insert:
    """``INSERT INTO table (every column but id) VALUES (…) RETURNING id``, built once.

    Executed with the row as parameters (``session.execute(inserting(t), row)``) rather than
    built with ``.values(**row)`` per row: that coerced every value into a literal bound
    parameter and computed the statement's cache key anew each time, which cost more CPU than
    executing the statement. SQLAlchemy compiles it once per set of parameter names, so
    callers pass every column but id (None for a NULL) and one compiled form serves all.
    """
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = insert(table).returning(table.c.id)
    return stmt


def _insert_columns(table: Table) -> tuple[str, ...]:
    found = _INSERT_COLUMNS.get(table)
    if found is None:
        found = _INSERT_COLUMNS[table] = tuple(c.key for c in table.columns if c.key != "id")
    return found


def row_values(obj: Any) -> dict[str, Any]:
    """A new, not yet added ORM object's columns (all but id), for ``insert_row``."""
    return {key: getattr(obj, key) for key in _insert_columns(obj.__table__)}


async def insert_row(session: AsyncSession, model: type[RowT], values: dict[str, Any]) -> RowT:
    """One row by a Core ``INSERT … RETURNING id``, handed back as a session object.

    On the intake's hot path this replaces ``session.add`` and a flush (the unit of work costs
    several times the statement). The object is attached as if just loaded, every column
    set, so a later change to it (a policy hook setting a flag) is written by the next flush
    as an UPDATE, as before.
    """
    return await session.run_sync(insert_row_sync, model, values)


def insert_row_sync(
    session: Session, model: type[RowT], values: dict[str, Any], statement: Insert | None = None
) -> RowT:
    """``insert_row`` inside ``AsyncSession.run_sync``: several writes of one message then
    share one hand-over to SQLAlchemy's synchronous side instead of one each.

    Executed on the session's connection (the ORM's execute path adds nothing for a Core
    INSERT), and the object is made as a loaded row is, its columns put in place without an
    attribute event each.
    """
    table = model.__table__  # type: ignore[attr-defined]
    row = dict.fromkeys(_insert_columns(table))
    row.update(values)
    # ``statement``: one that computes some columns itself and returns them after the id.
    found = (
        session.connection()
        .execute(statement if statement is not None else inserting(table), row)
        .one()
    )
    row.update(found._mapping)
    row["id"] = int(found[0])
    obj: Any = instance_state_factory(model)
    obj.__dict__.update(row)
    _attach_inserted(session, obj)
    return cast(RowT, obj)


def insert_object_sync(session: Session, obj: Any) -> None:
    """Insert a new, not yet added ORM object the same way and attach it, its id set."""
    new_id = session.connection().execute(inserting(obj.__table__), row_values(obj)).scalar_one()
    obj.id = int(new_id)
    _attach_inserted(session, obj)


_UPDATES: dict[tuple[Table, frozenset[str]], Update] = {}


def write_changes_sync(session: Session, obj: Any) -> bool:
    """Write what was changed on a row ``insert_row`` attached (a policy hook's flags, the
    priority) by one pre-built Core UPDATE, and mark the object unchanged; inside
    ``AsyncSession.run_sync``.

    The same UPDATE the next flush would make, without the unit of work (which cost more
    than the statement, once per message). False, and nothing done, when something other
    than plain columns changed: the flush then writes it as before.
    """
    state = inspect(obj)
    changed = frozenset(state.committed_state)
    if not changed:
        return True
    table = obj.__table__
    if not changed <= frozenset(_insert_columns(table)):
        return False
    stmt = _UPDATES.get((table, changed))
    if stmt is None:
        stmt = _UPDATES[(table, changed)] = (
            update(table)
            .where(table.c.id == bindparam("_row_id"))
            .values({key: bindparam(key) for key in sorted(changed)})
        )
    params = {key: state.dict[key] for key in changed}
    params["_row_id"] = obj.id
    session.connection().execute(stmt, params)
    state._commit_all(state.dict, session.identity_map)  # as a flush marks what it wrote
    return True


def instance_state_factory(model: type[Any]) -> Any:
    """An empty instance of ``model`` with its ORM state, as the ORM makes one to load a row."""
    return manager_of_class(model).new_instance()


def _attach_inserted(session: Session, obj: Any) -> None:
    make_transient_to_detached(obj)
    session.add(obj)
    session.info.setdefault(INSERTED_ROWS, []).append(obj)


def among(session: AsyncSession, column: Any, values: list[str]) -> ColumnElement[bool]:
    """``column IN (values)`` for look-ups made once per intake batch.

    On PostgreSQL one array parameter (``= ANY($1)``), so the statement's text does not change
    with the number of values and the driver reuses its prepared statement instead of
    preparing a new one (a round trip) for every batch size.
    """
    if session.get_bind().dialect.name == "postgresql":
        condition: ColumnElement[bool] = column == any_(
            bindparam(None, values, type_=ARRAY(String))
        )
        return condition
    in_list: ColumnElement[bool] = column.in_(values)
    return in_list


INSERTED_ROWS = "rows_inserted"  # session.info key: what ``insert_row`` attached, in order


def inserted_rows_mark(session: AsyncSession) -> int:
    """Where a savepoint starts in what ``insert_row`` has attached to this session."""
    return len(session.info.get(INSERTED_ROWS, ()))


def forget_inserted_rows(session: AsyncSession, mark: int) -> None:
    """After a rolled-back savepoint: drop the objects ``insert_row`` attached inside it.

    The session treats them as loaded rows, so a savepoint rollback would keep them, and
    SQLite hands their ids out again to the next INSERT.
    """
    rows = session.info.get(INSERTED_ROWS, [])
    for obj in rows[mark:]:
        if obj in session:
            session.expunge(obj)
    del rows[mark:]


async def audit_records(session: AsyncSession, batch: int = 1000) -> AsyncIterator[AuditRecord]:
    """Every audit event in seq order, streamed in batches."""
    last = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.seq > last)
                    .order_by(AuditEvent.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for r in rows:
            yield AuditRecord(
                r.seq, r.at, r.actor, r.action, r.subject, dict(r.details), r.prev_hash, r.hash
            )
        last = rows[-1].seq
