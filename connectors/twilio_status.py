"""Twilio delivery status callbacks (``POST /webhooks/twilio/status``).

Signed like the inbound webhook. Callbacks arrive out of order and several share one MessageSid,
so each (sid, status) is recorded once (a UNIQUE constraint) and the message's status only moves
forward. Error codes are kept and explained for the caseworker; 21610 (the family sent STOP to
Twilio) marks their SMS opt-out; a final failure is put in the caseworker's queue.

The relay sends each SMS with ``?message=<our id>`` on the callback URL, so a callback that
overtakes the relay's own record of the MessageSid still finds its message.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.twilio_sms import problem, read_signed_form
from gateway.case_alerts import show_on_case
from gateway.core.sms import (
    STATUS_RANK,
    explain_error,
    map_twilio_status,
    status_moves_forward,
)
from gateway.sms_keywords import set_sms_opt_out
from gateway.storage.db import Database, StoreUnavailable, utcnow
from gateway.storage.models import Message, SmsStatusEvent
from gateway.web.keys import RUNTIME

log = structlog.get_logger("connectors.twilio_status")

REQUIRED_STATUS = ("MessageSid", "MessageStatus", "AccountSid")
FAILED = frozenset({"undelivered", "failed"})


async def delivery_status(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    settings = rt.settings
    params = await read_signed_form(request, settings, REQUIRED_STATUS)
    if isinstance(params, web.Response):
        return params
    try:
        status = map_twilio_status(params["MessageStatus"])
    except ValueError:
        return problem(400, f"unknown MessageStatus {params['MessageStatus'][:40]!r}")
    sid = params["MessageSid"]
    try:
        outcome = await record_status(
            rt.db,
            sid=sid,
            twilio_status=params["MessageStatus"].strip().lower(),
            status=status,
            error_code=params.get("ErrorCode", "").strip() or None,
            our_id=request.query.get("message"),
        )
    except StoreUnavailable as exc:
        if isinstance(exc.__cause__, IntegrityError):
            outcome = "duplicate"  # the same callback, delivered twice at once
        else:
            log.error("twilio.store_unavailable", message_sid=sid, error=str(exc))
            return problem(503, "temporarily unable to record the status; retry")
    if outcome == "unknown":
        return problem(404, "no outbound SMS with this MessageSid")
    log.info("twilio.delivery_status", message_sid=sid, status=status, outcome=outcome)
    return web.Response(status=204)


async def record_status(
    db: Database,
    *,
    sid: str,
    twilio_status: str,
    status: str,
    error_code: str | None,
    our_id: str | None,
) -> str:
    """Apply one callback; returns "updated", "kept" (older than what we know), "duplicate"
    or "unknown" (no such outbound SMS)."""
    now = utcnow()
    async with db.transaction() as tx:
        s = tx.session
        msg = await _find_message(s, sid, our_id)
        if msg is None:
            return "unknown"
        seen = (
            await s.execute(
                select(SmsStatusEvent.id).where(
                    SmsStatusEvent.sid == sid, SmsStatusEvent.status == twilio_status
                )
            )
        ).first()
        if seen is not None:
            return "duplicate"
        s.add(
            SmsStatusEvent(
                sid=sid,
                status=twilio_status,
                message_id=msg.id,
                error_code=error_code,
                received_at=now,
            )
        )
        await s.flush()  # a concurrent twin fails here, on the UNIQUE constraint
        if msg.provider_id is None:
            msg.provider_id = sid
        current = msg.status if msg.status in STATUS_RANK else None
        if not status_moves_forward(current, status):
            return "kept"
        previous, msg.status = msg.status, status
        explanation = explain_error(error_code) if error_code else None
        if explanation is not None:
            msg.error_code = error_code
            msg.error_text = explanation.text_for_caseworker
        tx.audit(
            "twilio",
            "message.delivery_status",
            f"message:{msg.id}",
            previous=previous,
            status=status,
            error_code=error_code,
        )
        if explanation is not None and explanation.opted_out:
            await set_sms_opt_out(
                tx, msg.recipient, True, actor="twilio", source=f"error:{error_code}"
            )
        if status in FAILED:
            why = explanation.text_for_caseworker if explanation else "no reason was given"
            await show_on_case(tx, msg, f"SMS not delivered: {why}", actor="twilio", now=now)
    return "updated"


async def _find_message(s: AsyncSession, sid: str, our_id: str | None) -> Message | None:
    if our_id and our_id.isdigit():
        msg = await s.get(Message, int(our_id))
        if (
            msg is not None
            and msg.direction == "out"
            and msg.channel == "sms"
            and msg.provider_id in (None, sid)
        ):
            return msg
    return (
        await s.execute(
            select(Message).where(
                Message.channel == "sms", Message.direction == "out", Message.provider_id == sid
            )
        )
    ).scalar_one_or_none()
