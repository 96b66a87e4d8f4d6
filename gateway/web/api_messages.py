"""Case thread, one message, reply, and the audited reveal of a sealed original (the use cases
live in ``gateway.casework``; this module parses, calls and renders JSON)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import web

from gateway import casework
from gateway.access_log import record_access
from gateway.accounts import Staff
from gateway.attachments import AttachmentUnavailable, attachment_for_display
from gateway.casework import messages_with_parts, visible_case, visible_message
from gateway.core.email.attachment_policy import content_disposition, served_content_type
from gateway.permissions import CONTENT
from gateway.storage.models import Attachment, Message, OutboxJob
from gateway.web.api_common import ApiError, Field, endpoint, int_param
from gateway.web.keys import RUNTIME

__all__ = ["messages_with_parts", "visible_case", "visible_message"]

log = structlog.get_logger("gateway.web.messages")


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
    t = await casework.case_thread(request.app[RUNTIME].db, staff, request.match_info["ref"])
    case = t.case
    return web.json_response(
        {
            "case": {
                "ref": case.ref,
                "title": case.title,
                "team": case.team,
                "status": case.status,
            },
            "messages": [
                message_json(m, case.ref, t.attachments[m.id], t.delivery.get(m.id))
                for m in t.messages
            ],
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
    one = await casework.read_message(
        request.app[RUNTIME].db, staff, int_param(request, "message_id")
    )
    return web.json_response(message_json(one.message, one.case_ref, one.attachments, one.delivery))


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
    result = await casework.reply_to_case(
        rt.db,
        rt.replies,
        staff,
        request.match_info["ref"],
        body=data["body"],
        channel=data.get("channel"),
        contact_id=data.get("contact_id"),
        queue_item_id=data.get("queue_item_id"),
        dry_run=bool(data.get("dry_run")),
    )
    payload = {
        "message_id": result.message_id,
        "channel": result.channel,
        "segments": result.segments,
        "encoding": result.encoding,
        "dry_run": result.dry_run,
    }
    return web.json_response(payload, status=200 if result.dry_run else 202)


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
    errors=(404, 503),
)
async def reveal(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    rt = request.app[RUNTIME]
    r = await casework.reveal_original(
        rt.db,
        rt.keyring,
        staff,
        int_param(request, "message_id"),
        reason=data["reason"],
        attachment_id=data.get("attachment_id"),
        html=bool(data.get("html")),
    )
    # Returned only after the audit event is committed.
    payload: dict[str, Any] = {
        "message_id": r.message_id,
        "what": r.what,
        "sha256": r.sha256,
        "content_base64": base64.b64encode(r.raw).decode("ascii"),
    }
    if r.filename is not None:
        payload |= {"filename": r.filename, "content_type": r.content_type}
    elif r.html is not None:
        payload["html"] = r.html
    else:
        payload["text"] = r.text
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
    _attachment, case_ref = await casework.attachment_message(rt.db, staff, attachment_id)
    try:
        filename, content_type, data = await attachment_for_display(
            rt.db, rt.keyring, attachment_id
        )
    except AttachmentUnavailable as exc:
        raise ApiError(exc.http_status, exc.code, exc.message) from exc
    await record_access(rt.db, staff, "attachment.read", f"attachment:{attachment_id}", case_ref)
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
