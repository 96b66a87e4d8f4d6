"""The database: engine set-up for SQLite and PostgreSQL, transactions that carry their audit
events, migrations and readiness.

Every write goes through :meth:`Database.transaction`. Audit events collected during the
transaction are chained and appended just before commit, under a lock on the single
``audit_head`` row, so concurrent writers (several processes on one PostgreSQL) never fork the
chain and hold that lock only briefly. On SQLite every transaction starts with
``BEGIN IMMEDIATE``, which serialises writers across processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gateway.core.audit_chain import AuditRecord, canonical, chain_hash
from gateway.storage.models import AuditEvent, AuditHead

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class StoreUnavailable(Exception):
    """The database failed; callers answer a temporary error so the sender retries."""


@dataclass
class PendingAudit:
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


@dataclass
class Tx:
    """A unit of work: the session plus the audit events it will commit with."""

    session: AsyncSession
    events: list[PendingAudit] = field(default_factory=list)

    def audit(self, actor: str, action: str, subject: str, **details: Any) -> None:
        """Record a state change; it is written in this same transaction."""
        self.events.append(PendingAudit(actor, action, subject, details))


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
        else:
            kwargs["pool_size"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.fault: Callable[[], None] | None = None

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit: everything written here and its audit events commit together."""
        try:
            async with self.sessions() as session, session.begin():
                tx = Tx(session)
                yield tx
                if self.fault is not None:
                    self.fault()
                if tx.events:
                    await append_audit(session, tx.events)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc.__class__.__name__)) from exc
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc

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
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head() or ""

    async def current_revision(self) -> str | None:
        def current(conn: Connection) -> str | None:
            return MigrationContext.configure(conn).get_current_revision()

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


async def append_audit(session: AsyncSession, events: list[PendingAudit]) -> None:
    """Chain ``events`` after the current head; the head row lock serialises writers."""
    head = (
        await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    ).scalar_one()
    prev, seq = head.hash, head.seq
    for ev in events:
        seq += 1
        at = utcnow().isoformat(timespec="microseconds")
        digest = chain_hash(prev, canonical(seq, at, ev.actor, ev.action, ev.subject, ev.details))
        session.add(
            AuditEvent(
                seq=seq,
                at=at,
                actor=ev.actor,
                action=ev.action,
                subject=ev.subject,
                details=ev.details,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    head.seq, head.hash = seq, prev
    await session.flush()


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
