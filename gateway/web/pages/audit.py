"""The audit page (auditors): the newest audit events, the newest access-log entries, and the
result of verifying the hash chain."""

from __future__ import annotations

from aiohttp import web

from gateway.audit import verify_database
from gateway.permissions import AUDITORS
from gateway.records import access_filters, audit_filters, log_rows
from gateway.storage.models import AccessLogEntry, AuditEvent
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, page

SHOWN = 100


@page(AUDITORS)
async def audit_page(p: Page) -> web.StreamResponse:
    db = p.request.app[RUNTIME].db
    q = p.request.query
    events = await log_rows(
        db,
        AuditEvent.seq,
        audit_filters(subject=q.get("subject"), action=q.get("action"), actor=q.get("actor")),
        limit=SHOWN,
        newest_first=True,
    )
    access = await log_rows(
        db,
        AccessLogEntry.id,
        access_filters(case=q.get("case"), actor=q.get("actor")),
        limit=SHOWN,
        newest_first=True,
    )
    verdict = await verify_database(db) if q.get("verify") else None
    return p.render(
        "audit.html",
        {"events": events[:SHOWN], "access": access[:SHOWN], "verdict": verdict},
    )
