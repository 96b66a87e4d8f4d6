"""The boundary every outbound channel implements: one method, ``send``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
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
    """What happened. ``permanent`` failures are dead-lettered at once; others are retried.

    ``ambiguous``: the request went out and no answer came back (a timeout or a reset after
    sending), so the provider may have accepted it. The relay never sends such a message again,
    nor marks it failed, before asking the provider (``SentLookup``).
    """

    ok: bool
    provider_id: str | None = None
    permanent: bool = False
    error_code: str | None = None
    error_text: str = ""
    ambiguous: bool = False


class Sender(Protocol):
    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        """Hand the message to the provider; never raise for provider errors, return them."""
        ...


class ProviderUnsure(Exception):
    """The provider could not be asked whether it has a message (try again later)."""


class SentLookup(Protocol):
    """A sender that can ask its provider whether an earlier, unanswered send was accepted."""

    async def find_sent(
        self, out: OutboundEnvelope, since: datetime, exclude: frozenset[str]
    ) -> str | None:
        """The provider's id for ``out`` if it accepted it at or after ``since`` (ids in
        ``exclude`` belong to other messages); None if it has none. Raises ProviderUnsure."""
        ...


class RecordedHandover(Protocol):
    """A sender whose provider cannot be asked afterwards (an SMTP relay keeps no list to read).

    It awaits ``handing_over`` right before the message's content goes out (SMTP: before DATA),
    so the relay's own record says whether an unanswered send can have reached the provider.
    If ``handing_over`` raises, nothing is handed over and the send fails as a plain retry.
    An answer lost after that point is ``ambiguous``.
    """

    async def send_recorded(
        self, out: OutboundEnvelope, handing_over: Callable[[], Awaitable[None]]
    ) -> SendOutcome: ...
