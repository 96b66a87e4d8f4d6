"""A second (and third) process writing to the same PostgreSQL: used by test_audit_sequencer.

    python -m tests.intake.concurrent_writer URL NAME COUNT

Stores COUNT inbound SMS through the batching intake writer (64 at a time in flight) and, beside
them, COUNT small transactions that each write one audit event; prints "done" when finished.
"""

from __future__ import annotations

import asyncio
import sys

from gateway.runtime import build_runtime
from gateway.sealing import new_key_line, parse_keys
from tests.conftest import make_settings
from tests.intake.test_group_commit import sms


async def main(url: str, name: str, count: int) -> None:
    rt = build_runtime(make_settings(url), senders={}, keyring=parse_keys(new_key_line("w")))
    offset = sum(ord(c) for c in name) * 100_000

    async def messages() -> None:
        for start in range(0, count, 64):
            batch = range(start, min(start + 64, count))
            await asyncio.gather(*(rt.intake.accept(sms(offset + i)) for i in batch))

    async def actions() -> None:
        for i in range(count):
            async with rt.db.transaction() as tx:
                tx.audit(f"writer-{name}", "test.action", f"thing:{i}")

    await asyncio.gather(messages(), actions())
    await rt.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
