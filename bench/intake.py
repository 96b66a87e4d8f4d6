"""Intake cost against bare baselines measured in the same run.

1. Pipeline: ``IntakeService.accept`` (normalise, match, classify, seal, message + queue item +
   audit event, committed before it returns) versus a bare durable insert of the same raw
   bytes, one transaction each, on the same database: one at a time, then 32 in flight (the
   pipeline's group commit shares transactions; each bare insert keeps its own). Also prints
   SQL statements per message (transaction control included), trips to SQLite's thread per
   message (several statements may ride in one) and the pipeline's CPU time per message (the
   figure to compare between versions on a busy machine).
2. Webhook: a signed Twilio webhook through the real aiohttp server versus a bare aiohttp handler
   that reads the form and answers 200, same client, same loop.

Prints messages/s for each and the ratio (ours / baseline). Absolute times mislead on shared
machines; the ratios are what to compare between versions.

    python bench/intake.py [--messages 400] [--database-url URL] [--loop uvloop|asyncio]

For load from outside the process (wrk against `case-gateway serve`) see bench/load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
from aiohttp import web
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.cli import serving_loop_factory
from gateway.core.inbound import InboundMessage
from gateway.logs import configure_logging
from gateway.runtime import build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import start_gateway
from gateway.settings import Settings
from gateway.storage.db import StatementCounter, utcnow

BODY = "Hei, Emil er syk i dag og blir hjemme. Ring meg på 912 34 567 etter klokka tre. Hilsen Kari"
TOKEN = "bench-token-0123456789"
PUBLIC = "https://bench.example"


def settings_for(url: str) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=url),
        web=replace(s.web, port=0, public_url=PUBLIC),
        metrics=replace(s.metrics, port=0),  # another gateway here may hold the default port
        smtp=replace(s.smtp, enabled=False),
        twilio=replace(
            s.twilio, auth_token=TOKEN, account_sid="AC" + "b" * 32, from_number="+4759440000"
        ),
    )


def inbound(i: int) -> InboundMessage:
    raw = f"MessageSid=SM{i:032d}&From=%2B4791234567&Body={BODY}".encode()
    return InboundMessage(
        channel="sms",
        provider_id=f"SM{i:032d}",
        sender="+4791234567",
        recipient="+4759440000",
        text=BODY,
        raw=raw,
        received_at=utcnow(),
    )


class TripCounter:
    """Counts the trips to aiosqlite's threads (a statement, or several riding together, or a
    commit): on SQLite each is a hand-over between threads, which costs about as much as the
    work it carries under load. Stays 0 on PostgreSQL."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Any = None

    def __enter__(self) -> TripCounter:
        self._original = original = aiosqlite.Connection._execute
        counter = self

        async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            return await original(conn, fn, *args, **kwargs)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *_exc: object) -> None:
        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]


async def bench_pipeline(
    url: str, n: int, in_flight: int = 1
) -> tuple[float, float, float, float, float]:
    rt = build_runtime(settings_for(url), senders={}, keyring=parse_keys(new_key_line("bench")))
    await rt.db.migrate()
    async with rt.db.transaction() as tx:
        await apply_import(
            tx,
            [
                CaseRow(
                    1,
                    "2026-0001",
                    "Bench",
                    "Team",
                    None,
                    "open",
                    [ContactRow("Kari Nordmann", "parent", "+4791234567", None, "nb", True, True)],
                )
            ],
            "bench",
        )
        await tx.session.execute(
            text(
                "CREATE TABLE bare_intake (id INTEGER PRIMARY KEY, provider_id TEXT UNIQUE, "
                f"raw {'BLOB' if rt.db.is_sqlite else 'BYTEA'})"
            )
        )
    msgs = [inbound(i) for i in range(n)]
    await rt.intake.accept(inbound(10**9))  # warm-up: imports, compiled patterns, pool

    async def lanes(work: list[int], one: Callable[[int], Awaitable[object]]) -> float:
        queue = list(reversed(work))

        async def lane() -> None:
            while queue:
                await one(queue.pop())

        start = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(in_flight)))
        return time.perf_counter() - start

    async def bare_insert(i: int) -> None:
        async with rt.db.transaction() as tx:
            await tx.session.execute(
                text("INSERT INTO bare_intake (id, provider_id, raw) VALUES (:i, :p, :r)"),
                {"i": i, "p": msgs[i].provider_id, "r": msgs[i].raw},
            )

    cpu = time.process_time()
    with StatementCounter(rt.db.engine) as counter, TripCounter() as trips:
        ours = await lanes(list(range(n)), lambda i: rt.intake.accept(msgs[i]))
    cpu = time.process_time() - cpu
    bare = await lanes(list(range(n)), bare_insert)
    await rt.close()
    return n / ours, n / bare, counter.count / n, trips.count / n, 1000 * cpu / n


async def reset_bench_tables(url: str) -> None:
    """A given database is reused between the runs: start each from an empty schema."""
    from gateway.storage.db import Database

    db = Database(url)
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            raise SystemExit("--database-url is for PostgreSQL; SQLite runs use fresh files")
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.close()


async def bench_webhook(url: str, n: int) -> tuple[float, float]:
    from twilio.request_validator import RequestValidator

    rt = build_runtime(settings_for(url), senders={}, keyring=parse_keys(new_key_line("bench")))
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)

    async def bare_handler(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text="<Response/>", content_type="text/xml")

    bare_app = web.Application()
    bare_app.router.add_post("/webhooks/twilio/sms", bare_handler)
    runner = web.AppRunner(bare_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bare_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    validator = RequestValidator(TOKEN)
    requests = []
    for i in range(n):
        params = {
            "MessageSid": f"SW{i:032d}",
            "AccountSid": "AC" + "b" * 32,
            "From": "+4791234567",
            "To": "+4759440000",
            "Body": BODY,
            "NumMedia": "0",
        }
        requests.append(
            (params, validator.compute_signature(PUBLIC + "/webhooks/twilio/sms", params))
        )
    async with aiohttp.ClientSession() as http:

        async def run(port: int) -> float:
            start = time.perf_counter()
            for params, sig in requests:
                async with http.post(
                    f"http://127.0.0.1:{port}/webhooks/twilio/sms",
                    data=params,
                    headers={"X-Twilio-Signature": sig},
                ) as resp:
                    assert resp.status == 200, resp.status
            return time.perf_counter() - start

        bare = await run(bare_port)
        ours = await run(gw.web_port)
    await runner.cleanup()
    await gw.stop()
    return n / ours, n / bare


async def main(args: argparse.Namespace) -> None:
    print(f"event loop: {type(asyncio.get_running_loop()).__module__}")
    configure_logging("json", "warning")  # production logs at info; kept off the terminal here
    with tempfile.TemporaryDirectory() as tmp:
        for n, in_flight in enumerate((1, 32)):
            url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench{n}.db"
            if args.database_url:
                await reset_bench_tables(url)
            ours, bare, statements, trips, cpu_ms = await bench_pipeline(
                url, args.messages, in_flight
            )
            # CPU per message (this process, its database threads included) varies far less
            # with what else the machine runs than msg/s does.
            print(
                f"pipeline, {in_flight:2} in flight: {ours:8.1f} msg/s   "
                f"bare durable insert: {bare:8.1f} msg/s   ratio {ours / bare:.2f}   "
                f"({statements:.1f} SQL statements, {trips:.1f} trips to SQLite's thread, "
                f"{cpu_ms:.1f} ms CPU per message)"
            )
        url2 = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench2.db"
        if args.database_url:
            await reset_bench_tables(url2)
        ours, bare = await bench_webhook(url2, args.messages)
        print(
            f"webhook:  {ours:8.1f} msg/s   bare aiohttp handler: {bare:8.1f} msg/s   ratio {ours / bare:.2f}"
        )


def run() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="default: as serve runs"
    )
    args = parser.parse_args()
    factory = serving_loop_factory() if args.loop == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(args))


if __name__ == "__main__":
    run()
