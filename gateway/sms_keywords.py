"""SMS keywords (STOP, START, HELP and their Nordic forms) as an intake hook.

Only a body that is nothing but the keyword counts (``keyword_command``): "stop hitting my son"
is a message for the caseworker. The message is stored and routed either way; the keyword
changes the SMS opt-out of every contact with that number (Twilio blocks the number, not a
contact), is audited, answers once through the outbox in the contact's language, and is shown
on the case so the caseworker knows the family can no longer be reached by SMS.

When Twilio's own opt-out handling recognised the keyword (the webhook carries ``OptOutType``),
Twilio has already answered the family, so we do not answer a second time.
"""

from __future__ import annotations

from sqlalchemy import select

from gateway.core.sms import keyword_command, keyword_reply
from gateway.intake import IntakeContext, IntakeHook
from gateway.outbound import enqueue_outbound
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import Tx
from gateway.storage.models import Contact, QueueItem

OPTED_OUT_NOTICE = (
    "The family sent STOP: they can no longer be reached by SMS. Use e-mail, letter or phone."
)
OPTED_IN_NOTICE = "The family sent START: they can be reached by SMS again."
KEYWORD_FLAG = "sms_keyword"  # on the inbound message: stop | start | help (other hooks skip it)
KEYWORD_REPLY_FLAG = "keyword_reply"  # on our confirmation: sent even to an opted-out number


async def set_sms_opt_out(
    tx: Tx, phone: str, opted_out: bool, *, actor: str, source: str
) -> list[Contact]:
    """Set the SMS opt-out of every contact with ``phone``; returns those that changed (audited)."""
    contacts = (
        (await tx.session.execute(select(Contact).where(Contact.phone == phone))).scalars().all()
    )
    changed = [c for c in contacts if c.opted_out_sms != opted_out]
    for contact in changed:
        contact.opted_out_sms = opted_out
        tx.audit(
            actor,
            "contact.sms_opted_out" if opted_out else "contact.sms_opted_in",
            f"contact:{contact.id}",
            case_id=contact.case_id,
            source=source,
        )
    return changed


def sms_keyword_hook(settings: Settings, keyring: Keyring) -> IntakeHook:
    """The hook to register in ``default_hooks``."""

    async def on_message(ctx: IntakeContext) -> None:
        if ctx.inbound.channel != "sms":
            return
        command = keyword_command(ctx.inbound.text)
        if command is None:
            twilio_type = str(ctx.inbound.flags.get("twilio_opt_out_type", "")).lower()
            command = twilio_type if twilio_type in {"stop", "start", "help"} else None
        if command is None:
            return
        sender = ctx.message.sender
        ctx.message.flags = {**ctx.message.flags, KEYWORD_FLAG: command}
        changed: list[Contact] = []
        if command in {"stop", "start"}:
            changed = await set_sms_opt_out(
                ctx.tx,
                sender,
                command == "stop",
                actor=f"sms:{sender}",
                source=f"keyword:{command}",
            )
            if changed:
                notice = OPTED_OUT_NOTICE if command == "stop" else OPTED_IN_NOTICE
                ctx.message.flags = {**ctx.message.flags, "sms_opted_out": command == "stop"}
                await _label_queue_items(ctx, notice)
        contact = ctx.contact or (changed[0] if changed else await _any_contact(ctx.tx, sender))
        # Answer only a known, unblocked family, only when the keyword changed something (or
        # asked for help), and not when Twilio has already answered. A blocked sender's STOP is
        # still honoured: it is their right not to get SMS from us.
        answered_by_twilio = bool(ctx.inbound.flags.get("twilio_opt_out_type"))
        if (
            contact is None
            or ctx.blocked
            or answered_by_twilio
            or (command != "help" and not changed)
        ):
            return
        reply = await enqueue_outbound(
            ctx.tx,
            keyring,
            settings,
            case_id=ctx.message.case_id,
            contact_id=contact.id,
            channel="sms",
            to=sender,
            body=keyword_reply(
                command, contact.language, default_language=settings.service.language
            ),
            actor="system",
            auto_reply=True,
            in_reply_to_id=ctx.message.id,
            now=ctx.now,
        )
        reply.flags = {**reply.flags, KEYWORD_REPLY_FLAG: command}

    return on_message


async def _any_contact(tx: Tx, phone: str) -> Contact | None:
    return (
        await tx.session.execute(
            select(Contact).where(Contact.phone == phone).order_by(Contact.id).limit(1)
        )
    ).scalar_one_or_none()


async def _label_queue_items(ctx: IntakeContext, notice: str) -> None:
    """Say on the message's own queue items what changed, so the caseworker sees it first."""
    items = (
        (
            await ctx.tx.session.execute(
                select(QueueItem).where(QueueItem.message_id == ctx.message.id)
            )
        )
        .scalars()
        .all()
    )
    for item in items:
        item.reason = notice[:200]
