"""MMS media: fetched from Twilio after the message is stored, so a failed fetch never loses text.

The webhook stores each media item as an attachment with ``verdict="pending"``; an intake hook
queues one ``fetch_media`` job for the message in the same transaction. ``MediaFetcher`` (run
next to the relay) claims due jobs with ``FOR UPDATE SKIP LOCKED``, fetches every pending item
with HTTP Basic auth, follows Twilio's redirect to its CDN, and stores the bytes sealed.

Nothing is fetched from a host outside ``twilio.media_hosts`` — redirects included — so a
crafted MediaUrl cannot make the gateway reach into the operator's network. Size, type and time
are bounded. Credentials go only to the first hop (Twilio's API); the CDN URL it redirects to is
pre-signed and gets none.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

import aiohttp
import structlog
from sqlalchemy import select

from gateway.core.email.sniffing import sniff_content_type
from gateway.core.sms import retry_delay
from gateway.intake import IntakeContext, IntakeHook, seal_into
from gateway.relay import claim_due
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import Database, utcnow
from gateway.storage.models import Attachment, OutboxJob
from gateway.workers import poll_until_stopped

log = structlog.get_logger("connectors.twilio_media")

TWILIO_API = "https://api.twilio.com"
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
FETCH_KIND = "fetch_media"


@dataclass(frozen=True)
class Fetched:
    """One fetch: the bytes and declared type, or why not (``permanent``: retrying cannot help)."""

    data: bytes | None = None
    content_type: str = ""
    error: str = ""
    permanent: bool = False


@dataclass(frozen=True)
class PendingMedia:
    attachment_id: int
    url: str
    declared_type: str


@dataclass(frozen=True)
class MediaJob:
    job_id: int
    message_id: int
    attempts: int
    media: tuple[PendingMedia, ...]


def host_allowed(host: str, patterns: list[str]) -> bool:
    """``host`` equals a pattern, or a ``*.domain`` pattern names one of its parent domains."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def media_hosts(settings: Settings) -> list[str]:
    return [h.strip().lower() for h in settings.twilio.media_hosts.split(",") if h.strip()]


def url_refusal(url: str, patterns: list[str]) -> str | None:
    """Why ``url`` must not be fetched, or None. Plain http only to a loopback address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        return "media URL is not a plain https URL"
    if not host_allowed(host, patterns):
        return f"media host {host} is not one of Twilio's media hosts (twilio.media_hosts)"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    return "media URL is not https"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def routed(url: str, settings: Settings) -> str:
    """Twilio's API URL rewritten to the configured API base (a fake Twilio server in tests)."""
    base = settings.twilio.api_base_url.rstrip("/")
    if url.startswith(TWILIO_API + "/") and base != TWILIO_API:
        return base + url[len(TWILIO_API) :]
    return url


async def fetch_media(http: aiohttp.ClientSession, url: str, settings: Settings) -> Fetched:
    """Fetch one media item within the configured hosts, size and time."""
    try:
        async with asyncio.timeout(settings.sms.media_timeout_seconds):
            return await _follow(http, routed(url, settings), settings)
    except TimeoutError:
        return Fetched(error="fetching the media from Twilio timed out")
    except aiohttp.ClientError as exc:
        return Fetched(error=f"Twilio media unreachable ({exc.__class__.__name__})")


async def _follow(http: aiohttp.ClientSession, url: str, settings: Settings) -> Fetched:
    patterns = media_hosts(settings)
    limit = settings.sms.media_max_bytes
    # Credentials only to Twilio's API itself: a media URL naming another allowed host (a
    # CDN, an operator's extra host) never sees the Account SID and auth token.
    auth: str | None = _basic_auth(settings) if is_twilio_api(url, settings) else None
    for _hop in range(MAX_REDIRECTS + 1):
        refusal = url_refusal(url, patterns)
        if refusal:
            return Fetched(error=refusal, permanent=True)
        headers = {"Authorization": auth} if auth else {}
        async with http.get(url, headers=headers, allow_redirects=False) as resp:
            auth = None  # only Twilio's API gets the credentials, never where it redirects
            if resp.status in REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    return Fetched(error=f"Twilio redirected without a location ({resp.status})")
                url = urljoin(url, location)
                continue
            if resp.status == 404:
                return Fetched(error="the media is no longer at Twilio (404)", permanent=True)
            if resp.status >= 400:
                return Fetched(error=f"Twilio answered {resp.status} for the media")
            if resp.content_length is not None and resp.content_length > limit:
                return Fetched(error=_too_large(resp.content_length, limit), permanent=True)
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > limit:
                    return Fetched(error=_too_large(len(data), limit), permanent=True)
            return Fetched(bytes(data), resp.headers.get("Content-Type", "").split(";")[0].strip())
    return Fetched(error="too many redirects fetching the media", permanent=True)


def is_twilio_api(url: str, settings: Settings) -> bool:
    """Whether ``url`` is on Twilio's API host (the configured ``twilio.api_base_url``)."""
    parts = urlsplit(url)
    base = urlsplit(settings.twilio.api_base_url)
    return (
        parts.scheme == base.scheme
        and (parts.hostname or "").lower() == (base.hostname or "").lower()
        and parts.port == base.port
    )


def _basic_auth(settings: Settings) -> str:
    return aiohttp.encode_basic_auth(settings.twilio.account_sid, settings.twilio.auth_token)


def _too_large(size: int, limit: int) -> str:
    return f"media is larger than sms.media_max_bytes ({size} > {limit} bytes); not kept"


def accepted_type(sniffed: str, declared: str, settings: Settings) -> str | None:
    """The type to record when the media may be kept, else None.

    The bytes decide; a text body (vCard) may carry its more precise declared type.
    """
    allowed = {t.strip().lower() for t in settings.sms.media_types.split(",") if t.strip()}
    declared = declared.lower()
    if sniffed == "text/plain" and declared in allowed and declared.startswith("text/"):
        return declared
    return sniffed if sniffed in allowed else None


def media_fetch_hook() -> IntakeHook:
    """Queue one fetch job, in the intake transaction, for a message with pending media."""

    async def on_message(ctx: IntakeContext) -> None:
        pending = [a for a in ctx.inbound.attachments if a.verdict == "pending" and a.source_url]
        if not pending:
            return
        ctx.tx.session.add(
            OutboxJob(
                message_id=ctx.message.id,
                channel=ctx.inbound.channel,
                kind=FETCH_KIND,
                state="pending",
                attempts=0,
                next_attempt_at=ctx.now,
                idempotency_key=uuid.uuid4().hex,
                created_at=ctx.now,
            )
        )
        ctx.tx.audit(
            "system", "media.fetch_queued", f"message:{ctx.message.id}", items=len(pending)
        )

    return on_message


class MediaFetcher:
    """The worker: claim due fetch jobs, fetch, seal, record; retry what failed for now."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.settings = settings
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        await poll_until_stopped("media", self.run_once, stop, self.settings.relay.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch of due jobs and work each; returns how many were claimed."""
        jobs = await self.claim()
        if not jobs:
            return 0
        async with aiohttp.ClientSession() as http:
            for job in jobs:
                results = {
                    m.attachment_id: await fetch_media(http, m.url, self.settings)
                    for m in job.media
                }
                kept = await self.record(job, results)
                if self.settings.twilio.delete_media:
                    for media in job.media:
                        if media.attachment_id in kept:
                            await self._delete_at_twilio(http, media)
        return len(jobs)

    async def claim(self) -> list[MediaJob]:
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            rows = await claim_due(s, FETCH_KIND, now, relay.batch_size, relay.lease_seconds)
            jobs = []
            for row in rows:
                attachments = (
                    await s.execute(
                        select(Attachment)
                        .where(
                            Attachment.message_id == row.message_id,
                            Attachment.verdict == "pending",
                        )
                        .order_by(Attachment.id)
                    )
                ).scalars()
                media = tuple(
                    PendingMedia(a.id, a.source_url, a.content_type)
                    for a in attachments
                    if a.source_url
                )
                jobs.append(MediaJob(row.id, row.message_id, row.attempts, media))
        return jobs

    async def record(self, job: MediaJob, results: dict[int, Fetched]) -> set[int]:
        """Store what was fetched; returns the attachment ids now sealed and kept."""
        now = self.clock()
        kept: set[int] = set()
        async with self.db.transaction() as tx:
            s = tx.session
            row = await s.get(OutboxJob, job.job_id)
            assert row is not None
            still_pending: list[Attachment] = []
            last_error = ""
            for media in job.media:
                att = await s.get(Attachment, media.attachment_id)
                if att is None or att.verdict != "pending":
                    continue  # another worker finished it after our lease ran out
                got = results[media.attachment_id]
                subject = f"attachment:{att.id}"
                if got.data is not None:
                    sealed = await seal_into(tx, self.keyring, got.data, b"attachment")
                    sniffed = sniff_content_type(got.data)
                    kind = accepted_type(
                        sniffed, got.content_type or media.declared_type, self.settings
                    )
                    att.sealed_id, att.sha256, att.size = sealed.id, sealed.sha256, sealed.size
                    att.content_type = kind or sniffed
                    if kind is None:
                        att.verdict, att.reason = "blocked", f"type {sniffed} is not accepted"
                    else:
                        att.verdict, att.reason = "kept", ""
                        kept.add(att.id)
                    tx.audit(
                        "media",
                        "attachment.fetched" if kind else "attachment.blocked",
                        subject,
                        message_id=job.message_id,
                        content_type=att.content_type,
                        size=att.size,
                        sha256=att.sha256,
                        reason=att.reason or None,
                    )
                elif got.permanent:
                    att.verdict, att.reason = "blocked", got.error[:200]
                    tx.audit(
                        "media",
                        "attachment.blocked",
                        subject,
                        message_id=job.message_id,
                        reason=got.error,
                    )
                else:
                    att.reason = f"not fetched yet: {got.error}"[:200]
                    last_error = got.error
                    still_pending.append(att)
            if not still_pending:
                row.state, row.lease_until, row.last_error = "sent", None, None
            elif row.attempts >= self.settings.sms.media_max_attempts:
                row.state, row.lease_until, row.last_error = "dead", None, last_error
                for att in still_pending:
                    att.verdict = "blocked"
                    att.reason = f"could not be fetched from Twilio after {row.attempts} attempts: {last_error}"[
                        :200
                    ]
                    tx.audit(
                        "media",
                        "attachment.blocked",
                        f"attachment:{att.id}",
                        message_id=job.message_id,
                        reason=att.reason,
                    )
            else:
                relay = self.settings.relay
                delay = retry_delay(
                    row.attempts, base=relay.backoff_base_seconds, cap=relay.backoff_cap_seconds
                )
                row.state, row.lease_until, row.last_error = "pending", None, last_error
                row.next_attempt_at = now + timedelta(seconds=delay)
                tx.audit(
                    "media",
                    "media.fetch_retry",
                    f"message:{job.message_id}",
                    attempts=row.attempts,
                    pending=len(still_pending),
                    retry_in_seconds=round(delay, 1),
                )
        log.info(
            "media.outcome",
            message_id=job.message_id,
            kept=len(kept),
            pending=len(still_pending),
            attempts=job.attempts,
        )
        return kept

    async def _delete_at_twilio(self, http: aiohttp.ClientSession, media: PendingMedia) -> None:
        """Best effort: the media is sealed here already; a failed delete is only logged."""
        url = routed(media.url, self.settings)
        if url_refusal(url, media_hosts(self.settings)) or not is_twilio_api(url, self.settings):
            return
        headers = {"Authorization": _basic_auth(self.settings)}
        try:
            async with asyncio.timeout(self.settings.sms.media_timeout_seconds):
                async with http.delete(url, headers=headers, allow_redirects=False) as resp:
                    ok = resp.status in (200, 204, 404)
        except (TimeoutError, aiohttp.ClientError):
            ok = False
        log.info("media.deleted_at_twilio", attachment_id=media.attachment_id, ok=ok)
