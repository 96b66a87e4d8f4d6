"""Per-sender inbound rate limits: past the limit a message is stored and flagged, never dropped.

The limit counts the sender's inbound messages on the same channel within a sliding window
(``practice.rate_limit_count`` per ``practice.rate_limit_minutes``), this one included. A
message past the limit is in the record and in the queue like any other; it carries the flag
``rate_limited``, gets no automatic reply and notifies nobody unless it is urgent, so a flood
neither reaches staff phones nor makes the service answer it.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import func, select, text

from gateway.intake import IntakeContext
from gateway.settings import Settings
from gateway.storage.models import Message

log = structlog.get_logger("gateway.ratelimit")

RATE_LIMITED = "rate_limited"


def set_flag(message: Message, name: str, value: object = True) -> None:
    """Set one flag on a message (a new dict, so the JSON column is written)."""
    message.flags = {**(message.flags or {}), name: value}


async def serialise_sender(ctx: IntakeContext) -> None:
    """On PostgreSQL, one sender's messages pass the policy hooks one at a time.

    Two messages from one number arriving together would otherwise both count below the
    limit and both get a receipt. The lock ends with the transaction; SQLite already
    serialises writers (BEGIN IMMEDIATE).
    """
    session = ctx.tx.session
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"sender:{ctx.message.channel}:{ctx.message.sender}"},
        )


class InboundRateLimit:
    """An intake hook that flags a sender's messages past the configured limit."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.practice.rate_limit_count
        self.window = timedelta(minutes=settings.practice.rate_limit_minutes)

    async def __call__(self, ctx: IntakeContext) -> None:
        message = ctx.message
        await serialise_sender(ctx)
        since = ctx.now - self.window
        count = (
            await ctx.tx.session.execute(
                select(func.count(Message.id)).where(
                    Message.sender == message.sender,
                    Message.channel == message.channel,
                    Message.direction == "in",
                    Message.created_at > since,
                )
            )
        ).scalar_one()
        if count <= self.limit:
            return
        set_flag(message, RATE_LIMITED)
        ctx.tx.audit(
            "system",
            "message.rate_limited",
            f"message:{message.id}",
            channel=message.channel,
            count=count,
            limit=self.limit,
            window_minutes=int(self.window.total_seconds() // 60),
        )
        log.info("message.rate_limited", message_id=message.id, channel=message.channel)
