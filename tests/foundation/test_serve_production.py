"""`case-gateway serve` as production runs it: the Twilio SMS provider, a process of its own.

The fake Twilio REST API on 127.0.0.1 stands in for Twilio; everything else is the real
command line: keys, migrate, a user and token, a case import, then serve. A family's signed SMS
comes in, the caseworker replies through the API, and the reply reaches Twilio exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ACCOUNT_SID, PUBLIC_URL, SERVICE_NUMBER, TWILIO_TOKEN
from tests.fakes.twilio_api import FakeTwilio, Recorded
from tests.helpers import sign, twilio_params, wait_filed, wait_ready

PARENT = "+4791234567"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(cli: list[str], env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *cli,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (args, out, err)
    return out.decode()


def _replies(fake: FakeTwilio) -> list[Recorded]:
    return [r for r in fake.sent() if r.form["Body"].startswith("Fredag passer fint.")]


async def test_serve_with_twilio_provider_delivers_a_reply_once(tmp_path: Path) -> None:
    fake = FakeTwilio(ACCOUNT_SID, TWILIO_TOKEN)
    await fake.start()
    web_port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
            "CASE_GATEWAY_WEB_PORT": str(web_port),
            "CASE_GATEWAY_SMTP_PORT": str(free_port()),
            "CASE_GATEWAY_METRICS_PORT": "0",
            "CASE_GATEWAY_WEB_PUBLIC_URL": PUBLIC_URL,
            "CASE_GATEWAY_SMS_PROVIDER": "twilio",
            "CASE_GATEWAY_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "CASE_GATEWAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "CASE_GATEWAY_TWILIO_FROM_NUMBER": SERVICE_NUMBER,
            "CASE_GATEWAY_TWILIO_API_BASE_URL": fake.base_url,
            "CASE_GATEWAY_TWILIO_MAX_PER_SECOND": "50",
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
            "CASE_GATEWAY_RELAY_POLL_SECONDS": "0.1",
            "CASE_GATEWAY_LOG_FORMAT": "json",
        }
    )
    cli = [sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "none.toml")]
    (tmp_path / "none.toml").write_text("")
    cases = {
        "cases": [
            {
                "ref": "2026-0101",
                "title": "Oppfølging",
                "team": "Team Nord",
                "caseworker": "ola@barnevern.example.no",
                "status": "open",
                "contacts": [
                    {
                        "name": "Kari Nordmann",
                        "role": "parent",
                        "phone": PARENT,
                        "email": None,
                        "language": "nb",
                        "consent": {"sms": True, "email": False},
                    }
                ],
            }
        ]
    }
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    await _run(cli, env, "keys", "generate", "--file", str(tmp_path / "keys"))
    await _run(cli, env, "migrate")
    await _run(
        cli,
        env,
        *("users", "add", "--email", "ola@barnevern.example.no", "--name", "Ola Hansen"),
        *("--role", "caseworker", "--team", "Team Nord"),
    )
    token = (await _run(cli, env, "tokens", "create", "--user", "ola@barnevern.example.no")).strip()
    await _run(cli, env, "cases", "import", str(tmp_path / "cases.json"))

    proc = await asyncio.create_subprocess_exec(
        *cli, "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{web_port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(base, proc)
            params = twilio_params(sender=PARENT, body="Kan vi flytte møtet til fredag?")
            path = "/webhooks/twilio/sms"
            async with http.post(
                base + path, data=params, headers={"X-Twilio-Signature": sign(path, params)}
            ) as r:
                assert r.status == 200
            await wait_filed(base, proc)  # answered first, filed after
            async with http.get(f"{base}/api/v1/queue", headers=auth) as r:
                assert r.status == 200
                items = (await r.json())["items"]
            assert [i["case"] for i in items] == ["2026-0101"]
            async with http.post(
                f"{base}/api/v1/cases/2026-0101/replies",
                json={"body": "Fredag passer fint.", "channel": "sms"},
                headers=auth,
            ) as r:
                assert r.status == 202, await r.text()
            for _ in range(100):
                if _replies(fake):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # a second send, if there were one, would arrive by now
        # Automatic replies (receipt, out-of-hours notice) may go out too, depending on the hour.
        sent = _replies(fake)
        assert len(sent) == 1
        assert sent[0].form["To"] == PARENT
        assert sent[0].form["From"] == SERVICE_NUMBER
        assert sent[0].form["Body"].startswith("Fredag passer fint.")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await fake.stop()
    assert proc.stderr is not None
    logs = (await proc.stderr.read()).decode()
    assert "Traceback" not in logs
    assert TWILIO_TOKEN not in logs
