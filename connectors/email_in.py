"""E-mail intake: aiosmtpd SMTP and LMTP servers on the service's event loop.

Cheap checks at RCPT (our service address or a reply token on our domain, else 550 5.1.1),
parsing in the core, storing in the intake service, 250 only after commit. Any failure while
storing answers 451 4.3.0 so the sending MTA keeps the message and retries (never 500).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.core.addresses import is_reply_token_shaped, normalise_email
from gateway.core.email import EmailLimits, ParsedEmail, attachment_payloads, parse_email
from gateway.core.inbound import InboundAttachment, InboundMessage
from gateway.intake import IntakeService
from gateway.settings import Settings
from gateway.storage.db import StoreUnavailable, utcnow

log = structlog.get_logger("connectors.email_in")

# Reply codes, named once (STYLE.md: like aiosmtpd's testing/statuscodes.py).
ACCEPTED_RCPT = "250 2.1.5 Recipient OK"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
UNKNOWN_RECIPIENT = "550 5.1.1 No such recipient here"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure storing the message; try again later"
TOO_BIG = "552 5.3.4 Message too big for this service"


class _SizeCodes:
    """aiosmtpd answers oversize mail with a bare 552; we add the enhanced status code."""

    async def push(self, status: Any) -> None:
        if status.startswith("552 Error"):
            status = TOO_BIG
        await super().push(status)  # type: ignore[misc]


class GatewaySMTP(_SizeCodes, SMTP):
    pass


class GatewayLMTP(_SizeCodes, LMTP):
    pass


def provider_id_for(parsed: ParsedEmail, raw: bytes, recipient: str) -> str:
    """Message-ID plus recipient; a content hash when the sender gave no Message-ID."""
    key = parsed.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    return f"{key}|{normalise_email(recipient)}"


def inbound_from_email(
    raw: bytes, parsed: ParsedEmail, envelope_from: str, recipient: str, limits: EmailLimits
) -> InboundMessage:
    attachments: tuple[InboundAttachment, ...] = ()
    if not parsed.over_limits:
        attachments = tuple(
            InboundAttachment(info.filename, info.content_type, data, info.verdict, info.reason)
            for info, data in attachment_payloads(raw, limits)
        )
    auth = parsed.sender_auth
    flags: dict[str, Any] = {}
    if parsed.over_limits:
        flags["over_limits"] = True
    if parsed.defects:
        flags["defects"] = list(parsed.defects)[:20]
    if parsed.bounce:
        flags["bounce"] = True
    return InboundMessage(
        channel="email",
        provider_id=provider_id_for(parsed, raw, recipient),
        sender=parsed.from_addr or normalise_email(envelope_from),
        recipient=normalise_email(recipient),
        text=parsed.new_text,
        raw=raw,
        received_at=utcnow(),
        subject=parsed.subject,
        quoted_text=parsed.quoted_text,
        signature=parsed.signature,
        in_reply_to=tuple(
            x for x in ((parsed.in_reply_to,) if parsed.in_reply_to else ()) + parsed.references
        ),
        email_message_id=parsed.message_id,
        machine_mail=parsed.auto_submitted or parsed.bounce,
        bounce_of=parsed.bounced_message_ids,
        sender_auth_failed="fail" in (auth.dmarc, auth.dkim),
        attachments=attachments,
        flags=flags,
    )


class ServiceMailHandler:
    """aiosmtpd handler shared by the SMTP and LMTP servers."""

    def __init__(self, intake: IntakeService, settings: Settings) -> None:
        self.intake = intake
        self.settings = settings
        self.limits = EmailLimits(max_attachment_bytes=settings.smtp.max_message_bytes)
        self.service_addresses = {normalise_email(settings.email.service_address)}

    def recipient_ok(self, address: str) -> bool:
        addr = normalise_email(address)
        return addr in self.service_addresses or is_reply_token_shaped(
            addr, self.settings.email.domain
        )

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.recipient_ok(address):
            log.info("smtp.unknown_recipient", recipient=address)
            return UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        return ACCEPTED_RCPT

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = parse_email(
            raw,
            limits=self.limits,
            trusted_authserv_id=self.settings.email.trusted_authserv_id or None,
        )
        statuses = []
        for rcpt in envelope.rcpt_tos:
            inbound = inbound_from_email(raw, parsed, envelope.mail_from or "", rcpt, self.limits)
            try:
                await self.intake.accept(inbound)
                statuses.append(ACCEPTED)
            except StoreUnavailable as exc:
                log.error("smtp.store_unavailable", error=str(exc))
                statuses.append(TEMPORARY_FAILURE)
        if isinstance(server, LMTP):
            # LMTP: one status per accepted recipient, in RCPT order (RFC 2033).
            return "\r\n".join(statuses)
        return ACCEPTED if all(s == ACCEPTED for s in statuses) else TEMPORARY_FAILURE

    async def handle_exception(self, error: Exception) -> str:
        log.error("smtp.handler_error", error=error.__class__.__name__)
        return TEMPORARY_FAILURE


def server_factory(
    handler: ServiceMailHandler, settings: Settings, *, lmtp: bool
) -> Callable[[], SMTP]:
    """A protocol factory for ``loop.create_server`` (shares the service's event loop)."""
    cls = GatewayLMTP if lmtp else GatewaySMTP

    def make() -> SMTP:
        return cls(
            handler,
            data_size_limit=settings.smtp.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.email.domain,
            ident="Case Gateway",
        )

    return make


async def start_mail_servers(
    handler: ServiceMailHandler, settings: Settings
) -> list[asyncio.Server]:
    loop = asyncio.get_running_loop()
    servers = []
    if settings.smtp.enabled:
        servers.append(
            await loop.create_server(
                server_factory(handler, settings, lmtp=False),
                settings.smtp.host,
                settings.smtp.port,
            )
        )
    if settings.lmtp.enabled:
        if settings.lmtp.socket:
            servers.append(
                await loop.create_unix_server(
                    server_factory(handler, settings, lmtp=True), settings.lmtp.socket
                )
            )
        else:
            servers.append(
                await loop.create_server(
                    server_factory(handler, settings, lmtp=True),
                    settings.lmtp.host,
                    settings.lmtp.port,
                )
            )
    return servers
