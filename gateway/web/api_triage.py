"""Triage endpoints (team leads): link to a case, spam/abuse, block and unblock senders, and
marking a colleague absent so their new messages go to the team queue."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import casework, staff_admin
from gateway.accounts import Staff
from gateway.permissions import ADMIN, LEADS, TEAM_LEAD
from gateway.storage.models import BlockedSender
from gateway.triage import NewContact
from gateway.web.api_common import Field, check_body, endpoint, int_param
from gateway.web.keys import RUNTIME

REASON = Field("string", required=True, min_length=1, max_length=500)


@endpoint(
    "POST",
    "/api/v1/triage/{message_id}/link",
    summary="Link a triage message to a case of your team; optionally add the sender as a new "
    "contact of that case (add_contact) or name an existing contact (contact_id)",
    roles=LEADS,
    tag="triage",
    body={
        "case_ref": Field("string", required=True, min_length=1, max_length=64),
        "reason": REASON,
        "contact_id": Field("integer"),
        "add_contact": Field(
            "object", description='{"name" (required), "role", "language"} of the new contact'
        ),
    },
    errors=(404, 409, 422),
)
async def link(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    new_contact = None
    raw = data.get("add_contact")
    if raw is not None:
        spec = {
            "name": Field("string", required=True, min_length=1, max_length=200),
            "role": Field("string", min_length=1, max_length=50),
            "language": Field("string", enum=("nb", "nn", "da", "sv", "en")),
        }
        c = check_body(raw, spec)
        new_contact = NewContact(
            c["name"].strip(), (c.get("role") or "parent").strip(), c.get("language") or "nb"
        )
    m, case, contact = await casework.link_from_triage(
        request.app[RUNTIME].db,
        staff,
        int_param(request, "message_id"),
        data["case_ref"],
        reason=data["reason"],
        contact_id=data.get("contact_id"),
        new_contact=new_contact,
    )
    return web.json_response(
        {"message_id": m.id, "case": case.ref, "contact_id": contact.id if contact else None}
    )


@endpoint(
    "POST",
    "/api/v1/triage/{message_id}/spam",
    summary="Mark an inbound message as spam or abuse (kind); it leaves every queue",
    roles=LEADS,
    tag="triage",
    body={"kind": Field("string", required=True, enum=("spam", "abuse")), "reason": REASON},
    errors=(404, 409),
)
async def spam(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    m = await casework.mark_message_spam(
        request.app[RUNTIME].db,
        staff,
        int_param(request, "message_id"),
        kind=data["kind"],
        reason=data["reason"],
    )
    return web.json_response({"message_id": m.id, "status": m.status})


@endpoint(
    "POST",
    "/api/v1/triage/{message_id}/block",
    summary="Block the sender of a message: later messages are stored and flagged, never "
    "queued and never answered",
    roles=LEADS,
    tag="triage",
    body={"reason": REASON},
    ok=201,
    errors=(404, 409),
)
async def block(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    row = await casework.block_message_sender(
        request.app[RUNTIME].db, staff, int_param(request, "message_id"), reason=data["reason"]
    )
    return web.json_response(_blocked_json(row), status=201)


def _blocked_json(row: BlockedSender) -> dict[str, Any]:
    return {
        "id": row.id,
        "address": row.address,
        "reason": row.reason,
        "blocked_by": row.blocked_by,
        "created_at": row.created_at.isoformat(),
    }


@endpoint(
    "GET",
    "/api/v1/blocked-senders",
    summary="Blocked senders",
    roles=LEADS,
    tag="triage",
)
async def list_blocked(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    rows = await casework.blocked_senders(request.app[RUNTIME].db)
    return web.json_response({"items": [_blocked_json(r) for r in rows]})


@endpoint(
    "POST",
    "/api/v1/blocked-senders/{blocked_id}/unblock",
    summary="Unblock a sender (their later messages are routed again)",
    roles=LEADS,
    tag="triage",
    body={"reason": REASON},
    errors=(404,),
)
async def unblock(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    blocked_id = int_param(request, "blocked_id")
    await casework.unblock(request.app[RUNTIME].db, staff, blocked_id, reason=data["reason"])
    return web.json_response({"id": blocked_id, "unblocked": True})


@endpoint(
    "POST",
    "/api/v1/users/{user_id}/absence",
    summary="Mark a colleague absent (their new messages and unclaimed items go to the team "
    "queue) or back; team leads for their own team, admins for anyone",
    roles=(TEAM_LEAD, ADMIN),
    tag="triage",
    body={"absent": Field("boolean", required=True), "reason": REASON},
    errors=(404,),
)
async def absence(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    result = await staff_admin.set_absence(
        request.app[RUNTIME].db,
        staff,
        int_param(request, "user_id"),
        absent=data["absent"],
        reason=data["reason"],
    )
    return web.json_response(
        {"id": result.user.id, "absent": result.user.absent, "items_moved": result.moved}
    )
