"""Reading the records auditors review: the hash-chained audit log and the access log.

One function for both, in key order after a cursor; the JSON API and the audit page call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from gateway.storage.db import Database
from gateway.storage.models import AccessLogEntry, AuditEvent


async def log_rows(
    db: Database,
    key: InstrumentedAttribute[int],
    conditions: Sequence[ColumnElement[bool]],
    *,
    after: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[Any]:
    """Up to ``limit + 1`` rows of a log in ``key`` order after ``after`` (the extra row tells
    the caller there is a next page)."""
    where = list(conditions)
    if after is not None:
        where.append(key < after if newest_first else key > after)
    model = key.class_
    order = key.desc() if newest_first else key
    async with db.read() as s:
        return list(
            (await s.execute(select(model).where(*where).order_by(order).limit(limit + 1)))
            .scalars()
            .all()
        )


def audit_filters(
    *, subject: str | None = None, action: str | None = None, actor: str | None = None
) -> list[ColumnElement[bool]]:
    out = []
    for value, column in (
        (subject, AuditEvent.subject),
        (action, AuditEvent.action),
        (actor, AuditEvent.actor),
    ):
        if value:
            out.append(column == value)
    return out


def access_filters(
    *, case: str | None = None, actor: str | None = None
) -> list[ColumnElement[bool]]:
    out = []
    if case:
        out.append(AccessLogEntry.case_ref == case)
    if actor:
        out.append(AccessLogEntry.actor == actor.lower())
    return out
