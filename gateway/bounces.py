"""A bounce of one of our e-mail replies marks that reply failed on its case.

Runs as an intake hook, inside the transaction that stores the bounce, so the bounce, the
failed reply, its audit events and the caseworker's queue item commit together (or not at all).
The bounce itself is stored like any machine mail (sealed, never auto-replied). Only a reply
whose Message-ID the delivery report returns is touched: our Message-IDs are unguessable, so
only someone who received the reply can name it.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from gateway.case_alerts import show_on_case
from gateway.core.email.dsn import dsn_diagnostic
from gateway.intake import IntakeContext
from gateway.storage.models import Message

log = structlog.get_logger("gateway.bounces")

NO_REASON = "the receiving mail server gave no reason"
MAX_BOUNCED = 20  # a report naming more ids than this is not one of ours


async def mark_bounced_replies(ctx: IntakeContext) -> None:
    """Intake hook: each of our outbound e-mails the bounce names becomes ``failed``."""
    inbound = ctx.inbound
    if inbound.channel != "email" or not inbound.bounce_of:
        return
    s = ctx.tx.session
    replies = (
        (
            await s.execute(
                select(Message).where(
                    Message.direction == "out",
                    Message.channel == "email",
                    Message.email_message_id.in_(inbound.bounce_of[:MAX_BOUNCED]),
                )
            )
        )
        .scalars()
        .all()
    )
    if not replies:
        return
    reason = dsn_diagnostic(inbound.raw) or NO_REASON
    for reply in replies:
        if reply.status == "failed":
            continue  # the same bounce delivered again, or already dead-lettered
        previous, reply.status = reply.status, "failed"
        reply.error_code, reply.error_text = "bounced", reason
        ctx.tx.audit(
            "system",
            "message.bounced",
            f"message:{reply.id}",
            previous=previous,
            bounce_message_id=ctx.message.id,
            reason=reason,
        )
        await show_on_case(
            ctx.tx, reply, f"E-mail not delivered: {reason}", actor="system", now=ctx.now
        )
        log.info("email.reply_bounced", message_id=reply.id, bounce_message_id=ctx.message.id)
