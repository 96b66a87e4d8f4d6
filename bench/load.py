"""Webhook load: wrk replaying pre-signed Twilio webhooks against the real `case-gateway serve`
and a bare aiohttp handler that reads the same form, in the same run, on SQLite and PostgreSQL.

Every request carries its own MessageSid and a valid X-Twilio-Signature (signed before the
run). An SMS is answered once committed as received and filed after; so when wrk stops, the
benchmark waits until serve has filed the backlog (``/readyz`` shows no receipt waiting) and
only then counts. Prints req/s, p50, p99 for both, the ratio (ours / bare), serve's CPU time
per answered request, the filing rate (messages filed per second from wrk's start until the
backlog is empty: the rate serve sustains, answering and filing), the peak RSS of serve, and
checks that every request answered 200 is stored exactly once.

    python bench/load.py [--seconds 10] [--connections 32] [--pg-url URL | --no-pg]
                         [--checkout DIR]

``--checkout DIR`` runs serve from another checkout of the gateway (e.g. the previous version)
with this script, so two versions are measured the same way in the same hour.

Needs wrk (Debian package wrk). PostgreSQL: --pg-url, else CASE_GATEWAY_TEST_DATABASE_URL's
server, else 127.0.0.1:5432 if it answers; a fresh database is made for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.storage.db import Database
from gateway.storage.models import Message

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token-0123456789"
ACCOUNT = "AC" + "b" * 32
PUBLIC = "https://bench.example"
SERVICE_NUMBER = "+4759440000"
BODY = "Hei, Emil er syk i dag og blir hjemme. Ring meg på 912 34 567 etter klokka tre. Hilsen Kari"
BARE = """
import sys
from aiohttp import web

async def handler(request):
    await request.post()
    return web.Response(text='<?xml version="1.0" encoding="UTF-8"?><Response/>',
                        content_type="text/xml")

app = web.Application()
app.router.add_post("/webhooks/twilio/sms", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_requests(path: Path, count: int, run: str) -> None:
    """``count`` signed webhooks, one per line: signature TAB form body."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    url = PUBLIC + "/webhooks/twilio/sms"
    with path.open("w") as out:
        for i in range(count):
            params = {
                "MessageSid": f"SM{run}{i:024d}",
                "AccountSid": ACCOUNT,
                # Many families: a per-sender rate limit must not decide what is stored.
                "From": f"+4791{i % 1000000:06d}",
                "To": SERVICE_NUMBER,
                "Body": BODY,
                "NumMedia": "0",
            }
            out.write(f"{validator.compute_signature(url, params)}\t{urlencode(params)}\n")


def run_wrk(port: int, requests_file: Path, seconds: int, connections: int, threads: int) -> dict:
    env = dict(os.environ, BENCH_REQUESTS=str(requests_file), BENCH_THREADS=str(threads))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "20s",
            "-s",
            str(HERE / "webhook_load.lua"),
            f"http://127.0.0.1:{port}/webhooks/twilio/sms",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = [x for x in out.splitlines() if x.startswith("{")][-1]
    return dict(json.loads(line))


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: the server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"bench: nothing listens on {port} after {seconds} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc; 0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Resident memory of a process over time, read from /proc while the load runs.

    A thread reads ``VmRSS`` every ``interval`` seconds, so the report can say whether the
    peak came while requests were answered or while the backlog was filed after; ``VmHWM``
    (the kernel's own high-water mark) is the peak itself, including moments between reads.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.samples: list[tuple[float, int]] = []  # (time.monotonic(), VmRSS kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.read()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.read()

    def read(self) -> None:
        try:
            lines = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        except OSError:
            return
        for line in lines:
            if line.startswith("VmHWM:"):
                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            elif line.startswith("VmRSS:"):
                self.samples.append((time.monotonic(), int(line.split()[1])))

    def peak_between(self, start: float, end: float) -> int:
        """The highest VmRSS read in [start, end] (kB; 0 when none was read)."""
        return max((kb for t, kb in self.samples if start <= t <= end), default=0)

    def at(self, moment: float) -> int:
        """VmRSS read last before ``moment`` (kB)."""
        before = [kb for t, kb in self.samples if t <= moment]
        return before[-1] if before else 0


def gateway_env(url: str, tmp: Path, port: int, checkout: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if checkout is not None:  # serve imports the gateway from there, not from this tree
        env["PYTHONPATH"] = str(checkout)
    env.update(
        {
            "CASE_GATEWAY_DATABASE_URL": url,
            "CASE_GATEWAY_WEB_PORT": str(port),
            # Any free port: another gateway on this machine may hold the default 9464.
            "CASE_GATEWAY_METRICS_PORT": "0",
            "CASE_GATEWAY_SMTP_ENABLED": "false",
            "CASE_GATEWAY_WEB_PUBLIC_URL": PUBLIC,
            "CASE_GATEWAY_TWILIO_ACCOUNT_SID": ACCOUNT,
            "CASE_GATEWAY_TWILIO_AUTH_TOKEN": TOKEN,
            "CASE_GATEWAY_TWILIO_FROM_NUMBER": SERVICE_NUMBER,
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp / "keys"),
            "CASE_GATEWAY_LOG_FORMAT": "json",
            "CASE_GATEWAY_LOG_LEVEL": "warning",
        }
    )
    return env


def cli(env: dict[str, str], tmp: Path, cwd: Path | None, *args: str) -> None:
    (tmp / "none.toml").write_text("")
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--config", str(tmp / "none.toml"), *args],
        env=env,
        check=True,
        capture_output=True,
        cwd=cwd,
    )


def waiting_receipts(port: int) -> int | None:
    """Messages serve answered and has not filed yet (``/readyz``); None when it cannot say."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as r:
            receipts = json.load(r).get("receipts") or {}
    except (OSError, ValueError):
        return None
    waiting = receipts.get("waiting")
    return int(waiting) if waiting is not None else None


def wait_filed(port: int, proc: subprocess.Popen[bytes], limit: float) -> float:
    """Wait until serve has filed everything it answered; returns when (time.monotonic())."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: serve exited with {proc.returncode} while filing")
        if waiting_receipts(port) == 0:
            return time.monotonic()
        time.sleep(0.5)  # each look costs serve a request and a count: rarely
    raise SystemExit(f"bench: the backlog was not filed within {limit:.0f} s")


async def stored(url: str, prefix: str) -> tuple[int, int]:
    """(messages with this run's MessageSids, distinct MessageSids among them)."""
    db = Database(url)
    try:
        async with db.read() as s:
            row = (
                await s.execute(
                    select(func.count(), func.count(func.distinct(Message.provider_id))).where(
                        Message.provider_id.like(f"{prefix}%")
                    )
                )
            ).one()
    finally:
        await db.close()
    return int(row[0]), int(row[1])


def bench_one(label: str, url: str, args: argparse.Namespace, tmp: Path) -> None:
    run = secrets.token_hex(3)
    requests_file = tmp / f"requests-{label}.txt"
    write_requests(requests_file, args.requests, run)
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])
    try:
        wait_port(bare_port, bare)
        bare_result = run_wrk(
            bare_port, requests_file, args.seconds, args.connections, args.threads
        )
    finally:
        bare.terminate()
        bare.wait()
    port = free_port()
    checkout = args.checkout
    env = gateway_env(url, tmp, port, checkout)
    if not (tmp / "keys").exists():
        cli(env, tmp, checkout, "keys", "generate", "--file", str(tmp / "keys"))
    cli(env, tmp, checkout, "migrate")
    (tmp / "none.toml").write_text("")
    command = ["-m", "gateway.cli", "--config", str(tmp / "none.toml"), "serve"]
    if args.tracemalloc is not None:  # the same process, so the RSS read is still serve's
        trace = [str(HERE / "memory_trace.py"), str(args.tracemalloc / label), "10", "--"]
        command = [*trace, *command[2:]]
    serve = subprocess.Popen(
        [sys.executable, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=checkout,
    )
    sampler = RssSampler(serve.pid)
    sampler.start()
    try:
        wait_port(port, serve)
        wait_filed(port, serve, 60)  # ready: /readyz answers
        if args.tracemalloc is not None:
            (args.tracemalloc / label / "start").touch()  # what serving allocates, from here
            time.sleep(1)
        cpu_before = cpu_seconds(serve.pid)
        started = time.monotonic()
        ours = run_wrk(port, requests_file, args.seconds, args.connections, args.threads)
        cpu_used = cpu_seconds(serve.pid) - cpu_before
        stopped = time.monotonic()
        backlog = waiting_receipts(port) or 0
        filed_at = wait_filed(port, serve, args.filing_limit)
        cpu_filed = cpu_seconds(serve.pid) - cpu_before
    finally:
        sampler.stop()
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    if args.rss_log is not None:  # seconds from wrk's start, VmRSS in MB, the phase
        with args.rss_log.with_suffix(f".{label}.tsv").open("w") as out:
            for t, kb in sampler.samples:
                phase = "ready" if t < started else "wrk" if t <= stopped else "filing"
                phase = "filed" if t > filed_at else phase
                out.write(f"{t - started:.2f}\t{kb / 1024:.1f}\t{phase}\n")
    total, distinct = asyncio.run(stored(url, f"SM{run}"))
    filing_seconds = filed_at - started
    ours_rps = ours["requests"] / ours["seconds"]
    bare_rps = bare_result["requests"] / bare_result["seconds"]
    print(
        f"{label:10} serve: {ours_rps:8.0f} req/s  p50 {ours['p50_ms']:7.1f} ms  "
        f"p99 {ours['p99_ms']:7.1f} ms | bare aiohttp: {bare_rps:8.0f} req/s  "
        f"p50 {bare_result['p50_ms']:6.1f} ms  p99 {bare_result['p99_ms']:6.1f} ms | "
        f"ratio {ours_rps / bare_rps:.3f}"
    )
    # Requests still in flight when wrk stops are stored but never counted as answered, so
    # stored may exceed the 200s by up to one per connection; a MessageSid twice never.
    in_flight = total - ours["ok"]
    exactly_once = total == distinct and 0 <= in_flight <= args.connections + ours["not_ok"]
    unanswered = ours["errors"] + ours["timeouts"]
    print(
        f"{'':10} answered 200: {ours['ok']}, other answers: {ours['not_ok']}, "
        f"socket errors/timeouts: {unanswered}, stored: {total} "
        f"({distinct} distinct MessageSids; {in_flight} were in flight when wrk stopped) -> "
        f"every 200 stored exactly once: {'yes' if exactly_once else 'NO'}"
        + (f"; {ours['exhausted']} requests repeated a MessageSid" if ours["exhausted"] else "")
    )
    # CPU time per answered request depends far less on what else the machine runs than
    # req/s does: the figure to compare between versions on a shared machine.
    print(
        f"{'':10} serve peak RSS: {sampler.peak_kb / 1024:.0f} MB (ready "
        f"{sampler.at(started) / 1024:.0f}, highest while wrk ran "
        f"{sampler.peak_between(started, stopped) / 1024:.0f}, at wrk's end "
        f"{sampler.at(stopped) / 1024:.0f}, highest while filing "
        f"{sampler.peak_between(stopped, filed_at) / 1024:.0f}, filed "
        f"{sampler.at(filed_at) / 1024:.0f}), "
        f"serve CPU per answered request: {1000 * cpu_used / max(1, ours['ok']):.1f} ms "
        f"while wrk ran, {1000 * cpu_filed / max(1, total):.1f} ms per message filed"
    )
    # What was answered but not yet filed when wrk stopped is filed after; the sustained rate
    # counts both phases: every message stored, over the time until the last one was.
    print(
        f"{'':10} filing: {backlog} waiting when wrk stopped, empty "
        f"{filed_at - stopped:.1f} s later -> filed {total / filing_seconds:.0f} "
        f"msg/s from wrk's start until the backlog was empty"
    )


def postgres_url(args: argparse.Namespace) -> str | None:
    if args.no_pg:
        return None
    base = args.pg_url or os.environ.get("CASE_GATEWAY_TEST_DATABASE_URL")
    if not base:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", 5432)) != 0:
                return None
        base = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    return base


async def pg_admin(base: str, sql: str) -> None:
    import asyncpg

    u = make_url(base)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=100_000, help="unique signed requests")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--checkout", type=Path, default=None, help="run serve from this checkout instead"
    )
    parser.add_argument(
        "--filing-limit", type=float, default=1800, help="seconds to wait for the backlog"
    )
    parser.add_argument(
        "--rss-log", type=Path, default=None, help="write serve's RSS over time to FILE.<db>.tsv"
    )
    parser.add_argument(
        "--tracemalloc",
        type=Path,
        default=None,
        help="tracemalloc snapshots of serve every 10 s in DIR/<db>/ (slower: finds what grows)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py: wrk is not installed; install it: apt-get install wrk")
    print(
        f"wrk: {args.connections} connections, {args.threads} threads, {args.seconds} s; "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.no_sqlite:
            bench_one("sqlite", f"sqlite+aiosqlite:///{tmp / 'load.db'}", args, tmp)
        base = postgres_url(args)
        if base is not None:
            name = f"cg_bench_{secrets.token_hex(4)}"
            asyncio.run(pg_admin(base, f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(base).set(database=name).render_as_string(hide_password=False)
                bench_one("postgresql", url, args, tmp)
            finally:
                asyncio.run(pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print("postgresql: skipped (no server; pass --pg-url)")


if __name__ == "__main__":
    main()
