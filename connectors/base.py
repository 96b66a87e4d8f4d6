"""The boundary every outbound channel implements: one method, ``send``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundEnvelope:
    """One message to send, as the relay hands it to a channel sender."""

    message_id: int
    channel: str  # sms | email
    to: str
    body: str
    idempotency_key: str
    subject: str = ""
    email_message_id: str | None = None
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)
    auto_reply: bool = False


@dataclass(frozen=True)
class SendOutcome:
    """What happened. ``permanent`` failures are dead-lettered at once; others are retried."""

    ok: bool
    provider_id: str | None = None
    permanent: bool = False
    error_code: str | None = None
    error_text: str = ""


class Sender(Protocol):
    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        """Hand the message to the provider; never raise for provider errors, return them."""
        ...
