"""Audit and access log reading (auditors) and case export (auditors; caseworkers for their team)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from gateway.access_log import record_access
from gateway.accounts import Staff
from gateway.export import export_case, export_language
from gateway.permissions import AUDITORS, EXPORT
from gateway.records import access_filters, audit_filters, log_rows
from gateway.storage.models import AccessLogEntry, AuditEvent
from gateway.web.api_common import (
    ApiError,
    Page,
    Param,
    decode_cursor,
    encode_cursor,
    endpoint,
    query_int,
)
from gateway.web.api_messages import visible_case
from gateway.web.keys import RUNTIME


def audit_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def access_json(e: AccessLogEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "case": e.case_ref,
    }


async def log_page(
    request: web.Request,
    key: InstrumentedAttribute[int],
    conditions: list[ColumnElement[bool]],
    to_json: Callable[[Any], dict[str, Any]],
) -> web.Response:
    """One page of a log in ``key`` order, after the cursor, with the next cursor if more."""
    after = None
    if request.query.get("cursor"):
        (after,) = decode_cursor(request.query["cursor"], 1)
    limit = query_int(request, "limit", 100, 1, 500)
    rows = await log_rows(request.app[RUNTIME].db, key, conditions, after=after, limit=limit)
    page = Page([to_json(r) for r in rows[:limit]])
    if len(rows) > limit:
        page.next_cursor = encode_cursor(getattr(rows[limit - 1], key.key))
    return page.response()


@endpoint(
    "GET",
    "/api/v1/audit",
    summary="Audit events in order (filters: subject, action, actor); cursor pagination",
    roles=AUDITORS,
    tag="audit",
    query=(
        Param("subject", description="e.g. case:3, message:17, user:2"),
        Param("action", description="e.g. original.revealed"),
        Param("actor"),
        Param("cursor"),
        Param("limit", "integer", description="1-500, default 100"),
    ),
)
async def list_audit(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    q = request.query
    conditions = audit_filters(
        subject=q.get("subject"), action=q.get("action"), actor=q.get("actor")
    )
    return await log_page(request, AuditEvent.seq, conditions, audit_json)


@endpoint(
    "GET",
    "/api/v1/access-log",
    summary="Who read which case content and when (filters: case, actor); cursor pagination",
    roles=AUDITORS,
    tag="audit",
    query=(
        Param("case", description="a case ref"),
        Param("actor", description="a staff e-mail"),
        Param("cursor"),
        Param("limit", "integer", description="1-500, default 100"),
    ),
)
async def list_access(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    q = request.query
    conditions = access_filters(case=q.get("case"), actor=q.get("actor"))
    return await log_page(request, AccessLogEntry.id, conditions, access_json)


@endpoint(
    "GET",
    "/api/v1/cases/{ref}/export",
    summary="The complete correspondence of a case as JSON or printable HTML (format); the "
    "export is recorded in the audit log with its digest",
    roles=EXPORT,
    tag="audit",
    query=(Param("format", enum=("json", "html")),),
    errors=(404,),
)
async def export(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "html"):
        raise ApiError(400, "bad_request", "format must be json or html.")
    rt = request.app[RUNTIME]
    async with rt.db.transaction() as tx:
        case = await visible_case(tx.session, staff, request.match_info["ref"])
        doc, text = await export_case(
            tx,
            case,
            actor=staff.email,
            fmt=fmt,
            lang=export_language(rt.settings.service.language),
        )
    # In both logs (docs/api.md): the audit event above and the access log, before it is served.
    await record_access(rt.db, staff, "case.exported", f"case:{case.id}", case.ref)
    if fmt == "html":
        return web.Response(text=text, content_type="text/html", charset="utf-8")
    return web.json_response(doc)
