"""A hostile e-mail cannot stall the service: it is committed as received and answered first,
then parsed in worker processes with a budget.

The attack (issue: 0.9 MB of nested <div>s blocked /healthz for 13 s) is sent over real SMTP
while a client polls /healthz and other mail and a webhook arrive; nothing waits for it, and
its sender has its 250 before any parsing starts.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import sys
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from connectors.email_parsing import UNPARSED_LABEL, ParserPool
from gateway.core.email import EmailLimits
from gateway.core.email.html_text import html_to_text, sanitize_html
from gateway.core.email.quoting import split_body
from gateway.receipts import receipt_backlog
from gateway.storage.db import Database
from gateway.storage.models import Message
from tests.conftest import ACCOUNT_SID, PUBLIC_URL, SERVICE_NUMBER, TWILIO_TOKEN
from tests.email.conftest import SERVICE, crlf, mail_gateway, mail_settings, smtp_port
from tests.foundation.test_serve_production import _run, free_port
from tests.helpers import PARENT_PHONE, post_twilio, processed, twilio_params, wait_ready
from tests.security.holding_parser import held_parse

HEADERS = (
    "From: Kari <kari.nordmann@example.org>\n"
    "To: post@barnevern.example.no\n"
    "Subject: hei\n"
    "MIME-Version: 1.0\n"
)


def nested_html_mail(depth: int, tag: str = "div", extra_headers: str = "") -> bytes:
    # One tag per line: SMTP lines are at most 1000 bytes.
    html = "<html><body>\n" + f"<{tag}>x\n" * depth + f"</{tag}>\n" * depth + "</body></html>"
    return crlf(
        (
            HEADERS + extra_headers + "Content-Type: text/html; charset=utf-8\n"
            "Message-ID: <nested-" + tag + str(depth) + "@example.org>\n\n" + html + "\n"
        ).encode()
    )


def plain_mail(message_id: str, extra_headers: str = "") -> bytes:
    return crlf(
        (
            HEADERS + extra_headers + f"Message-ID: <{message_id}@example.org>\n"
            "Content-Type: text/plain; charset=utf-8\n\nKan vi flytte møtet?\n"
        ).encode()
    )


def send(port: int, data: bytes, rcpts: list[str] | None = None) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        return client.sendmail("kari.nordmann@example.org", rcpts or [SERVICE], data)


class Poller:
    """Polls /healthz as fast as it can and counts the answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ok = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while not self.stop.is_set():
                async with http.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                    if resp.status == 200:
                        self.ok += 1
                await asyncio.sleep(0.005)  # a steady poller, not a load generator


def test_html_conversion_of_deep_nesting_keeps_the_text() -> None:
    html = "<div>" * 5000 + "kjære" + "</div>" * 5000 + "<blockquote>" * 300 + "sitat"
    text = html_to_text(html)
    assert "kjære" in text and "sitat" in text
    # Quote marks are bounded however deep the nesting: no line grows with the depth.
    assert max(len(line) for line in text.splitlines()) < 100
    assert "kjære" in sanitize_html(html)
    assert split_body(text).new_text


async def test_nested_html_over_smtp_while_health_webhooks_and_other_mail_go_on(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = mail_settings(sqlite_url, 1, smtp={"max_message_bytes": 4 * 1024 * 1024})
    async with mail_gateway(settings) as (rt, gw):
        assert gw.mail_handler is not None
        # The same parser, holding the marked message in its worker until we release it.
        gw.mail_handler.parser = ParserPool(2, 60.0, parse=held_parse)
        release = tmp_path / "release"
        hostile = nested_html_mail(100_000, extra_headers=f"X-Test-Hold: {release}\n")
        assert len(hostile) > 900_000  # the 0.9 MB took the loop for 13 s
        port = smtp_port(gw)
        poller = Poller(gw.web_port)
        polling = asyncio.create_task(poller.run())
        try:
            # Answered 250 once committed as received, while its parsing is still held.
            assert await asyncio.to_thread(send, port, hostile) == {}
            # While the hostile message is held in a worker: health, other mail, a webhook.
            while poller.ok < 20:
                await asyncio.sleep(0.01)
            before = poller.ok
            assert await asyncio.to_thread(send, port, plain_mail("other")) == {}
            status, _ = await post_twilio(gw.web_port, twilio_params(sender=PARENT_PHONE))
            assert status == 200
            while poller.ok < before + 20:
                await asyncio.sleep(0.01)
            assert gw.receipts is not None
            await gw.receipts.until_settled(still_held=1)  # all but the hostile one
            async with rt.db.read() as s:
                stored = (await s.execute(select(Message.provider_id))).scalars().all()
            # The other mail and the SMS are filed; the hostile one is still being parsed.
            assert len(stored) == 2 and "<other@example.org>|" + SERVICE in stored
            assert (await receipt_backlog(rt.db)).waiting == 1
            release.touch()
            await processed(gw)
        finally:
            poller.stop.set()
            await polling
        async with rt.db.read() as s:
            rows = (await s.execute(select(Message))).scalars().all()
        by_id = {m.provider_id.split("|")[0]: m for m in rows}
        hostile_row = by_id["<nested-div100000@example.org>"]
        assert "unparsed" not in (hostile_row.flags or {})
        assert "x" in hostile_row.redacted_text
        assert "<other@example.org>" in by_id and len(rows) == 3
        gw.mail_handler.parser.close()


async def test_real_nested_html_is_parsed_quickly_enough_to_keep_its_text(
    sqlite_url: str,
) -> None:
    """Without any holding: the real parser converts the hostile message and it is stored."""
    settings = mail_settings(sqlite_url, 1, smtp={"max_message_bytes": 4 * 1024 * 1024})
    async with mail_gateway(settings) as (rt, gw):
        poller = Poller(gw.web_port)
        polling = asyncio.create_task(poller.run())
        try:
            for tag in ("div", "blockquote"):
                await asyncio.to_thread(send, smtp_port(gw), nested_html_mail(60_000, tag))
            await processed(gw)
        finally:
            poller.stop.set()
            await polling
        assert poller.ok > 0
        async with rt.db.read() as s:
            rows = (await s.execute(select(Message))).scalars().all()
        assert len(rows) == 2
        assert all("unparsed" not in (m.flags or {}) and "x" in m.redacted_text for m in rows)


async def test_message_over_the_budget_is_kept_unparsed_and_the_worker_replaced(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = mail_settings(sqlite_url, 1)
    async with mail_gateway(settings) as (rt, gw):
        assert gw.mail_handler is not None
        pool = ParserPool(1, 1.0, parse=held_parse)
        gw.mail_handler.parser = pool
        never = tmp_path / "never-created"
        stuck = plain_mail("stuck", extra_headers=f"X-Test-Hold: {never}\n")
        # Accepted (250) although the parser never finished: the original is kept.
        assert await asyncio.to_thread(send, smtp_port(gw), stuck) == {}
        await processed(gw)
        assert pool.recycled == 1
        # The next message gets a fresh worker and is parsed normally.
        assert await asyncio.to_thread(send, smtp_port(gw), plain_mail("after")) == {}
        await processed(gw)
        # A retry of the same bytes is recognised by its Message-ID (read without parsing):
        # stored once.
        assert await asyncio.to_thread(send, smtp_port(gw), stuck) == {}
        await processed(gw)
        async with rt.db.read() as s:
            rows = (await s.execute(select(Message).order_by(Message.id))).scalars().all()
        assert len(rows) == 2
        unparsed, after = rows
        assert unparsed.flags["unparsed"] == UNPARSED_LABEL
        assert "longer than 1 s" in unparsed.flags["unparsed_reason"]
        assert unparsed.sender == "kari.nordmann@example.org"
        assert unparsed.provider_id == f"<stuck@example.org>|{SERVICE}"
        assert unparsed.redacted_text == ""
        assert unparsed.case_id is None and unparsed.status == "triage"
        assert "møtet" in after.redacted_text
        pool.close()


async def test_a_cancelled_session_does_not_leave_its_worker_busy(tmp_path: Path) -> None:
    pool = ParserPool(1, 60.0, parse=held_parse)
    never = tmp_path / "never"
    raw = plain_mail("gone", extra_headers=f"X-Test-Hold: {never}\n")
    task = asyncio.create_task(pool.parse(raw, EmailLimits(), None))
    while pool._slots[0].executor is None:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    outcome = await pool.parse(plain_mail("next"), EmailLimits(), None)
    assert outcome.parsed is not None and "møtet" in outcome.parsed.new_text
    pool.close()


async def test_hostile_mail_to_a_serve_process_holds_nobody(tmp_path: Path) -> None:
    """The same attack against `case-gateway serve` as a process of its own (its parser holds
    the hostile message until released): the sender has 250, /healthz keeps answering, an SMS
    and other mail are filed meanwhile, and the hostile message is filed once released."""
    web_port, smtp = free_port(), free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    env = dict(os.environ) | {
        "CASE_GATEWAY_DATABASE_URL": url,
        "CASE_GATEWAY_WEB_PORT": str(web_port),
        "CASE_GATEWAY_WEB_PUBLIC_URL": PUBLIC_URL,
        "CASE_GATEWAY_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CASE_GATEWAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "CASE_GATEWAY_TWILIO_FROM_NUMBER": SERVICE_NUMBER,
        "CASE_GATEWAY_SMTP_PORT": str(smtp),
        "CASE_GATEWAY_SMTP_MAX_MESSAGE_BYTES": str(4 * 1024 * 1024),
        "CASE_GATEWAY_METRICS_PORT": "0",
        "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
        "CASE_GATEWAY_LOG_LEVEL": "warning",
    }
    (tmp_path / "none.toml").write_text("")
    config = ["--config", str(tmp_path / "none.toml")]
    cli = [sys.executable, "-m", "gateway.cli", *config]
    await _run(cli, env, "keys", "generate", "--file", str(tmp_path / "keys"))
    await _run(cli, env, "migrate")
    release = tmp_path / "release"
    hostile = nested_html_mail(100_000, extra_headers=f"X-Test-Hold: {release}\n")
    log = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.intake.serve_holding_mail", *config, "serve",
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    db = Database(url)
    try:
        await wait_ready(f"http://127.0.0.1:{web_port}", proc)
        poller = Poller(web_port)
        polling = asyncio.create_task(poller.run())
        try:
            assert await asyncio.to_thread(send, smtp, hostile) == {}
            while poller.ok < 20:
                await asyncio.sleep(0.01)
            assert await asyncio.to_thread(send, smtp, plain_mail("other")) == {}
            status, _ = await post_twilio(web_port, twilio_params(sender=PARENT_PHONE))
            assert status == 200
            before = poller.ok
            while True:  # the other mail is filed while the hostile one is still held
                async with db.read() as s:
                    ids = set((await s.execute(select(Message.provider_id))).scalars().all())
                if "<other@example.org>|" + SERVICE in ids:
                    break
                await asyncio.sleep(0.05)
            assert "<nested-div100000@example.org>|" + SERVICE not in ids
            while poller.ok < before + 20:
                await asyncio.sleep(0.01)
        finally:
            poller.stop.set()
            await polling
        release.touch()
        while "<nested-div100000@example.org>|" + SERVICE not in ids:
            assert proc.returncode is None
            async with db.read() as s:
                ids = set((await s.execute(select(Message.provider_id))).scalars().all())
            await asyncio.sleep(0.05)
    finally:
        release.touch()
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        await db.close()
