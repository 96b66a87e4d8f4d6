"""Case thread, one message, reply, and the audited reveal of a sealed original."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import record_access
from gateway.accounts import Staff
from gateway.attachments import AttachmentUnavailable, attachment_for_display
from gateway.core.email.attachment_policy import content_disposition, served_content_type
from gateway.permissions import CONTENT, message_scope, sees_case
from gateway.sealing import SealedBlob, SealingError
from gateway.storage.models import Attachment, Case, Message, OutboxJob, SealedOriginal
from gateway.web.api_common import ApiError, Field, endpoint, int_param, not_found
from gateway.web.keys import RUNTIME
from gateway.workqueue import take_for_reply


def message_json(
    m: Message,
    case_ref: str | None,
    attachments: Sequence[Attachment] | None = None,
    outbox: OutboxJob | None = None,
) -> dict[str, Any]:
    """A message as caseworkers see it: redacted text only; the original stays sealed."""
    cls = m.classification or {}
    out: dict[str, Any] = {
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "case": case_ref,
        "contact_id": m.contact_id,
        "author_id": m.author_id,
        "sender": m.sender,
        "recipient": m.recipient,
        "subject": m.subject,
        "text": m.redacted_text,
        "stripped": m.stripped,
        "labels": cls.get("labels", []),
        "risks": [r.get("type") for r in cls.get("risks", [])],
        "priority": m.priority,
        "status": m.status,
        "triage_reason": m.triage_reason,
        "flags": m.flags,
        "segments": m.segments,
        "error": m.error_text,
        "error_code": m.error_code,
        "in_reply_to_id": m.in_reply_to_id,
        "created_at": m.created_at.isoformat(),
    }
    if attachments is not None:
        out["attachments"] = [attachment_json(a) for a in attachments]
    if m.direction == "out":
        out["delivery"] = (
            {
                "state": outbox.state,
                "attempts": outbox.attempts,
                "last_error": outbox.last_error,
                "next_attempt_at": outbox.next_attempt_at.isoformat(),
            }
            if outbox is not None
            else None
        )
    return out


def attachment_json(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "verdict": a.verdict,
        "reason": a.reason,
        "stored": a.sealed_id is not None,
    }


async def messages_with_parts(
    s: AsyncSession, msgs: Sequence[Message]
) -> tuple[dict[int, list[Attachment]], dict[int, OutboxJob]]:
    ids = [m.id for m in msgs]
    atts: dict[int, list[Attachment]] = {i: [] for i in ids}
    jobs: dict[int, OutboxJob] = {}
    if ids:
        for a in (
            (
                await s.execute(
                    select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
                )
            )
            .scalars()
            .all()
        ):
            atts[a.message_id].append(a)
        for j in (
            (await s.execute(select(OutboxJob).where(OutboxJob.message_id.in_(ids))))
            .scalars()
            .all()
        ):
            jobs[j.message_id] = j
    return atts, jobs


async def visible_case(s: AsyncSession, staff: Staff, ref: str) -> Case:
    case = (await s.execute(select(Case).where(Case.ref == ref))).scalar_one_or_none()
    if case is None or not sees_case(staff, case):
        raise not_found(f"case {ref}")
    return case


async def visible_message(
    s: AsyncSession, staff: Staff, message_id: int
) -> tuple[Message, Case | None]:
    m = await s.get(Message, message_id)
    case = await s.get(Case, m.case_id) if m is not None and m.case_id is not None else None
    if m is None or not message_scope(staff, case):
        raise not_found(f"message {message_id}")
    return m, case


@endpoint(
    "GET",
    "/api/v1/cases/{ref}/messages",
    summary="The thread of a case in order: both directions, redacted text, stripped parts, "
    "attachments with verdicts, delivery status",
    roles=CONTENT,
    tag="messages",
    errors=(404,),
)
async def case_thread(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.read() as s:
        case = await visible_case(s, staff, request.match_info["ref"])
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
        atts, jobs = await messages_with_parts(s, msgs)
    await record_access(request.app[RUNTIME].db, staff, "case.thread", f"case:{case.id}", case.ref)
    return web.json_response(
        {
            "case": {
                "ref": case.ref,
                "title": case.title,
                "team": case.team,
                "status": case.status,
            },
            "messages": [message_json(m, case.ref, atts[m.id], jobs.get(m.id)) for m in msgs],
        }
    )


@endpoint(
    "GET",
    "/api/v1/messages/{message_id}",
    summary="One message (triage messages: team leads only)",
    roles=CONTENT,
    tag="messages",
    errors=(404,),
)
async def one_message(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.read() as s:
        m, case = await visible_message(s, staff, int_param(request, "message_id"))
        atts, jobs = await messages_with_parts(s, [m])
    ref = case.ref if case else None
    await record_access(request.app[RUNTIME].db, staff, "message.read", f"message:{m.id}", ref)
    return web.json_response(
        message_json(m, case.ref if case else None, atts[m.id], jobs.get(m.id))
    )


@endpoint(
    "POST",
    "/api/v1/cases/{ref}/replies",
    summary="Queue a reply (202 with the message id), or validate it and count SMS segments "
    "with dry_run (200). Channel defaults to that of the latest inbound message; naming "
    "queue_item_id closes that item with the reply (a second reply to it gets 409).",
    roles=CONTENT,
    tag="messages",
    body={
        "body": Field("string", required=True, min_length=1, max_length=20000),
        "channel": Field("string", enum=("sms", "email")),
        "contact_id": Field("integer"),
        "queue_item_id": Field("integer"),
        "dry_run": Field("boolean"),
    },
    ok=202,
    extra_ok=(200,),
    errors=(404, 409, 422),
)
async def post_reply(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    rt = request.app[RUNTIME]
    ref = request.match_info["ref"]
    dry_run = bool(data.get("dry_run"))
    async with rt.db.transaction() as tx:
        case = await visible_case(tx.session, staff, ref)
        if data.get("queue_item_id") is not None and not dry_run:
            await take_for_reply(tx, staff, data["queue_item_id"], case.id)
        result = await rt.replies.reply_in(
            tx,
            actor=staff.email,
            author_id=staff.id,
            case_ref=ref,
            body=data["body"],
            channel=data.get("channel"),
            contact_id=data.get("contact_id"),
            dry_run=dry_run,
        )
    payload = {
        "message_id": result.message_id,
        "channel": result.channel,
        "segments": result.segments,
        "encoding": result.encoding,
        "dry_run": result.dry_run,
    }
    return web.json_response(payload, status=200 if result.dry_run else 202)


def _readable(raw: bytes, channel: str) -> str:
    """The family's own words from the original, for the person who asked to see them."""
    if channel == "sms":
        values = parse_qs(raw.decode("utf-8", "replace")).get("Body")
        return values[0] if values else ""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain", "html"))
        return str(part.get_content()) if part is not None else ""
    except (LookupError, ValueError, AttributeError):
        return ""


@endpoint(
    "POST",
    "/api/v1/messages/{message_id}/reveal",
    summary="Reveal the sealed original (text, or one attachment with attachment_id); the "
    "reason is mandatory and an audit event records who, what, when and why",
    roles=CONTENT,
    tag="messages",
    body={
        "reason": Field("string", required=True, min_length=5, max_length=500),
        "attachment_id": Field("integer"),
        "html": Field(
            "boolean", description="the sanitized HTML copy of an HTML e-mail instead of its text"
        ),
    },
    errors=(404,),
)
async def reveal(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    rt = request.app[RUNTIME]
    message_id = int_param(request, "message_id")
    attachment_id = data.get("attachment_id")
    async with rt.db.transaction() as tx:
        m, _case = await visible_message(tx.session, staff, message_id)
        attachment: Attachment | None = None
        if attachment_id is not None:
            attachment = await tx.session.get(Attachment, attachment_id)
            if attachment is None or attachment.message_id != m.id:
                raise not_found(f"attachment {attachment_id} on message {m.id}")
            sealed_id, context = attachment.sealed_id, b"attachment"
        elif data.get("html"):
            if m.sealed_html_id is None:
                raise ApiError(404, "no_html", "This message has no HTML copy.")
            sealed_id, context = m.sealed_html_id, b"html"
        else:
            sealed_id = m.sealed_id
            context = b"original" if m.direction == "in" else b"outbound"
        row = await tx.session.get(SealedOriginal, sealed_id) if sealed_id is not None else None
        if row is None:
            raise ApiError(404, "not_stored", "No sealed original is stored for this.")
        try:
            raw = rt.keyring.open(SealedBlob(row.key_id, row.nonce, row.ciphertext), context)
        except SealingError as exc:
            raise ApiError(500, "sealing", f"The original does not open: {exc}") from exc
        what = (
            f"attachment:{attachment.id}"
            if attachment
            else ("html" if context == b"html" else "text")
        )
        tx.audit(
            staff.email,
            "original.revealed",
            f"message:{m.id}",
            what=what,
            reason=data["reason"].strip(),
            sha256=row.sha256,
        )
    # Returned only after the audit event is committed.
    payload: dict[str, Any] = {
        "message_id": m.id,
        "what": what,
        "sha256": row.sha256,
        "content_base64": base64.b64encode(raw).decode("ascii"),
    }
    if attachment is not None:
        payload |= {"filename": attachment.filename, "content_type": attachment.content_type}
    elif what == "html":
        payload["html"] = raw.decode("utf-8", "replace")
    else:
        payload["text"] = (
            raw.decode("utf-8", "replace") if m.direction == "out" else _readable(raw, m.channel)
        )
    return web.json_response(payload)


@endpoint(
    "GET",
    "/api/v1/attachments/{attachment_id}",
    summary="An attachment as caseworkers see it: pictures re-encoded without EXIF/GPS location "
    "(the sealed original keeps them; revealing it is a separate, audited act)",
    roles=CONTENT,
    tag="messages",
    errors=(403, 404, 409, 422),
    response_type="application/octet-stream",
)
async def attachment_display(
    request: web.Request, staff: Staff, _data: dict[str, Any]
) -> web.Response:
    rt = request.app[RUNTIME]
    attachment_id = int_param(request, "attachment_id")
    async with rt.db.read() as s:
        attachment = await s.get(Attachment, attachment_id)
        if attachment is None:
            raise not_found(f"attachment {attachment_id}")
        _m, case = await visible_message(s, staff, attachment.message_id)
    try:
        filename, content_type, data = await attachment_for_display(
            rt.db, rt.keyring, attachment_id
        )
    except AttachmentUnavailable as exc:
        raise ApiError(exc.http_status, exc.code, exc.message) from exc
    await record_access(
        rt.db, staff, "attachment.read", f"attachment:{attachment_id}", case.ref if case else None
    )
    # Only allowlisted pictures keep their type; the name cannot add header parameters.
    return web.Response(
        body=data,
        content_type=served_content_type(content_type),
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
