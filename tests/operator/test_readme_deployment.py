"""The README's "First real deployment", followed step by step as an operator would.

The steps are read from README.md itself, so the test breaks when the README drifts: its TOML
block becomes the configuration file, and every command line of its ``sh`` blocks runs as a
process, in order. Lines starting with ``sudo`` change the system and are done by the test
itself (directories under a temporary root; the auth token file). Paths under /etc and
/var/lib move into that root; ports, the Twilio API address and the relay's poll interval come
from the environment, which overrides the file as it does for any operator. At `serve`, a
family's signed SMS arrives and lands on its case, answered 200, not 403.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.sealing import fingerprint
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import wait_filed
from tests.operator.cli_process import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "readme-auth-token-0123456789abcdef"


def deployment_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## First real deployment")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def blocks(section: str, lang: str) -> list[str]:
    return [
        body
        for found_lang, body in re.findall(r"(?m)^ *```(\w+)\n(.*?)^ *```", section, re.S)
        if found_lang == lang
    ]


class Deployment:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "etc").mkdir()
        (root / "var").mkdir()
        self.env: dict[str, str] = {}
        self.outputs: dict[str, str] = {}

    def place(self, text: str) -> str:
        return text.replace("/etc/case-gateway/", f"{self.root}/etc/").replace(
            "/var/lib/case-gateway/", f"{self.root}/var/"
        )

    def run(self, args: list[str], stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done.stdout


async def test_readme_first_deployment_path(tmp_path: Path) -> None:
    section = deployment_section()
    (config,) = blocks(section, "toml")
    lines = [line.strip() for body in blocks(section, "sh") for line in body.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert any(line.startswith("case-gateway serve") for line in lines)

    fake = FakeTwilio(_setting(config, "account_sid"), TOKEN)
    await fake.start()
    d = Deployment(tmp_path)
    web_port = free_port()
    d.env = {k: v for k, v in os.environ.items() if not k.startswith("CASE_GATEWAY_")} | {
        "CASE_GATEWAY_WEB_PORT": str(web_port),
        "CASE_GATEWAY_LMTP_PORT": str(free_port()),
        "CASE_GATEWAY_TWILIO_API_BASE_URL": fake.base_url,
        "CASE_GATEWAY_RELAY_POLL_SECONDS": "0.1",
    }
    ran: list[str] = []
    try:
        for line in lines:
            if line.startswith("sudo "):
                # What the operator does as root: here, the token file (the test's own token).
                if "twilio-auth-token" in line:
                    (tmp_path / "etc" / "twilio-auth-token").write_text(TOKEN + "\n")
                continue
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                d.env[key] = d.place(value)
                if key == "CASE_GATEWAY_CONFIG":
                    Path(d.env[key]).write_text(d.place(config), encoding="utf-8")
                continue
            args = shlex.split(d.place(line))
            assert args[0] == "case-gateway", f"README step the test cannot follow: {line}"
            args = args[1:]
            ran.append(" ".join(args[:2]))
            if args == ["serve"]:
                await serve_and_receive_an_sms(d, web_port, config)
                continue
            stdin = "en lang og hemmelig passfrase\n" if "set-password" in args else None
            d.outputs[" ".join(args[:2])] = await asyncio.to_thread(d.run, args, stdin)
    finally:
        await fake.stop()
    assert ran[:3] == ["keys generate", "check-config", "migrate"]
    assert "users set-password" in ran  # the README's path gives staff a password for the pages
    assert {"users add", "tokens create", "cases import", "serve"} <= set(ran)
    assert "configuration OK" in d.outputs["check-config"]
    # serve recorded the key that seals new originals, by id and fingerprint (never the key).
    key_line = (tmp_path / "etc" / "sealing-keys").read_text().strip().splitlines()[-1]
    key_id = key_line.split(":")[0]
    with sqlite3.connect(tmp_path / "var" / "case-gateway.db") as db:
        rows = db.execute("SELECT key_id, fingerprint FROM sealing_key").fetchall()
    assert rows == [(key_id, fingerprint(base64.b64decode(key_line.split(":")[1])))]


def _setting(config: str, key: str) -> str:
    found = re.search(rf'(?m)^{key} = "([^"]+)"', config)
    assert found, f"README configuration has no {key}"
    return found.group(1)


async def serve_and_receive_an_sms(d: Deployment, web_port: int, config: str) -> None:
    token = d.outputs["tokens create"].strip()
    public_url = _setting(config, "public_url")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "serve",
        env=d.env,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                assert proc.returncode is None, "serve exited at start-up"
                try:
                    async with http.get(f"{base}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            # Kari Nordmann's number as docs/examples/cases.json has it.
            params = {
                "MessageSid": "SM" + "7" * 32,
                "AccountSid": _setting(config, "account_sid"),
                "From": "+4791234567",
                "To": _setting(config, "from_number"),
                "Body": "Hei, kan vi flytte møtet?",
                "NumMedia": "0",
            }
            path = "/webhooks/twilio/sms"
            signature = RequestValidator(TOKEN).compute_signature(public_url + path, params)
            async with http.post(
                base + path, data=params, headers={"X-Twilio-Signature": signature}
            ) as r:
                assert r.status == 200, await r.text()
            await wait_filed(base, proc)  # answered 200 first, filed after
            async with http.get(
                f"{base}/api/v1/queue", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                assert r.status == 200
                items = (await r.json())["items"]
            assert [item["case"] for item in items] == ["2026-0101"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            assert await asyncio.wait_for(proc.wait(), timeout=60) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
    assert proc.stderr is not None
    logs = (await proc.stderr.read()).decode()
    assert "Traceback" not in logs and TOKEN not in logs
