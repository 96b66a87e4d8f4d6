"""SMTP intake against an aiosmtpd Sink, in the same run and process.

16 connections (aiosmtplib) each send 8.6 KB messages, one after another, to an aiosmtpd
server whose handler drops every message (Sink) and then to the gateway's real SMTP server
(limits, exactly-once key, seal, commit as received, answer 250 after that commit; parsing,
classifying and filing follow off the answer path). Prints messages/s answered for both, the
ratio (ours / sink), and how long after the first DATA every message was filed.

    python bench/smtp.py [--messages 400] [--connections 16] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.intake import settings_for
from gateway.logs import configure_logging
from gateway.runtime import build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import start_gateway

PARAGRAPH = (
    "Hei. Jeg skriver om møtet neste uke og om det Emil fortalte på skolen i går. "
    "Vi har snakket med helsesykepleier, og hun mener det er lurt at vi tar en prat sammen "
    "før møtet. Jeg kan ringes på 912 34 567 etter klokka tre hver dag denne uken.\n"
)


def message(i: int, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"forelder{i}@example.org"  # many families: no per-sender limit decides
    msg["To"] = to
    msg["Subject"] = f"Angående møtet ({i})"
    msg["Message-ID"] = f"<bench-{i}@example.org>"
    body = ""
    while len(body) < 7600:
        body += PARAGRAPH
    msg.set_content(body[:7600])
    return msg.as_bytes()


async def send_all(port: int, messages: list[tuple[str, str, bytes]], connections: int) -> float:
    queue = list(reversed(messages))

    async def lane() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await client.connect()
        try:
            while queue:
                sender, rcpt, data = queue.pop()
                await client.sendmail(sender, [rcpt], data)
        finally:
            await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    configure_logging("json", "warning")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/smtp.db"
        base = settings_for(url)
        settings = replace(
            base,
            smtp=replace(base.smtp, enabled=True, host="127.0.0.1", port=0, rate_limit_count=10**6),
            metrics=replace(base.metrics, port=0),  # other runs on this machine may hold 9464
        )
        rt = build_runtime(settings, senders={}, keyring=parse_keys(new_key_line("bench")))
        await rt.db.migrate()
        gw = await start_gateway(rt, relay=False)
        to = settings.email.service_address
        messages = [(f"forelder{i}@example.org", to, message(i, to)) for i in range(args.messages)]
        loop = asyncio.get_running_loop()
        sink = await loop.create_server(lambda: SMTP(Sink()), "127.0.0.1", 0)
        sink_port = int(sink.sockets[0].getsockname()[1])
        try:
            bare = await send_all(sink_port, messages, args.connections)
            assert gw.smtp_port is not None
            started = time.perf_counter()
            ours = await send_all(gw.smtp_port, messages, args.connections)
            assert gw.receipts is not None
            await gw.receipts.until_drained()
            filed = time.perf_counter() - started
        finally:
            sink.close()
            await gw.stop()
    n = args.messages
    print(
        f"smtp, {args.connections} connections, {len(messages[0][2]) / 1024:.1f} KB messages: "
        f"gateway {n / ours:8.1f} msg/s   aiosmtpd Sink {n / bare:8.1f} msg/s   "
        f"ratio {bare / ours:.2f}   (all {n} filed {filed:.1f} s after the first DATA)"
    )


if __name__ == "__main__":
    asyncio.run(main())
