"""The access log: every read of case content by a member of staff, for data-protection review.

Written before the content is returned (a read that cannot be logged is not served), in a small
transaction of its own. Reads are not state changes, so they stay out of the hash-chained audit
log and never wait for its lock.
"""

from __future__ import annotations

from gateway.accounts import Staff
from gateway.storage.db import Database, utcnow
from gateway.storage.models import AccessLogEntry


async def record_access(
    db: Database, staff: Staff, action: str, subject: str, case_ref: str | None
) -> None:
    async with db.transaction() as tx:
        tx.session.add(
            AccessLogEntry(
                at=utcnow(), actor=staff.email, action=action, subject=subject, case_ref=case_ref
            )
        )


async def record_listing(
    db: Database, staff: Staff, action: str, subject: str, case_refs: list[str | None]
) -> None:
    """A listing that shows (redacted) content of several cases: one entry per case on it.

    Items not yet on a case (triage) are one entry without a case. Nothing is written for an
    empty page: no content was shown.
    """
    refs = list(dict.fromkeys(case_refs))
    if not refs:
        return
    at = utcnow()
    async with db.transaction() as tx:
        tx.session.add_all(
            AccessLogEntry(at=at, actor=staff.email, action=action, subject=subject, case_ref=ref)
            for ref in refs
        )
