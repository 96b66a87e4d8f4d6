"""The access log: every read of case content by a member of staff, for data-protection review.

Written before the content is returned (a read that cannot be logged is not served), in a small
transaction of its own. Reads are not state changes, so they stay out of the hash-chained audit
log and never wait for its lock.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.accounts import Staff
from gateway.storage.db import Database, utcnow
from gateway.storage.models import AccessLogEntry

LISTING_WINDOW = timedelta(minutes=10)


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
    empty page: no content was shown. A queue page that refreshes itself lists the same cases
    every few seconds: a case already logged for this person and listing within
    ``LISTING_WINDOW`` is not logged again, so the log says who saw which case and when without
    a row per refresh.
    """
    refs = list(dict.fromkeys(case_refs))
    if not refs:
        return
    at = utcnow()
    async with db.transaction() as tx:
        recent = set(
            (
                await tx.session.execute(
                    select(AccessLogEntry.case_ref).where(
                        AccessLogEntry.actor == staff.email,
                        AccessLogEntry.action == action,
                        AccessLogEntry.subject == subject,
                        AccessLogEntry.at >= at - LISTING_WINDOW,
                    )
                )
            ).scalars()
        )
        tx.session.add_all(
            AccessLogEntry(at=at, actor=staff.email, action=action, subject=subject, case_ref=ref)
            for ref in refs
            if ref not in recent
        )
