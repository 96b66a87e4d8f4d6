"""The caseworker JSON API under /api/v1 (queue, case thread, reply)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select

from gateway.accounts import Staff, authenticate
from gateway.outbound import ReplyError
from gateway.storage.db import StoreUnavailable
from gateway.storage.models import Case, Message, QueueItem
from gateway.web.keys import RUNTIME
from gateway.web.openapi import OPENAPI

STAFF: web.AppKey[Staff] = web.AppKey("staff")


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def staff_of(request: web.Request) -> Staff | web.Response:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    staff = await authenticate(request.app[RUNTIME].db, token)
    if staff is None:
        return error(
            401, "unauthenticated", "Send a valid API token: Authorization: Bearer <token>."
        )
    return staff


async def json_body(request: web.Request, allowed: set[str]) -> dict[str, Any] | web.Response:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "bad_json", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        return error(400, "bad_json", "Expected a JSON object.")
    unknown = set(data) - allowed
    if unknown:
        return error(400, "unknown_fields", f"Unknown fields: {', '.join(sorted(unknown))}.")
    return data


def visible_case_filter(staff: Staff) -> Any:
    """Cases a member of staff may see: their team's (auditors and admins see none here)."""
    return Case.team == staff.team


def queue_filter(staff: Staff) -> Any:
    own = (QueueItem.owner_kind == "user") & (QueueItem.owner_user_id == staff.id)
    team = (QueueItem.owner_kind == "team") & (QueueItem.owner_team == staff.team)
    if staff.role == "team_lead":
        return or_(own, team, QueueItem.owner_kind == "duty", QueueItem.owner_kind == "triage")
    return or_(own, team)


def message_json(m: Message, case_ref: str | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "case": case_ref,
        "subject": m.subject,
        "text": m.redacted_text,
        "stripped": m.stripped,
        "labels": m.classification.get("labels", []),
        "priority": m.priority,
        "status": m.status,
        "triage_reason": m.triage_reason,
        "segments": m.segments,
        "error": m.error_text,
        "created_at": m.created_at.isoformat(),
    }


Endpoint = Callable[[web.Request, Staff], Awaitable[web.Response]]


def authenticated(
    roles: tuple[str, ...],
) -> Callable[[Endpoint], Callable[[web.Request], Awaitable[web.Response]]]:
    def wrap(fn: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            staff = await staff_of(request)
            if isinstance(staff, web.Response):
                return staff
            if staff.role not in roles:
                return error(403, "forbidden", f"The {staff.role} role cannot do this.")
            try:
                return await fn(request, staff)
            except StoreUnavailable:
                return error(503, "unavailable", "The database is unavailable; try again shortly.")

        return handler

    return wrap


@authenticated(("caseworker", "team_lead"))
async def list_queue(request: web.Request, staff: Staff) -> web.Response:
    rt = request.app[RUNTIME]
    state = request.query.get("state", "new")
    async with rt.db.read() as s:
        rows = (
            await s.execute(
                select(QueueItem, Message, Case.ref)
                .join(Message, Message.id == QueueItem.message_id)
                .outerjoin(Case, Case.id == QueueItem.case_id)
                .where(queue_filter(staff), QueueItem.state == state)
                .order_by(QueueItem.urgent.desc(), QueueItem.id)
                .limit(200)
            )
        ).all()
    items = [
        {
            "id": q.id,
            "queue": q.owner_kind,
            "state": q.state,
            "urgent": q.urgent,
            "reason": q.reason,
            "case": ref,
            "message": message_json(m, ref),
        }
        for q, m, ref in rows
    ]
    return web.json_response({"items": items})


@authenticated(("caseworker", "team_lead"))
async def case_thread(request: web.Request, staff: Staff) -> web.Response:
    rt = request.app[RUNTIME]
    ref = request.match_info["ref"]
    async with rt.db.read() as s:
        case = (
            await s.execute(select(Case).where(Case.ref == ref, visible_case_filter(staff)))
        ).scalar_one_or_none()
        if case is None:
            return error(404, "not_found", f"No case {ref} that you can see.")
        msgs = (
            (
                await s.execute(
                    select(Message)
                    .where(Message.case_id == case.id)
                    .order_by(Message.created_at, Message.id)
                )
            )
            .scalars()
            .all()
        )
    return web.json_response(
        {
            "case": {
                "ref": case.ref,
                "title": case.title,
                "team": case.team,
                "status": case.status,
            },
            "messages": [message_json(m, case.ref) for m in msgs],
        }
    )


@authenticated(("caseworker", "team_lead"))
async def post_reply(request: web.Request, staff: Staff) -> web.Response:
    rt = request.app[RUNTIME]
    ref = request.match_info["ref"]
    data = await json_body(request, {"body", "channel", "contact_id", "dry_run"})
    if isinstance(data, web.Response):
        return data
    if not isinstance(data.get("body"), str):
        return error(400, "bad_request", "body (text) is required.")
    async with rt.db.read() as s:
        visible = (
            await s.execute(select(Case.id).where(Case.ref == ref, visible_case_filter(staff)))
        ).first()
    if visible is None:
        return error(404, "not_found", f"No case {ref} that you can see.")
    try:
        result = await rt.replies.reply(
            actor=staff.email,
            author_id=staff.id,
            case_ref=ref,
            body=data["body"],
            channel=data.get("channel"),
            contact_id=data.get("contact_id"),
            dry_run=bool(data.get("dry_run")),
        )
    except ReplyError as exc:
        return error(exc.http_status, exc.code, exc.message)
    payload = {
        "message_id": result.message_id,
        "channel": result.channel,
        "segments": result.segments,
        "encoding": result.encoding,
        "dry_run": result.dry_run,
    }
    return web.json_response(payload, status=200 if result.dry_run else 202)


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/api/v1/queue", list_queue)
    app.router.add_get("/api/v1/cases/{ref}/messages", case_thread)
    app.router.add_post("/api/v1/cases/{ref}/replies", post_reply)
