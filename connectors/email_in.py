"""E-mail intake: aiosmtpd SMTP and LMTP servers on the service's event loop.

Cheap checks at RCPT (our service address or a reply token on our domain, else 550 5.1.1)
and at DATA (sender and peer limits); then each recipient's copy is committed as received,
sealed, under its exactly-once key (``gateway.receipts``), and 250 is answered after that
commit. Parsing, matching and classifying come after, off the answer path
(``process_receipt``): no message makes another sender wait. Any failure while committing
answers 451 4.3.0 so the sending MTA keeps the message and retries (never 500).
STARTTLS with the configured certificate on the SMTP port (optionally required before MAIL),
SMTPUTF8 and 8BITMIME on both; a sender past the hard limit is told 451 4.7.1 at MAIL, RCPT
or DATA (``connectors.sender_limit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import hashlib
import os
import ssl
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from connectors.email_parsing import UNPARSED_LABEL, ParseOutcome, ParserPool
from connectors.sender_limit import SenderLimit
from gateway.core.addresses import is_reply_token_shaped, normalise_email
from gateway.core.email import AttachmentInfo, EmailLimits, ParsedEmail
from gateway.core.email.attachment_policy import redact_filename
from gateway.core.email.receipt_key import email_key, email_receipt_key
from gateway.core.inbound import InboundAttachment, InboundMessage
from gateway.intake import IntakeFinish, IntakeResult, IntakeService
from gateway.receipts import HeldReceipt, Receipt, ReceiptWorker
from gateway.settings import Settings
from gateway.storage.db import StoreUnavailable, utcnow

log = structlog.get_logger("connectors.email_in")

# Reply codes, named once (STYLE.md: like aiosmtpd's testing/statuscodes.py).
ACCEPTED_RCPT = "250 2.1.5 Recipient OK"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
UNKNOWN_RECIPIENT = "550 5.1.1 No such recipient here"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure storing the message; try again later"
TOO_BIG = "552 5.3.4 Message too big for this service"
RATE_LIMITED = "451 4.7.1 Too many messages from this sender; try again later"
STARTTLS_REQUIRED = "530 5.7.0 Must issue a STARTTLS command first"
SHUTTING_DOWN = "421 4.3.2 Service shutting down; try again later"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients for one message; send the rest separately"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections from your address; try again later"
PEER_RATE_LIMITED = "451 4.7.1 Too many messages from your address; try again later"


class PeerConnections:
    """Open SMTP/LMTP sessions per peer address; peers named trusted (the MTA) are not counted."""

    def __init__(self, limit: int, trusted: frozenset[str]) -> None:
        self.limit = limit
        self.trusted = trusted
        self.open: dict[str, int] = {}

    def connect(self, peer: str) -> bool:
        if not peer or peer in self.trusted:
            return True
        if self.open.get(peer, 0) >= self.limit:
            return False
        self.open[peer] = self.open.get(peer, 0) + 1
        return True

    def disconnect(self, peer: str) -> None:
        if peer in self.open:
            self.open[peer] -= 1
            if self.open[peer] <= 0:
                del self.open[peer]


def peer_address(transport: Any) -> str:
    """The client's IP address ("" for a Unix socket)."""
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


class _PeerLimited:
    """Refuses a session at once (421) when its address already has too many open."""

    _peer_counted: str | None = None

    def connection_made(self, transport: Any) -> None:
        handler = getattr(self, "event_handler", None)
        connections = getattr(handler, "connections", None)
        peer = peer_address(transport)
        if isinstance(connections, PeerConnections):
            if not connections.connect(peer):
                log.info("smtp.peer_connection_limit", remote=peer)
                transport.write(TOO_MANY_CONNECTIONS.encode() + b"\r\n")
                transport.close()
                self._refused = True
                return
            self._peer_counted = peer
        super().connection_made(transport)  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_refused", False):
            return
        handler = getattr(self, "event_handler", None)
        connections = getattr(handler, "connections", None)
        if self._peer_counted is not None and isinstance(connections, PeerConnections):
            connections.disconnect(self._peer_counted)
            self._peer_counted = None
        super().connection_lost(exc)  # type: ignore[misc]


class _EnhancedCodes:
    """aiosmtpd answers some refusals without an enhanced status code; we add it."""

    async def push(self, status: Any) -> None:
        if status.startswith("552 Error"):
            status = TOO_BIG
        elif status.startswith("530 Must issue a STARTTLS"):
            status = STARTTLS_REQUIRED
        await super().push(status)  # type: ignore[misc]


class GatewaySMTP(_PeerLimited, _EnhancedCodes, SMTP):
    pass


class GatewayLMTP(_PeerLimited, _EnhancedCodes, LMTP):
    pass


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server-side TLS context for STARTTLS, or None when no certificate is configured."""
    smtp = settings.smtp
    if not (smtp.tls_cert_file and smtp.tls_key_file):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(smtp.tls_cert_file, smtp.tls_key_file)
    return context


def provider_id_for(parsed: ParsedEmail, raw: bytes, recipient: str) -> str:
    """Message-ID plus recipient; a content hash when the sender gave no Message-ID."""
    return email_key(parsed.message_id, raw, recipient)


def inbound_from_email(
    raw: bytes,
    parsed: ParsedEmail,
    envelope_from: str,
    recipient: str,
    payloads: tuple[tuple[AttachmentInfo, bytes], ...] = (),
    language: str = "nb",
    verified: bool = True,
) -> InboundMessage:
    """``verified``: our trusted MTA checked DMARC (``email.trusted_authserv_id`` is set)."""
    # Names are shown to caseworkers like text: ids and numbers in them are redacted
    # (the sealed original keeps the name as sent).
    attachments = tuple(
        InboundAttachment(
            redact_filename(info.filename, language),
            info.content_type,
            data,
            info.verdict,
            info.reason,
        )
        for info, data in payloads
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
        sender_verified=verified,
        attachments=attachments,
        html=parsed.html_sanitized,
        flags=flags,
    )


def unparsed_inbound(
    raw: bytes, envelope_from: str, recipient: str, reason: str, provider_id: str | None = None
) -> InboundMessage:
    """A message the parser could not finish within its budget: kept whole, read by nobody.

    Only facts that cost nothing are used: the envelope sender and recipient and the
    receipt's key as provider id (Message-ID read without parsing, else a content hash, so a
    retry of the same bytes is still recognised). The sealed original is the raw message,
    revealed as usual.
    """
    if provider_id is None:
        provider_id = f"sha256:{hashlib.sha256(raw).hexdigest()}|{normalise_email(recipient)}"
    return InboundMessage(
        channel="email",
        provider_id=provider_id,
        sender=normalise_email(envelope_from),
        recipient=normalise_email(recipient),
        text="",
        raw=raw,
        received_at=utcnow(),
        flags={"unparsed": UNPARSED_LABEL, "unparsed_reason": reason},
        sender_verified=False,  # nothing of its headers was read
    )


class ServiceMailHandler:
    """aiosmtpd handler shared by the SMTP and LMTP servers."""

    def __init__(
        self,
        intake: IntakeService,
        settings: Settings,
        sender_limit: SenderLimit | None = None,
    ) -> None:
        self.intake = intake
        self.settings = settings
        self.limits = EmailLimits(max_attachment_bytes=settings.smtp.max_message_bytes)
        self.service_addresses = {normalise_email(settings.email.service_address)}
        self.sender_limit = sender_limit or SenderLimit(
            settings.smtp.rate_limit_count, settings.smtp.rate_limit_seconds
        )
        self.draining = False  # set on stop: new transactions get 421, open ones finish
        self.parser = ParserPool(settings.email.parse_workers, settings.email.parse_timeout_seconds)
        sec = settings.security
        trusted = frozenset(p.strip() for p in sec.smtp_trusted_peers.split(",") if p.strip())
        self.connections = PeerConnections(sec.smtp_connections_per_peer, trusted)
        self.peer_messages = SenderLimit(sec.smtp_messages_per_peer, sec.smtp_peer_window_seconds)
        # Commits each message as received and processes it after (set by start_gateway).
        self.receipts: ReceiptWorker | None = None

    def close(self) -> None:
        """Stop the parser's worker processes."""
        self.parser.close()

    def peer_key(self, session: Session) -> str:
        """The peer's address for per-peer limits; the MTA in front (trusted) is not limited."""
        peer = session.peer
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        return "" if not address or address in self.connections.trusted else address

    def inbound_for(
        self,
        raw: bytes,
        outcome: ParseOutcome,
        envelope_from: str,
        recipient: str,
        provider_id: str | None = None,
    ) -> InboundMessage:
        if outcome.parsed is None:
            return unparsed_inbound(
                raw, envelope_from, recipient, outcome.unparsed or "", provider_id
            )
        return inbound_from_email(
            raw,
            outcome.parsed,
            envelope_from,
            recipient,
            outcome.attachments,
            self.settings.service.language,
            verified=bool(self.settings.email.trusted_authserv_id),
        )

    async def process_receipt(self, held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
        """Second phase: parse a committed message within its budget and store it.

        Runs in the receipt worker, after the sender had its 250. The receipt's key is the
        message's provider id; ``finish`` deletes the receipt in the message's transaction.
        A message that failed to be processed too often is stored unparsed (original kept).
        """
        attempts = self.settings.email.receipt_max_attempts
        if held.attempts > attempts:
            reason = f"processing failed {held.attempts - 1} times"
            outcome = ParseOutcome(None, (), reason)
        else:
            outcome = await self.parser.parse(
                held.raw, self.limits, self.settings.email.trusted_authserv_id or None
            )
        inbound = self.inbound_for(held.raw, outcome, held.sender, held.recipient, held.key)
        flags = inbound.flags
        if held.details.get("message_id_reused"):
            flags = {**flags, "message_id_reused": True}
        # The key was checked against filed messages when the receipt was committed: a reused
        # Message-ID got a key of its own there.
        inbound = replace(inbound, provider_id=held.key, received_at=held.received_at, flags=flags)
        return await self.intake.accept(inbound, finish)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # We take mail for our own addresses only and have no accounts: never offer AUTH.
        session.host_name = hostname
        return [r for r in responses if not r[4:].upper().startswith("AUTH")]

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.draining:
            return SHUTTING_DOWN
        if not self.sender_limit.allows(address):
            log.info("smtp.sender_rate_limited", stage="MAIL", sender=address)
            return RATE_LIMITED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

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
        if normalise_email(address) not in self.service_addresses:
            # Each reply-token recipient becomes a message of its own (and a triage item
            # when the token is invented): bound how many one message can make.
            others = sum(
                1 for r in envelope.rcpt_tos if normalise_email(r) not in self.service_addresses
            )
            if others >= self.settings.security.max_other_recipients:
                log.info("smtp.too_many_recipients", count=others + 1)
                return TOO_MANY_RECIPIENTS
        if not self.sender_limit.allows(envelope.mail_from):
            log.info("smtp.sender_rate_limited", stage="RCPT", sender=envelope.mail_from)
            return RATE_LIMITED
        envelope.rcpt_tos.append(address)
        return ACCEPTED_RCPT

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        lmtp = isinstance(server, LMTP)
        if not self.sender_limit.take(envelope.mail_from):
            # Other sessions of the same sender used up the window since MAIL was accepted.
            log.info("smtp.sender_rate_limited", stage="DATA", sender=envelope.mail_from)
            return "\r\n".join([RATE_LIMITED] * len(envelope.rcpt_tos)) if lmtp else RATE_LIMITED
        peer = self.peer_key(session)
        if peer and not self.peer_messages.take(peer):
            log.info("smtp.peer_rate_limited", remote=peer)
            self.sender_limit.give_back(envelope.mail_from)
            return (
                "\r\n".join([PEER_RATE_LIMITED] * len(envelope.rcpt_tos))
                if lmtp
                else PEER_RATE_LIMITED
            )
        raw = envelope.original_content or b""
        # Committed as received, one receipt per recipient (all in one group commit); the
        # parsing comes after the 250, off the answer path.
        statuses = list(
            await asyncio.gather(
                *(self._receive(raw, envelope.mail_from or "", rcpt) for rcpt in envelope.rcpt_tos)
            )
        )
        if ACCEPTED not in statuses:
            self.sender_limit.give_back(envelope.mail_from)  # nothing stored: not counted
            if peer:
                self.peer_messages.give_back(peer)
        if lmtp:
            # LMTP: one status per accepted recipient, in RCPT order (RFC 2033).
            return "\r\n".join(statuses)
        return ACCEPTED if all(s == ACCEPTED for s in statuses) else TEMPORARY_FAILURE

    async def _receive(self, raw: bytes, envelope_from: str, recipient: str) -> str:
        """Commit one recipient's copy as received; the reply for it."""
        if self.receipts is None:
            raise RuntimeError("the mail handler has no receipt worker")
        receipt = Receipt(
            channel="email",
            key=email_receipt_key(raw, recipient, self.limits),
            sender=normalise_email(envelope_from),
            recipient=normalise_email(recipient),
            raw=raw,
        )
        try:
            await self.receipts.receive(receipt)
        except StoreUnavailable as exc:
            log.error("smtp.store_unavailable", error=str(exc))
            return TEMPORARY_FAILURE
        return ACCEPTED

    async def handle_exception(self, error: Exception) -> str:
        log.error("smtp.handler_error", error=error.__class__.__name__)
        return TEMPORARY_FAILURE


def server_factory(
    handler: ServiceMailHandler,
    settings: Settings,
    *,
    lmtp: bool,
    sessions: weakref.WeakSet[SMTP] | None = None,
) -> Callable[[], SMTP]:
    """A protocol factory for ``loop.create_server`` (shares the service's event loop).

    Every session it makes is added to ``sessions``, so a stop can drain them.
    """
    sessions = sessions if sessions is not None else weakref.WeakSet()
    cls = GatewayLMTP if lmtp else GatewaySMTP
    # STARTTLS only on the SMTP port; LMTP is Postfix's local hand-off (loopback or socket).
    context = None if lmtp else tls_context(settings)
    require = bool(context) and settings.smtp.require_starttls

    def make() -> SMTP:
        # decode_data=False keeps the exact bytes (sealed as received) and advertises 8BITMIME.
        session = cls(
            handler,
            data_size_limit=settings.smtp.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.email.domain,
            ident="Case Gateway",
            tls_context=context,
            require_starttls=require,
        )
        sessions.add(session)
        return session

    return make


# The sessions of each listening server, for draining on stop.
_SESSIONS: weakref.WeakKeyDictionary[asyncio.Server, weakref.WeakSet[SMTP]] = (
    weakref.WeakKeyDictionary()
)


async def start_mail_servers(
    handler: ServiceMailHandler, settings: Settings
) -> list[asyncio.Server]:
    loop = asyncio.get_running_loop()
    servers = []
    if settings.smtp.enabled:
        sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        server = await loop.create_server(
            server_factory(handler, settings, lmtp=False, sessions=sessions),
            settings.smtp.host,
            settings.smtp.port,
        )
        _SESSIONS[server] = sessions
        servers.append(server)
    if settings.lmtp.enabled:
        sessions = weakref.WeakSet()
        factory = server_factory(handler, settings, lmtp=True, sessions=sessions)
        if settings.lmtp.socket:
            try:
                server = await loop.create_unix_server(factory, settings.lmtp.socket)
            except OSError as exc:  # name the socket's path, so the operator knows which one
                raise type(exc)(exc.errno, exc.strerror, settings.lmtp.socket) from exc
            _share_socket(
                settings.lmtp.socket, settings.lmtp.socket_mode, settings.lmtp.socket_group
            )
        else:
            server = await loop.create_server(factory, settings.lmtp.host, settings.lmtp.port)
        _SESSIONS[server] = sessions
        servers.append(server)
    return servers


def _share_socket(path: str, mode: str, group: str) -> None:
    """Give the LMTP socket its mode and group, so Postfix's lmtp client may connect."""
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
    os.chmod(path, int(mode, 8))


def _in_transaction(session: SMTP) -> bool:
    """Between MAIL and the answer to DATA: what a stop lets finish."""
    envelope = session.envelope
    return envelope is not None and envelope.mail_from is not None


async def drain_mail_servers(servers: list[asyncio.Server], timeout: float) -> None:
    """Stop taking mail without cutting a delivery short.

    The listening sockets close at once (new connections are refused). Idle sessions are told
    421 and closed; sessions in a transaction may finish it (their message is stored and gets
    its 250) for up to ``timeout`` seconds, then they are closed too. Whatever was cut was never
    acknowledged, so the sending MTA still has it and retries.
    """
    sessions = [s for server in servers for s in list(_SESSIONS.get(server, ()))]
    for server in servers:
        server.close()
    for session in sessions:
        if isinstance(session.event_handler, ServiceMailHandler):
            session.event_handler.draining = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        busy = False
        for session in sessions:
            if session.transport is None:
                continue
            if _in_transaction(session) and loop.time() < deadline:
                busy = True
                continue
            with contextlib.suppress(Exception):  # the peer may be gone already
                session.transport.write((SHUTTING_DOWN + "\r\n").encode())  # type: ignore[attr-defined]
            session.transport.close()
        if not busy:
            break
        await asyncio.sleep(0.05)
    if any(_in_transaction(s) for s in sessions if s.transport is not None):
        log.warning("smtp.drain_timeout", seconds=timeout)
    for server in servers:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=5)
