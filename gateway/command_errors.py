"""One rule for every `case-gateway` command: an expected failure is one line and a non-zero exit.

Commands raise :class:`CommandError` (or let a known error type escape); :func:`explain` turns
it into the line an operator reads — what is wrong and what to do about it — and the command
line prints that instead of a traceback. The database helpers here are what every command that
needs a database goes through, so "not migrated", "not reachable" and "does not exist" read the
same everywhere, and read-only commands never create an empty SQLite file by looking.
"""

from __future__ import annotations

import asyncio
import errno
import getpass
import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from gateway.sealing import SealingError
from gateway.settings import Settings
from gateway.storage.db import Database, StoreUnavailable

MIGRATE_HINT = "run `case-gateway migrate`"


class CommandError(Exception):
    """An expected failure of a command; the message names the problem and the fix."""


def cli_actor() -> str:
    """Who did it, for the audit log: ``cli:<operating-system user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with an arbitrary uid)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _reason(exc: BaseException) -> str:
    """A short, one-line reason; SQLAlchemy wraps the driver's error in ``orig``."""
    inner = getattr(exc, "orig", None) or exc.__cause__ or exc
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    text = _first_line(str(inner)) or type(inner).__name__
    return re.sub(r"^\(.*?\)\s*", "", text)[:200]


def database_place(url: str) -> str:
    """Where the database is, without its password: a file path or host:port/name."""
    try:
        u = make_url(url)
    except ArgumentError:
        return "database.url"
    if u.drivername.startswith("sqlite"):
        return u.database or ":memory:"
    return f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def _not_migrated(current: str | None, head: str) -> CommandError:
    if current is None:
        return CommandError(f"database not migrated: {MIGRATE_HINT}")
    return CommandError(
        f"database schema at revision {current}, this version needs {head}: {MIGRATE_HINT}"
    )


async def open_database(settings: Settings, *, for_migrate: bool = False) -> Database:
    """The configured database, reachable and (unless migrating) migrated to the newest schema.

    Raises :class:`CommandError` with the fix. A missing SQLite file is reported, never created,
    except by ``migrate``.
    """
    url = settings.database.url
    place = database_place(url)
    path = sqlite_path(url)
    if path is not None and not for_migrate:
        if not path.exists():
            raise CommandError(
                f"database {path} does not exist: {MIGRATE_HINT} first (or fix database.url)"
            )
        if path.is_dir():
            raise CommandError(f"database {path} is a directory: fix database.url")
    db = Database(url, pool_size=1)
    try:
        current = await asyncio.wait_for(db.current_revision(), timeout=15)
    except TimeoutError as exc:
        await db.close()
        raise CommandError(
            f"database at {place} did not answer within 15 s: check that it is running and "
            "database.url"
        ) from exc
    except (SQLAlchemyError, OSError) as exc:
        await db.close()
        raise CommandError(
            f"database at {place} unreachable ({_reason(exc)}): check that it is running and "
            "database.url"
        ) from exc
    head = db.head_revision()
    if not for_migrate and current != head:
        await db.close()
        raise _not_migrated(current, head)
    return db


_BIND = re.compile(r"address \('?([^',]*)'?, (\d+)\)")


def _listen_problem(exc: OSError, settings: Settings | None) -> str:
    found = _BIND.search(str(exc))
    where, setting = "a port", "web.port, smtp.port, lmtp.port or metrics.port"
    if found:
        host, port = found.group(1), int(found.group(2))
        where = f"{host}:{port}"
        if settings is not None:
            names = [
                name
                for name, value in (
                    ("web.port", settings.web.port),
                    ("smtp.port", settings.smtp.port),
                    ("lmtp.port", settings.lmtp.port),
                    ("metrics.port", settings.metrics.port),
                )
                if value == port
            ]
            setting = " or ".join(names) or setting
    return (
        f"cannot listen on {where}: address already in use; stop the other process or change "
        f"{setting}"
    )


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """The one line for an expected failure, or None when ``exc`` is not one we know."""
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, SealingError):
        return f"sealing keys: {exc}"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return _listen_problem(exc, settings)
    if isinstance(exc, StoreUnavailable | SQLAlchemyError):
        text = str(getattr(exc, "orig", None) or exc.__cause__ or exc).lower()
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return f"database not migrated: {MIGRATE_HINT}"
        place = database_place(settings.database.url) if settings else "database.url"
        return (
            f"database at {place} failed ({_reason(exc)}): check that it is running and reachable"
        )
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}: check the path and its permissions"
    return None
