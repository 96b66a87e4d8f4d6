"""What a connector hands the intake service: one inbound message, channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes | None  # None: still to fetch (MMS media), see source_url
    verdict: str = "kept"  # kept | blocked | pending
    reason: str = ""
    source_url: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message as received. ``raw`` is the exact original, sealed on storage.

    ``provider_id`` is what makes a retry recognisable: Twilio's MessageSid, or for e-mail the
    Message-ID plus the recipient (a content hash when the Message-ID is missing).
    """

    channel: str  # sms | email
    provider_id: str
    sender: str
    recipient: str
    text: str
    raw: bytes
    received_at: datetime
    subject: str = ""
    quoted_text: str = ""
    signature: str = ""
    in_reply_to: tuple[str, ...] = ()  # In-Reply-To and References message ids
    email_message_id: str | None = None
    machine_mail: bool = False  # auto-replies, bounces, lists: never answered
    bounce_of: tuple[str, ...] = ()
    sender_auth_failed: bool = False
    # False when nobody checked that the sender owns the address (e-mail without a trusted
    # Authentication-Results): such a message is never attached by its sender address alone.
    sender_verified: bool = True
    attachments: tuple[InboundAttachment, ...] = ()
    html: str | None = None  # sanitized HTML copy for display (sealed, never redacted)
    flags: dict[str, Any] = field(default_factory=dict)
