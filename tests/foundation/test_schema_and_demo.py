"""The migrations build exactly the models; the demo runs end to end; serve stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.cli import main
from gateway.storage.db import Database
from gateway.storage.models import Base
from tests.helpers import sign, twilio_params, wait_ready


async def test_migrations_match_models(db_url: str) -> None:
    db = Database(db_url)
    await db.migrate()

    def diff(conn):  # type: ignore[no-untyped-def]
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await db.close()
    assert differences == []


async def test_readiness_says_when_migration_is_missing(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    ok, detail = await db.ready()
    assert not ok and "case-gateway migrate" in detail
    await db.migrate()
    assert await db.ready() == (True, "ok")
    await db.close()


def test_demo_runs_end_to_end(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "SMS from the parent (signed Twilio webhook): HTTP 200" in out
    assert "Twilio retries the same MessageSid: HTTP 200 (stored once)" in out
    assert "E-mail from the parent over SMTP: 2.0.0" in out
    assert "unknown sender" in out
    assert "duty   URGENT [2026-0412] sms" in out  # the risk signal reached the duty desk
    assert "caseworker: 'Takk for beskjed, Kari." in out and " sent " in out
    assert "v***@barnevern.example.no" in out  # the duty desk was told by e-mail
    assert "01010750160" not in out  # the child's national id is redacted in the queue
    assert "Audit chain: OK" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    web_port, smtp_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
            "CASE_GATEWAY_WEB_PORT": str(web_port),
            "CASE_GATEWAY_SMTP_PORT": str(smtp_port),
            "CASE_GATEWAY_WEB_PUBLIC_URL": "https://gateway.test.example",
            "CASE_GATEWAY_TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef",
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
            "CASE_GATEWAY_LOG_FORMAT": "json",
        }
    )
    (tmp_path / "none.toml").write_text("")  # an empty configuration: defaults + environment
    cli = [sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "none.toml")]
    for args in (["keys", "generate", "--file", str(tmp_path / "keys")], ["migrate"]):
        p = await asyncio.create_subprocess_exec(
            *cli, *args, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        assert await p.wait() == 0
    proc = await asyncio.create_subprocess_exec(
        *cli, "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(f"http://127.0.0.1:{web_port}", proc)
            params = twilio_params(sender="+4740000000")
            async with http.post(
                f"http://127.0.0.1:{web_port}/webhooks/twilio/sms",
                data=params,
                headers={"X-Twilio-Signature": sign("/webhooks/twilio/sms", params)},
            ) as r:
                assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.stderr is not None
    logs = (await proc.stderr.read()).decode()
    assert "gateway.stopped" in logs
    verify = await asyncio.create_subprocess_exec(
        *cli, "audit", "verify", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await verify.communicate()
    assert verify.returncode == 0, out
    assert b"audit chain OK" in out
