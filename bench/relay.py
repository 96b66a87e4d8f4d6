"""Relay throughput and exactly-once against a fake Twilio Messages API, in the same run.

The provider stand-in is ``tests/fakes/twilio_messages.py``: a process of its own (Twilio does
not share our CPU) answering sends, look-ups and fetches with a minimal HTTP server, so that it
is not what limits the run.

1. Throughput:
   - the fake alone: wrk POSTs send requests at it, which is what it can take at most (it must
     be well above the relay's rate, or the run measures the fake);
   - bare POSTs: the same forms from an aiohttp client here, at the relay's concurrency, which
     is the floor any relay in Python pays per send;
   - the relay: N queued replies drained by the relay worker as ``serve`` runs it
     (``Relay.run``, logging JSON at serve's default level ``info`` to a file): claim with a
     lease, open the sealed body, send, record the outcome with its audit event. Prints
     replies/s, the ratio to bare POSTs, the CPU time per reply, log lines per reply, and how
     many replies the fake accepted more than once (must be 0).
2. A bad day: the fake fails half its calls (errors, resets before acceptance, answers lost
   after acceptance, failing look-ups) and does not honour the idempotency header; two relays
   drain side by side. Prints how many replies Twilio accepted more than once (must be 0), how
   many were sent, how many were marked failed although Twilio accepted them (must be 0), and
   that every reply that failed for good is shown on its case.

    python bench/relay.py [--replies 2000] [--bad-day 200] [--database-url URL] [--loop asyncio]

It runs on the event loop ``serve`` runs on (uvloop where installed); ``--loop asyncio`` runs
it on the standard loop instead, labelled in the output. ``--database-url`` takes a PostgreSQL server URL; each run
makes its own database there and drops it afterwards. Without it, fresh SQLite files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import pg_admin
from connectors.twilio_rest import TwilioSmsSender
from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.cli import serving_loop_factory
from gateway.logs import configure_logging
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import Keyring, new_key_line, parse_keys
from gateway.settings import Settings
from gateway.storage.models import Contact, OutboxJob, QueueItem

ACCOUNT = "AC" + "c" * 32
TOKEN = "bench-relay-token-0123456789"
FAMILY = "+4791234567"
SERVICE = "+4759440000"
PUBLIC = "https://bench.example"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Provider:
    """The fake Twilio as a process of its own: its address, and what it accepted."""

    base_url: str

    async def accepted(self) -> tuple[int, Counter[int]]:
        """(send requests, accepted messages per our message id)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.base_url}/_fake/accepted") as resp,
        ):
            data = await resp.json()
        found = (re.search(r"\?message=(\d+)$", a["callback"]) for a in data["accepted"])
        return int(data["sends"]), Counter(int(m.group(1)) for m in found if m)


@asynccontextmanager
async def provider(chaos: float = 0.0) -> AsyncIterator[Provider]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.twilio_messages",
        "--account",
        ACCOUNT,
        "--token",
        TOKEN,
        "--chaos",
        str(chaos),
        "--stall",
        "1.0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        port = int((await proc.stdout.readline()).decode())
        yield Provider(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        await proc.wait()


def settings_for(url: str, base_url: str) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=url),
        web=replace(s.web, port=0, public_url=PUBLIC),
        smtp=replace(s.smtp, enabled=False),
        sms=replace(s.sms, provider="twilio"),
        twilio=replace(
            s.twilio,
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            from_number=SERVICE,
            api_base_url=base_url,
            max_per_second=100_000.0,  # the provider's allowed rate is not the limit here
        ),
        relay=replace(
            s.relay,
            poll_seconds=0.05,
            backoff_base_seconds=0.0,
            backoff_cap_seconds=0.0,
            max_attempts=40,
            batch_size=100,
            concurrency=64,  # Twilio answers in 100-300 ms: many sends must be out at once
        ),
        practice=replace(
            s.practice, receipts=False, out_of_hours_notice=False, unknown_sender_notice=False
        ),
    )


def runtime(settings: Settings, keyring: Keyring, timeout: float = 5.0) -> Runtime:
    sender = TwilioSmsSender(settings, timeout=timeout)
    return build_runtime(settings, senders={"sms": sender}, keyring=keyring)


async def queue_replies(rt: Runtime, n: int) -> list[int]:
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
                    [ContactRow("Kari Nordmann", "parent", FAMILY, None, "nb", True, True)],
                )
            ],
            "bench",
        )
    async with rt.db.read() as s:
        contact_id = (await s.execute(select(Contact.id))).scalar_one()
    ids: list[int] = []
    for start in range(0, n, 200):
        async with rt.db.transaction() as tx:
            for i in range(start, min(n, start + 200)):
                result = await rt.replies.reply_in(
                    tx,
                    actor="bench",
                    author_id=None,
                    case_ref="2026-0001",
                    body=f"Svar {i}: vi ringer deg i morgen formiddag.",
                    channel="sms",
                    contact_id=contact_id,
                )
                assert result.message_id is not None
                ids.append(result.message_id)
    return ids


async def drain(*relays: Runtime) -> None:
    """Run the relays' workers side by side, as ``serve`` runs one, until nothing is left to
    send (backoff is 0: a retry is due at once), then stop them as ``serve`` does."""
    stop = asyncio.Event()
    workers = [asyncio.create_task(r.relay.run(stop)) for r in relays]
    try:
        while not any(w.done() for w in workers):
            await asyncio.sleep(0.1)  # a count every 0.1 s: a small share of the relay's work
            async with relays[0].db.read() as s:
                left = (
                    await s.execute(
                        select(func.count())
                        .select_from(OutboxJob)
                        .where(OutboxJob.state.not_in(("sent", "dead")))
                    )
                ).scalar_one()
            if left == 0:
                break
    finally:
        stop.set()
        await asyncio.gather(*workers)


def send_form(i: int) -> dict[str, str]:
    """What the relay posts for a reply (message id 0: none of ours)."""
    return {
        "To": FAMILY,
        "From": SERVICE,
        "Body": f"Svar {i}: vi ringer deg i morgen formiddag.",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio/status?message=0",
    }


async def bare_posts(base_url: str, n: int, concurrency: int) -> tuple[float, float]:
    """The same forms POSTed straight to the fake: the floor any relay pays per send.
    Returns (seconds, CPU seconds of this process)."""
    url = base_url + MESSAGES_PATH
    auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
    left = list(range(n))
    async with aiohttp.ClientSession() as http:

        async def lane() -> None:
            while left:
                async with http.post(url, data=send_form(left.pop()), headers=auth) as resp:
                    await resp.read()
                    assert resp.status == 201, resp.status

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return time.perf_counter() - start, time.process_time() - cpu


def fake_alone(base_url: str, connections: int, seconds: int = 3) -> float | None:
    """Requests/s wrk gets from the fake (the provider's ceiling in this run), if wrk is here."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {urlencode(send_form(0))!r}\n"
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Authorization"] = {aiohttp.encode_basic_auth(ACCOUNT, TOKEN)!r}\n'
        )
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                script.name,
                base_url + MESSAGES_PATH,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found.group(1)) if found else None


@contextlib.contextmanager
def logs_to_file(path: Path) -> Iterator[None]:
    """Log lines (JSON, as ``serve`` writes them) go to ``path`` instead of the terminal."""
    saved = sys.stderr
    with path.open("w") as sink:
        sys.stderr = sink
        try:
            yield
        finally:
            sys.stderr = saved


def line_count(path: Path) -> int:
    with path.open() as lines:
        return sum(1 for _ in lines)


async def throughput(url: str, n: int, keyring: Keyring, tmp: str) -> None:
    async with provider() as fake:
        settings = settings_for(url, fake.base_url)
        concurrency = settings.relay.concurrency
        alone = fake_alone(fake.base_url, concurrency)
        rt = runtime(settings, keyring)
        try:
            await rt.db.migrate()
            ids = await queue_replies(rt, n)
            bare, bare_cpu = await bare_posts(fake.base_url, n, concurrency)
            with logs_to_file(Path(tmp) / "relay.log"):
                start, cpu = time.perf_counter(), time.process_time()
                await drain(rt)
                ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
            lines = line_count(Path(tmp) / "relay.log")
            async with rt.db.read() as s:
                sent = (
                    await s.execute(
                        select(func.count()).select_from(OutboxJob).where(OutboxJob.state == "sent")
                    )
                ).scalar_one()
        finally:
            await rt.close()
        _, per_message = await fake.accepted()
    twice = sum(1 for i in ids if per_message[i] > 1)
    print(
        f"relay throughput ({n} replies, {concurrency} in flight): "
        f"relay {n / ours:7.1f} replies/s   bare POSTs {n / bare:7.1f} req/s   "
        f"ratio {bare / ours:.2f}   fake alone (wrk) "
        + (f"{alone:7.1f} req/s" if alone is not None else "n/a")
        + f"   sent {sent}/{n}, accepted twice: {twice}, "
        f"not accepted: {sum(1 for i in ids if per_message[i] == 0)}"
    )
    print(
        f"  CPU of this process per reply: relay {ours_cpu / n * 1000:.2f} ms, "
        f"bare POST {bare_cpu / n * 1000:.2f} ms (ratio {bare_cpu / ours_cpu:.2f}; "
        "the measure least moved by other load on the machine); "
        f"log lines per reply at info: {lines / n:.2f}"
    )


async def bad_day(url: str, n: int, keyring: Keyring, tmp: str) -> None:
    async with provider(chaos=0.5) as fake:
        settings = settings_for(url, fake.base_url)
        first, second = runtime(settings, keyring, 0.5), runtime(settings, keyring, 0.5)
        try:
            await first.db.migrate()
            ids = await queue_replies(first, n)
            with logs_to_file(Path(tmp) / "bad-day.log"):
                start = time.perf_counter()
                await drain(first, second)
                took = time.perf_counter() - start
            async with first.db.read() as s:
                states = {
                    row.message_id: row.state
                    for row in await s.execute(select(OutboxJob.message_id, OutboxJob.state))
                }
                shown = set(
                    (
                        await s.execute(
                            select(QueueItem.message_id).where(
                                QueueItem.reason.like("SMS not sent%")
                            )
                        )
                    ).scalars()
                )
        finally:
            await first.close()
            await second.close()
        sends, per_message = await fake.accepted()
    twice = [i for i in ids if per_message[i] > 1]
    sent = [i for i in ids if states.get(i) == "sent"]
    dead = [i for i in ids if states.get(i) == "dead"]
    failed_but_accepted = [i for i in dead if per_message[i]]
    print(
        f"bad day (half of Twilio's calls fail, two relays): {n} replies in {took:.1f} s, "
        f"{sends} send requests: sent {len(sent)}, failed {len(dead)}, "
        f"left {n - len(sent) - len(dead)}; accepted twice: {len(twice)}; "
        f"marked failed but accepted: {len(failed_but_accepted)}; "
        f"failures shown on the case: {len(set(dead) & shown)}/{len(dead)}"
    )


@asynccontextmanager
async def database(server_url: str | None, tmp: str, name: str) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if server_url is None:
        yield f"sqlite+aiosqlite:///{tmp}/{name}.db"
        return

    base = make_url(server_url)
    db_name = f"cg_bench_relay_{secrets.token_hex(4)}"
    await pg_admin(server_url, f'CREATE DATABASE "{db_name}"')
    try:
        yield base.set(database=db_name).render_as_string(hide_password=False)
    finally:
        await pg_admin(server_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> None:
    configure_logging("json", "info")  # serve's default level; the lines go to a file
    keyring = parse_keys(new_key_line("bench"))
    with tempfile.TemporaryDirectory() as tmp:
        async with database(args.database_url, tmp, "relay") as url:
            await throughput(url, args.replies, keyring, tmp)
        if args.bad_day:
            async with database(args.database_url, tmp, "bad") as url:
                await bad_day(url, args.bad_day, keyring, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=2000)
    parser.add_argument("--bad-day", type=int, default=200)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server (default: SQLite files)"
    )
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="default: as serve runs"
    )
    args = parser.parse_args()
    if args.database_url and args.database_url.startswith("sqlite"):
        raise SystemExit("bench/relay.py: --database-url is for PostgreSQL; SQLite uses new files")
    factory = serving_loop_factory() if args.loop == "uvloop" else None
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"event loop: {'uvloop' if factory else 'asyncio'}; load average {load}")
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(run(args))


if __name__ == "__main__":
    main()
