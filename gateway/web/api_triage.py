"""Triage endpoints (team leads): link to a case, spam/abuse, block and unblock senders, and
marking a colleague absent so their new messages go to the team queue."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select, update

from gateway.accounts import Staff
from gateway.permissions import ADMIN, LEADS, TEAM_LEAD, sees_case
from gateway.storage.db import utcnow
from gateway.storage.models import BlockedSender, Case, QueueItem, User
from gateway.triage import NewContact, block_sender, link_to_case, mark_spam, unblock_sender
from gateway.web.api_common import Field, check_body, endpoint, int_param, not_found
from gateway.web.api_messages import visible_message
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
    async with request.app[RUNTIME].db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, int_param(request, "message_id"))
        case = (
            await tx.session.execute(select(Case).where(Case.ref == data["case_ref"]))
        ).scalar_one_or_none()
        if case is None or not sees_case(staff, case):
            raise not_found(f"case {data['case_ref']}")
        contact = await link_to_case(
            tx,
            staff,
            m,
            case,
            reason=data["reason"].strip(),
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
    async with request.app[RUNTIME].db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, int_param(request, "message_id"))
        await mark_spam(tx, staff, m, kind=data["kind"], reason=data["reason"].strip())
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
    async with request.app[RUNTIME].db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, int_param(request, "message_id"))
        row = await block_sender(tx, staff, m, reason=data["reason"].strip())
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
    async with request.app[RUNTIME].db.read() as s:
        rows = (await s.execute(select(BlockedSender).order_by(BlockedSender.id))).scalars().all()
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
    async with request.app[RUNTIME].db.transaction() as tx:
        await unblock_sender(tx, staff, blocked_id, reason=data["reason"].strip())
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
    user_id = int_param(request, "user_id")
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await tx.session.get(User, user_id)
        if user is None or (staff.role == TEAM_LEAD and user.team != staff.team):
            raise not_found(f"user {user_id}")
        user.absent = data["absent"]
        moved = 0
        if user.absent:
            result = await tx.session.execute(
                update(QueueItem)
                .where(
                    QueueItem.owner_kind == "user",
                    QueueItem.owner_user_id == user.id,
                    QueueItem.state == "new",
                )
                .values(
                    owner_kind="team",
                    owner_user_id=None,
                    owner_team=user.team,
                    reason="caseworker absent",
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            moved = int(getattr(result, "rowcount", 0) or 0)
        tx.audit(
            staff.email,
            "user.absent" if user.absent else "user.present",
            f"user:{user.id}",
            reason=data["reason"].strip(),
            items_moved_to_team=moved,
        )
    return web.json_response({"id": user.id, "absent": user.absent, "items_moved": moved})
