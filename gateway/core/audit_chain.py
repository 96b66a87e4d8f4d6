"""The audit hash chain: ``hash = sha256(prev_hash || canonical event)``.

Pure functions only; storage appends and the ``audit verify`` command walks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def canonical(
    seq: int, at: str, actor: str, action: str, subject: str, details: dict[str, Any]
) -> bytes:
    """The bytes that are hashed: sorted-key compact JSON, so every reader computes the same."""
    return json.dumps(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def chain_hash(prev_hash: str, event: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + event).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    verified: int
    first_broken_seq: int | None = None
    problem: str = ""


def verify_chain(
    records: Iterable[AuditRecord], head: tuple[int, str] | None = None
) -> ChainVerdict:
    """Walk records in seq order; name the first event that is altered, missing or out of place.

    ``head`` is the (seq, hash) the store recorded with the last append; it catches a removed tail.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for rec in records:
        if rec.seq != expected_seq:
            return ChainVerdict(
                False,
                count,
                expected_seq,
                f"event {expected_seq} is missing (found {rec.seq} next)",
            )
        if rec.prev_hash != prev_hash:
            return ChainVerdict(
                False, count, rec.seq, f"event {rec.seq} does not follow event {rec.seq - 1}"
            )
        recomputed = chain_hash(
            prev_hash, canonical(rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.details)
        )
        if recomputed != rec.hash:
            return ChainVerdict(False, count, rec.seq, f"event {rec.seq} was altered")
        prev_hash = rec.hash
        expected_seq += 1
        count += 1
    if head is not None and (head[0] != count or head[1] != (prev_hash if count else GENESIS_HASH)):
        return ChainVerdict(
            False, count, count + 1, f"events after {count} are missing (head says {head[0]})"
        )
    return ChainVerdict(True, count)
