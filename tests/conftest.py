"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), the wired
runtime, and the gateway's real servers on 127.0.0.1 with port 0.

PostgreSQL: set CASE_GATEWAY_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test).
Each test gets a fresh database created next to it. Without it the PostgreSQL variants skip
with the reason; with CI set they fail instead, so CI can never pass without them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy.engine import make_url

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.logs import restore_library_logs
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway, start_gateway
from gateway.settings import Settings

PG_ENV = "CASE_GATEWAY_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "a" * 32
SERVICE_NUMBER = "+4759440000"
PUBLIC_URL = "https://gateway.test.example"


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A test that configures logging (serve, demo) must not change what later tests capture."""
    yield
    structlog.reset_defaults()
    restore_library_logs()


def unavailable(what: str, reason: str) -> None:
    """Skip a test whose outside tool is missing on this machine; in CI, fail instead.

    CI installs every tool the suite needs (`.ci/apt-packages`), so a missing one there is a
    broken CI, never a reason to pass.
    """
    if IN_CI:
        pytest.fail(f"{what} tests must run in CI: {reason}")
    pytest.skip(f"{what} tests skipped: {reason}")


def pg_unavailable(reason: str) -> None:
    unavailable("PostgreSQL", reason)


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        database=u.database or "postgres",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin_sync(url: str, sql: str) -> None:
    # Fixtures that pick a database are synchronous; run the admin statement on its own loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _pg_admin(url, sql)).result()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    base = os.environ.get(PG_ENV)
    if not base:
        pg_unavailable(f"{PG_ENV} is not set")
    assert base is not None
    name = f"cg_test_{secrets.token_hex(6)}"
    try:
        _admin_sync(base, f'CREATE DATABASE "{name}"')
    except Exception as exc:  # asyncpg raises its own hierarchy, OSError when nothing listens
        pg_unavailable(f"cannot reach {make_url(base).render_as_string(hide_password=True)}: {exc}")
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    _admin_sync(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


def make_settings(url: str, **overrides: Any) -> Settings:
    s = Settings()
    settings = replace(
        s,
        database=replace(s.database, url=url),
        web=replace(s.web, host="127.0.0.1", port=0, public_url=PUBLIC_URL),
        smtp=replace(s.smtp, host="127.0.0.1", port=0, max_message_bytes=2 * 1024 * 1024),
        metrics=replace(s.metrics, port=0),
        lmtp=replace(s.lmtp, enabled=True, host="127.0.0.1", port=0),
        # As deployed: our MTA's Authentication-Results are trusted, so a known sender's mail
        # may be attached to the case by address (without it, it goes to triage).
        email=replace(s.email, trusted_authserv_id="mx.barnevern.example.no"),
        twilio=replace(
            s.twilio, account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN, from_number=SERVICE_NUMBER
        ),
        relay=replace(
            s.relay, poll_seconds=0.05, backoff_base_seconds=0.0, backoff_cap_seconds=0.0
        ),
        # Automatic replies off, so each test sees only the outbound it makes
        # (tests/practice turns them on).
        practice=replace(
            s.practice, receipts=False, out_of_hours_notice=False, unknown_sender_notice=False
        ),
    )
    for section, values in overrides.items():
        settings = replace(settings, **{section: replace(getattr(settings, section), **values)})
    return settings


class RecordingSender:
    """A channel sender standing in for the outside world; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[OutboundEnvelope] = []
        self.script: list[SendOutcome] = []

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        self.sent.append(out)
        if self.script:
            return self.script.pop(0)
        return SendOutcome(True, provider_id=f"SM{out.idempotency_key[:32]}")


@pytest.fixture
def sms_sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def email_sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
async def runtime(
    settings: Settings, sms_sender: RecordingSender, email_sender: RecordingSender
) -> AsyncIterator[Runtime]:
    rt = build_runtime(
        settings,
        senders={"sms": sms_sender, "email": email_sender},
        keyring=parse_keys(new_key_line("test")),
    )
    await rt.db.migrate()
    yield rt
    await rt.close()


@pytest.fixture
async def gateway(runtime: Runtime) -> AsyncIterator[RunningGateway]:
    """The real servers; the relay is driven by tests with run_once()."""
    gw = await start_gateway(runtime, relay=False)
    yield gw
    await gw.stop()
