"""Small builders shared by tests: seeded cases and staff, signed Twilio requests."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.accounts import add_user, create_token
from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.runtime import Runtime
from tests.conftest import ACCOUNT_SID, PUBLIC_URL, SERVICE_NUMBER, TWILIO_TOKEN

PARENT_PHONE = "+4791234567"
PARENT_EMAIL = "kari.nordmann@example.org"


async def seed_case(
    rt: Runtime,
    *,
    ref: str = "2026-0412",
    team: str = "Team Nord",
    worker: str = "ola@barnevern.example.no",
    phone: str | None = PARENT_PHONE,
    email: str | None = PARENT_EMAIL,
    consent: bool = True,
    with_worker: bool = True,
    role: str = "caseworker",
) -> str:
    """A case with one parent contact and its caseworker; returns the worker's API token."""
    async with rt.db.transaction() as tx:
        if with_worker:
            await add_user(tx, email=worker, name="Ola Hansen", role=role, team=team, actor="test")
        await apply_import(
            tx,
            [
                CaseRow(
                    1,
                    ref,
                    "Oppfølging",
                    team,
                    worker if with_worker else None,
                    "open",
                    [ContactRow("Kari Nordmann", "parent", phone, email, "nb", consent, consent)],
                )
            ],
            "test",
        )
        token = ""
        if with_worker:
            token, _ = await create_token(tx, user_email=worker, actor="test")
    return token


def twilio_params(
    sid: str = "SM" + "1" * 32, sender: str = PARENT_PHONE, body: str = "Hei", **extra: str
) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def sign(path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(PUBLIC_URL + path, params))


async def post_twilio(
    port: int,
    params: dict[str, str],
    *,
    path: str = "/webhooks/twilio/sms",
    signature: str | None = None,
) -> tuple[int, str]:
    sig = sign(path, params) if signature is None else signature
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}{path}", data=params, headers={"X-Twilio-Signature": sig}
        ) as resp,
    ):
        return resp.status, await resp.text()


async def api(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


async def processed(gw: Any) -> None:
    """Wait until every message this gateway (or runtime) answered 200 or 250 has been
    processed and stored.

    An SMS or mail is committed as received and answered first, then parsed and filed by the
    receipt worker; a test that reads the stored message waits for that second phase here.
    """
    assert gw.receipts is not None, "the gateway runs no receipt worker"
    await gw.receipts.until_settled()


async def wait_ready(base: str, proc: asyncio.subprocess.Process, limit: float = 60.0) -> None:
    """Wait until a ``case-gateway serve`` subprocess answers ``/readyz`` with 200.

    Fails at once when the process exits; ``limit`` only keeps a hung start from hanging the
    suite (a loaded machine can take many seconds to start the process)."""
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as http:
        while proc.returncode is None and time.monotonic() < deadline:
            try:
                async with http.get(f"{base}/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"serve did not become ready (exit code {proc.returncode})")


async def wait_filed(base: str, proc: asyncio.subprocess.Process, limit: float = 60.0) -> None:
    """Wait until a ``case-gateway serve`` subprocess has filed every message it answered:
    ``/readyz`` shows no receipt waiting. Fails at once when the process exits."""
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as http:
        while proc.returncode is None and time.monotonic() < deadline:
            async with http.get(f"{base}/readyz") as r:
                receipts = (await r.json()).get("receipts") or {}
                if r.status == 200 and receipts.get("waiting") == 0:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"serve did not file what it answered (exit code {proc.returncode})")


def restart_env(db_url: str, web_port: int, key_file: str, **extra: str) -> dict[str, str]:
    """The environment of a ``serve`` subprocess that a test kills and starts again: Twilio as
    in production, no automatic replies, and receipt leases short enough for the restarted
    process to take over the dead one's receipts at once. ``extra`` adds or overrides."""
    return dict(os.environ) | {
        "CASE_GATEWAY_DATABASE_URL": db_url,
        "CASE_GATEWAY_WEB_PORT": str(web_port),
        "CASE_GATEWAY_METRICS_PORT": "0",
        "CASE_GATEWAY_WEB_PUBLIC_URL": PUBLIC_URL,
        "CASE_GATEWAY_SMS_PROVIDER": "twilio",
        "CASE_GATEWAY_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CASE_GATEWAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "CASE_GATEWAY_TWILIO_FROM_NUMBER": SERVICE_NUMBER,
        "CASE_GATEWAY_CRYPTO_KEY_FILE": key_file,
        "CASE_GATEWAY_PRACTICE_RECEIPTS": "false",
        "CASE_GATEWAY_PRACTICE_UNKNOWN_SENDER_NOTICE": "false",
        "CASE_GATEWAY_PRACTICE_OUT_OF_HOURS_NOTICE": "false",
        "CASE_GATEWAY_EMAIL_RECEIPT_LEASE_SECONDS": "1",
        "CASE_GATEWAY_EMAIL_RECEIPT_POLL_SECONDS": "0.2",
        "CASE_GATEWAY_LOG_LEVEL": "warning",
        **extra,
    }


async def prepared_cli(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """``case-gateway`` with an empty configuration file, its keys made and its database
    migrated: the command line to start ``serve`` with."""
    (tmp_path / "none.toml").write_text("")
    cli = [sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "none.toml")]
    for args in (["keys", "generate", "--file", env["CASE_GATEWAY_CRYPTO_KEY_FILE"]], ["migrate"]):
        proc = await asyncio.create_subprocess_exec(
            *cli, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, (args, out, err)
    return cli
