"""Intake as the data grows: 1,000,000 stored messages and 100,000 cases against an empty
database, in the same run, on the same kind of database.

The large database is seeded directly (PostgreSQL: COPY; SQLite: executemany in big
transactions), not through the pipeline: cases with a parent each, and messages in and out
spread over the cases, each inbound with its queue item. Then the same intake load (known
senders, 32 in flight, group commit) runs against it and against an empty database; the
ratio (large / empty) should stay near 1 (target 0.9). Also times one page of a team lead's
queue listing on both.

    python bench/scale.py [--messages 1000000] [--cases 100000] [--intake 400] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.intake import settings_for
from bench.load import pg_admin, postgres_url
from gateway.core.inbound import InboundMessage
from gateway.logs import configure_logging
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.storage.db import utcnow

BODY = "Hei, Emil er syk i dag og blir hjemme. Ring meg etter klokka tre. Hilsen Kari"
NOW = datetime.now(UTC)
CHUNK = 20_000


def phone(case: int) -> str:
    return f"+479{case:07d}"


def case_rows(cases: int) -> list[tuple[Any, ...]]:
    return [
        (i, f"2020-{i:06d}", f"Sak {i}", f"Team {i % 20}", None, "open", NOW)
        for i in range(1, cases + 1)
    ]


def contact_rows(cases: int) -> list[tuple[Any, ...]]:
    return [
        (i, i, "parent", f"Forelder {i}", phone(i), None, "nb", True, True, False, False, True)
        for i in range(1, cases + 1)
    ]


def message_rows(start: int, count: int, cases: int, rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for mid in range(start, start + count):
        case = rng.randint(1, cases)
        inbound = rng.random() < 0.7
        at = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 365 * 2))
        rows.append(
            (
                mid,
                "in" if inbound else "out",
                "sms",
                f"SMSEED{mid:026d}",
                phone(case) if inbound else "+4759440000",
                "+4759440000" if inbound else phone(case),
                case,
                case,
                "",
                BODY,
                "{}",
                "{}",
                "normal",
                "received" if inbound else "sent",
                "{}",
                at,
            )
        )
    return rows


MESSAGE_COLUMNS = (
    "id, direction, channel, provider_id, sender, recipient, case_id, contact_id, subject, "
    "redacted_text, stripped, classification, priority, status, flags, created_at"
)
QUEUE_COLUMNS = (
    "message_id, case_id, owner_kind, owner_team, state, urgent, reason, created_at, updated_at"
)
CONTACT_COLUMNS = (
    "id, case_id, role, name, phone, email, language, consent_sms, consent_email, "
    "opted_out_sms, opted_out_email, verified"
)


async def seed(rt: Runtime, messages: int, cases: int) -> float:
    start = time.perf_counter()
    rng = random.Random(14)
    if rt.db.is_sqlite:
        await seed_sqlite(rt, messages, cases, rng)
    else:
        await seed_postgres(rt, messages, cases, rng)
    return time.perf_counter() - start


async def seed_sqlite(rt: Runtime, messages: int, cases: int, rng: random.Random) -> None:
    async with rt.db.engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO case_file (id, ref, title, team, caseworker_id, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            case_rows(cases),
        )
        await conn.exec_driver_sql(
            f"INSERT INTO contact ({CONTACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            contact_rows(cases),
        )
    for start in range(1, messages + 1, CHUNK * 5):
        async with rt.db.engine.begin() as conn:
            for sub in range(start, min(messages + 1, start + CHUNK * 5), CHUNK):
                rows = message_rows(sub, min(CHUNK, messages + 1 - sub), cases, rng)
                await conn.exec_driver_sql(
                    f"INSERT INTO message ({MESSAGE_COLUMNS}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                await conn.exec_driver_sql(
                    f"INSERT INTO queue_item ({QUEUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (r[0], r[6], "team", f"Team {r[6] % 20}", "done", False, "", r[15], r[15])
                        for r in rows
                        if r[1] == "in"
                    ],
                )


async def seed_postgres(rt: Runtime, messages: int, cases: int, rng: random.Random) -> None:
    async with rt.db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        pg = raw.driver_connection  # asyncpg

        async def copy(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
            await pg.copy_records_to_table(
                table, records=rows, columns=[c.strip() for c in columns.split(",")]
            )

        await copy(
            "case_file", "id, ref, title, team, caseworker_id, status, created_at", case_rows(cases)
        )
        await copy("contact", CONTACT_COLUMNS, contact_rows(cases))
        for start in range(1, messages + 1, CHUNK):
            rows = message_rows(start, min(CHUNK, messages + 1 - start), cases, rng)
            await copy(
                "message",
                MESSAGE_COLUMNS,
                rows,  # JSON columns as text: COPY hands them over as they are
            )
            await copy(
                "queue_item",
                QUEUE_COLUMNS,
                [
                    (r[0], r[6], "team", f"Team {r[6] % 20}", "done", False, "", r[15], r[15])
                    for r in rows
                    if r[1] == "in"
                ],
            )
        for table in ("case_file", "contact", "message", "queue_item"):
            await pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await pg.execute("ANALYZE")


def inbound(i: int, cases: int) -> InboundMessage:
    sid = f"SMRUN{i:027d}"
    return InboundMessage(
        channel="sms",
        provider_id=sid,
        sender=phone(1 + (i * 7919) % cases),  # known families spread over the cases
        recipient="+4759440000",
        text=BODY,
        raw=f"MessageSid={sid}&Body={BODY}".encode(),
        received_at=utcnow(),
    )


async def intake_rate(rt: Runtime, n: int, cases: int) -> float:
    msgs = [inbound(i, cases) for i in range(n)]
    await rt.intake.accept(inbound(10**7, cases))  # warm-up
    queue = list(reversed(msgs))

    async def lane() -> None:
        while queue:
            await rt.intake.accept(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(32)))
    return n / (time.perf_counter() - start)


async def queue_page_ms(rt: Runtime) -> float:
    """One page of team 3's open queue, as a team lead's listing asks for it."""
    sql = text(
        "SELECT q.id FROM queue_item q JOIN message m ON m.id = q.message_id "
        "WHERE q.owner_kind = 'team' AND q.owner_team = 'Team 3' AND q.state IN ('new', 'claimed') "
        "ORDER BY q.urgent DESC, q.id LIMIT 51"
    )
    async with rt.db.read() as s:
        await s.execute(sql)
        start = time.perf_counter()
        for _ in range(20):
            await s.execute(sql)
    return (time.perf_counter() - start) / 20 * 1000


async def one(url: str, messages: int, cases: int, n: int) -> tuple[float, float, float]:
    rt = build_runtime(settings_for(url), senders={}, keyring=parse_keys(new_key_line("bench")))
    await rt.db.migrate()
    took = await seed(rt, messages, cases)  # the same cases either way; messages or none
    if rt.db.is_sqlite:
        async with rt.db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    rate = await intake_rate(rt, n, cases)
    page = await queue_page_ms(rt)
    await rt.close()
    return rate, page, took


async def run(label: str, urls: tuple[str, str], args: argparse.Namespace) -> None:
    # "Empty" has the same cases and contacts (else every message would go to triage).
    empty_rate, empty_page, _ = await one(urls[0], 0, args.cases, args.intake)
    large_rate, large_page, took = await one(urls[1], args.messages, args.cases, args.intake)
    print(
        f"{label:10} intake with {args.messages:,} messages / {args.cases:,} cases: "
        f"{large_rate:7.1f} msg/s   empty: {empty_rate:7.1f} msg/s   "
        f"ratio {large_rate / empty_rate:.2f}   (seeded in {took:.0f} s)"
    )
    print(
        f"{'':10} team queue page: {large_page:6.2f} ms with the data, {empty_page:6.2f} ms empty"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--intake", type=int, default=400)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    configure_logging("json", "warning")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            await run(
                "sqlite",
                (f"sqlite+aiosqlite:///{tmp}/empty.db", f"sqlite+aiosqlite:///{tmp}/large.db"),
                args,
            )
        base = postgres_url(args)
        if base is None:
            print("postgresql: skipped (no server; pass --pg-url)")
            return
        names = [f"cg_scale_{secrets.token_hex(4)}" for _ in range(2)]
        for name in names:
            await pg_admin(base, f'CREATE DATABASE "{name}"')
        try:
            urls = [
                make_url(base).set(database=n).render_as_string(hide_password=False) for n in names
            ]
            await run("postgresql", (urls[0], urls[1]), args)
        finally:
            for name in names:
                await pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
