"""kill -9 of `case-gateway serve` in the middle of a burst loses nothing it acknowledged.

The real command runs as its own process; 32 connections post signed Twilio webhooks; after the
first answers come back the process is killed with SIGKILL while receipt batches are being
committed and filed. The restarted process files what the dead one answered and had not filed;
then every MessageSid that got 200 must be in the database exactly once (what got no answer may
or may not be: Twilio retries those).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from gateway.storage.db import Database
from gateway.storage.models import Message
from tests.foundation.test_serve_production import free_port
from tests.helpers import prepared_cli, restart_env, sign, twilio_params, wait_filed, wait_ready

TOTAL = 600
CONNECTIONS = 32


async def test_sigkill_mid_batch_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    web_port = free_port()
    # A restarted process takes over the dead one's receipts once their lease runs out.
    env = restart_env(
        db_url, web_port, str(tmp_path / "keys"), CASE_GATEWAY_SMTP_PORT=str(free_port())
    )
    cli = await prepared_cli(tmp_path, env)
    log_file = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        *cli, "serve", env=env, stdout=log_file, stderr=log_file
    )
    base = f"http://127.0.0.1:{web_port}"
    acknowledged: list[str] = []
    killed_at_ack: int | None = None
    requests = []
    for i in range(TOTAL):
        # Many senders, so no per-sender rate limit decides what is stored.
        params = twilio_params(sid=f"SM{i:032d}", sender=f"+47912{i:05d}", body=f"Melding {i}")
        requests.append((params, sign("/webhooks/twilio/sms", params)))
    try:
        connector = aiohttp.TCPConnector(limit=CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_ready(base, proc)
            queue: asyncio.Queue[tuple[dict[str, str], str]] = asyncio.Queue()
            for r in requests:
                queue.put_nowait(r)
            killed = asyncio.Event()
            kills: list[int] = []

            async def client() -> None:
                while not queue.empty() and not killed.is_set():
                    params, sig = queue.get_nowait()
                    try:
                        async with http.post(
                            f"{base}/webhooks/twilio/sms",
                            data=params,
                            headers={"X-Twilio-Signature": sig},
                        ) as resp:
                            await resp.read()
                            if resp.status == 200:
                                acknowledged.append(params["MessageSid"])
                    except (TimeoutError, aiohttp.ClientError):
                        return  # the server is gone: this one was never acknowledged
                    if len(acknowledged) >= TOTAL // 4 and not killed.is_set():
                        proc.send_signal(signal.SIGKILL)
                        killed.set()
                        kills.append(len(acknowledged))

            await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
            killed_at_ack = kills[0] if kills else None
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    log_file.close()
    # It really died of the kill mid-burst, not of anything else, nor at the end. (asyncio
    # reports 255 when the child watcher lost the race to reap the killed process.)
    assert killed_at_ack is not None
    assert proc.returncode in (-signal.SIGKILL, 255), (tmp_path / "serve.log").read_text()[-3000:]
    assert len(acknowledged) >= TOTAL // 4 and len(acknowledged) < TOTAL
    log_file = (tmp_path / "restarted.log").open("wb")
    restarted = await asyncio.create_subprocess_exec(
        *cli, "serve", env=env, stdout=log_file, stderr=log_file
    )
    try:
        await wait_ready(base, restarted)
        await wait_filed(base, restarted)
    finally:
        restarted.send_signal(signal.SIGTERM)
        await restarted.wait()
    log_file.close()
    db = Database(db_url)
    try:
        async with db.read() as s:
            stored = dict(
                (
                    await s.execute(
                        select(Message.provider_id, func.count())
                        .where(Message.provider_id.in_(acknowledged))
                        .group_by(Message.provider_id)
                    )
                ).all()
            )
    finally:
        await db.close()
    missing = [sid for sid in acknowledged if stored.get(sid) != 1]
    assert missing == [], f"{len(missing)} acknowledged messages not stored exactly once"
