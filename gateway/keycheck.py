"""Sealing keys against the database: every key that sealed stored blobs must be loaded.

The database keeps each sealing key's id and fingerprint (``sealing_key``), written when a
process that seals starts with it as the active key. ``serve`` and ``check-config`` compare them
with the key file before anything is accepted: a key that is missing, or present under its id
with other bytes, would leave originals that can never be revealed, so start-up stops with one
line naming the key and the fix.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from gateway.command_errors import CommandError, database_place, open_database
from gateway.sealing import Keyring, fingerprint
from gateway.settings import Settings
from gateway.storage.db import Database, StoreUnavailable, utcnow
from gateway.storage.models import SealedOriginal, SealingKeyRecord

RESTORE_HINT = (
    "restore the key file from its backup (add the line ID:BASE64 back) before starting; "
    "originals sealed with it cannot be opened without it"
)


async def key_problems(db: Database, keyring: Keyring) -> list[str]:
    """One line per key that sealed data here and is missing or replaced in ``keyring``."""
    async with db.read() as s:
        recorded = {
            r.key_id: r.fingerprint for r in (await s.execute(select(SealingKeyRecord))).scalars()
        }
        used = set((await s.execute(select(SealedOriginal.key_id).distinct())).scalars())
    problems = []
    for key_id in sorted(used | set(recorded)):
        key = keyring.keys.get(key_id)
        expected = recorded.get(key_id)
        if key is None:
            shown = f" (fingerprint {expected[:16]})" if expected else ""
            problems.append(
                f"sealing key {key_id}{shown} sealed data in this database but is not in the "
                f"key file: {RESTORE_HINT}"
            )
        elif expected is not None and fingerprint(key) != expected:
            problems.append(
                f"sealing key {key_id} in the key file is not the key that sealed this "
                f"database's data (fingerprint {fingerprint(key)[:16]}, expected "
                f"{expected[:16]}): {RESTORE_HINT}"
            )
    return problems


async def record_active_key(db: Database, keyring: Keyring) -> None:
    """Remember the key new blobs will be sealed with (idempotent; many processes may race)."""
    async with db.transaction() as tx:
        found = await tx.session.get(SealingKeyRecord, keyring.active_id)
        if found is None:
            tx.session.add(
                SealingKeyRecord(
                    key_id=keyring.active_id,
                    fingerprint=fingerprint(keyring.keys[keyring.active_id]),
                    first_used_at=utcnow(),
                )
            )
            tx.audit(
                "system",
                "sealing_key.first_used",
                f"sealing_key:{keyring.active_id}",
                fingerprint=fingerprint(keyring.keys[keyring.active_id])[:16],
            )


async def require_sealing_keys(db: Database, keyring: Keyring) -> None:
    """Raise CommandError naming the first missing or replaced key; else record the active one."""
    problems = await key_problems(db, keyring)
    if problems:
        more = (
            f" ({len(problems) - 1} more: run `case-gateway check-config`)" if problems[1:] else ""
        )
        raise CommandError(problems[0] + more)
    try:
        await record_active_key(db, keyring)
    except StoreUnavailable:  # a concurrent first start recorded the same key
        problems = await key_problems(db, keyring)
        if problems:
            raise CommandError(problems[0]) from None


async def check_database_for_config(
    settings: Settings, keyring: Keyring
) -> tuple[list[str], list[str]]:
    """For ``check-config``: (problems, information lines) about the database and its keys.

    Never creates the database; a database that does not exist yet is information (run
    ``migrate``), not a problem, so a fresh installation checks its configuration first.
    """
    place = database_place(settings.database.url)
    try:
        db = await open_database(settings)
    except CommandError as exc:
        text = str(exc)
        if "does not exist" in text:
            return [], [f"database: {place} does not exist yet (run `case-gateway migrate`)"]
        return [f"database: {text}"], []
    try:
        problems = await asyncio.wait_for(key_problems(db, keyring), timeout=30)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return [f"database: cannot read sealing keys ({type(exc).__name__})"], []
    finally:
        await db.close()
    return problems, [f"database: {place} reachable, schema up to date"]
