"""Relay throughput and exactly-once against the fake Twilio API, in the same run.

1. Throughput: N queued replies drained by the relay (claim, open the sealed body, send
   through the Twilio client, record the outcome with its audit event) versus bare HTTP POSTs
   of the same forms to the same fake at the same concurrency. Prints replies/s and the ratio.
2. A bad day: the fake fails half its calls (errors, resets before acceptance, answers lost
   after acceptance, slow lookups) and does not honour the idempotency header; two relays
   drain side by side. Prints how many replies Twilio accepted more than once (must be 0),
   how many were sent, and that every reply that failed for good is shown on its case.

    python bench/relay.py [--replies 1000] [--bad-day 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.twilio_rest import TwilioSmsSender
from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.logs import configure_logging
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import Keyring, new_key_line, parse_keys
from gateway.settings import Settings
from gateway.storage.models import Contact, OutboxJob, QueueItem
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT = "AC" + "c" * 32
TOKEN = "bench-relay-token-0123456789"
FAMILY = "+4791234567"


def settings_for(url: str, fake: FakeTwilio) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=url),
        web=replace(s.web, port=0, public_url="https://bench.example"),
        smtp=replace(s.smtp, enabled=False),
        sms=replace(s.sms, provider="twilio"),
        twilio=replace(
            s.twilio,
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            from_number="+4759440000",
            api_base_url=fake.base_url,
            max_per_second=100_000.0,  # the provider's allowed rate is not the limit here
        ),
        relay=replace(
            s.relay,
            poll_seconds=0.05,
            backoff_base_seconds=0.0,
            backoff_cap_seconds=0.0,
            max_attempts=40,
            batch_size=100,
            concurrency=16,
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
                ids.append(result.message_id)
    return ids


async def drain(*relays: Runtime) -> None:
    for _ in range(10_000):
        done = await asyncio.gather(*(r.relay.run_once() for r in relays))
        if sum(done) == 0:
            return


async def bare_posts(fake: FakeTwilio, n: int, concurrency: int) -> float:
    """The same forms POSTed straight to the fake: the floor any relay pays per send."""
    url = f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
    left = list(range(n))
    async with aiohttp.ClientSession() as http:

        async def lane() -> None:
            while left:
                i = left.pop()
                form = {"To": FAMILY, "From": "+4759440000", "Body": f"Svar {i}"}
                async with http.post(url, data=form, headers=auth) as resp:
                    await resp.read()

        start = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return time.perf_counter() - start


async def throughput(url: str, n: int, keyring: Keyring) -> None:
    fake = FakeTwilio(ACCOUNT, TOKEN, honour_idempotency=False)
    await fake.start()
    settings = settings_for(url, fake)
    rt = runtime(settings, keyring)
    try:
        await rt.db.migrate()
        await queue_replies(rt, n)
        bare = await bare_posts(fake, n, settings.relay.concurrency)
        fake.accepted.clear()
        start = time.perf_counter()
        await drain(rt)
        ours = time.perf_counter() - start
        twice = sum(1 for i in range(1, n + 1) if len(fake.accepted_for(i)) > 1)
    finally:
        await rt.close()
        await fake.stop()
    print(
        f"relay throughput: {n} replies, {settings.relay.concurrency} in flight: "
        f"relay {n / ours:8.1f} replies/s   bare POSTs {n / bare:8.1f} req/s   "
        f"ratio {bare / ours:.2f}   sent twice: {twice}"
    )


async def bad_day(url: str, n: int, keyring: Keyring) -> None:
    fake = FakeTwilio(ACCOUNT, TOKEN, honour_idempotency=False)
    await fake.start()
    settings = settings_for(url, fake)
    first, second = runtime(settings, keyring, 0.5), runtime(settings, keyring, 0.5)
    try:
        await first.db.migrate()
        ids = await queue_replies(first, n)
        fake.chaos(0.5, stall=1.0)
        start = time.perf_counter()
        await drain(first, second)
        took = time.perf_counter() - start
        async with first.db.read() as s:
            states = {j.message_id: j.state for j in (await s.execute(select(OutboxJob))).scalars()}
            shown = set(
                (
                    await s.execute(
                        select(QueueItem.message_id).where(QueueItem.reason.like("SMS not sent%"))
                    )
                ).scalars()
            )
    finally:
        await first.close()
        await second.close()
        await fake.stop()
    twice = [i for i in ids if len(fake.accepted_for(i)) > 1]
    sent = [i for i in ids if states.get(i) == "sent"]
    dead = [i for i in ids if states.get(i) == "dead"]
    failed_but_accepted = [i for i in dead if fake.accepted_for(i)]
    print(
        f"bad day (half of Twilio's calls fail, two relays): {n} replies in {took:.1f} s, "
        f"{len(fake.sent())} send requests: sent {len(sent)}, failed {len(dead)}, "
        f"left {n - len(sent) - len(dead)}; accepted twice: {len(twice)}; "
        f"marked failed but accepted: {len(failed_but_accepted)}; "
        f"failures shown on the case: {len(set(dead) & shown)}/{len(dead)}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--bad-day", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: fresh SQLite files")
    args = parser.parse_args()
    if args.database_url:
        raise SystemExit("bench/relay.py: --database-url is not supported yet; SQLite only")
    configure_logging("json", "error")
    keyring = parse_keys(new_key_line("bench"))
    with tempfile.TemporaryDirectory() as tmp:
        await throughput(f"sqlite+aiosqlite:///{tmp}/relay.db", args.replies, keyring)
        await bad_day(f"sqlite+aiosqlite:///{tmp}/bad.db", args.bad_day, keyring)


if __name__ == "__main__":
    asyncio.run(main())
