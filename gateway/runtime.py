"""The wired service: every dependency built once from settings and passed explicitly."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import Sender
from connectors.email_out import SmtpRelaySender
from connectors.log_sms import LogSmsSender
from connectors.twilio_media import MediaFetcher, media_fetch_hook
from connectors.twilio_sms import SmsFiling
from gateway.backlog import BacklogGauges
from gateway.bounces import mark_bounced_replies
from gateway.intake import IntakeHook, IntakeService
from gateway.notifications import NotificationWorker, StaffNotifications
from gateway.outbound import ReplyService
from gateway.practice import AutoReplies, Practice, StaffProtection
from gateway.ratelimit import InboundRateLimit
from gateway.receipts import ReceiptWorker
from gateway.relay import Relay
from gateway.sealing import Keyring, load_keyring
from gateway.settings import Settings
from gateway.sms_keywords import sms_keyword_hook
from gateway.storage.db import Database, utcnow
from gateway.workers import WorkerRegistry


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    intake: IntakeService
    replies: ReplyService
    relay: Relay
    senders: dict[str, Sender] = field(default_factory=dict)
    media: MediaFetcher | None = None  # MMS media worker, run next to the relay
    practice: Practice | None = None  # office hours and templates, loaded once
    notifier: NotificationWorker | None = None  # staff notifications, run next to the relay
    workers: WorkerRegistry = field(default_factory=WorkerRegistry)  # supervision, /readyz
    backlog: BacklogGauges = field(init=False)  # database gauges for /metrics, cached
    # Messages committed as received and filed after the sender's answer (SMS here; e-mail
    # adds its processor where its mail handler is built). Run by ``start_gateway``.
    receipts: ReceiptWorker = field(init=False)

    def __post_init__(self) -> None:
        self.backlog = BacklogGauges(self.db, self.settings.metrics.cache_seconds)
        self.receipts = ReceiptWorker(
            self.db,
            self.keyring,
            self.settings,
            {"sms": SmsFiling(self.intake).process_receipt},
            self.intake.clock,
        )

    async def close(self) -> None:
        """Close outbound HTTP sessions (senders that hold one) and the database pool."""
        await self.receipts.writer.close()  # commits and answers what was handed over
        await self.intake.close()  # stores and answers what was handed over first
        for sender in self.senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                await close()
        await self.db.close()


def console_logs(settings: Settings) -> bool:
    """Whether logs go to a person's terminal (console format), not to a log store (JSON)."""
    fmt = settings.log.format
    return fmt == "console" or (fmt == "auto" and sys.stderr.isatty())


def default_senders(settings: Settings) -> dict[str, Sender]:
    sms: Sender
    if settings.sms.provider == "twilio":
        from connectors.twilio_rest import TwilioSmsSender

        sms = TwilioSmsSender(settings)
    else:
        sms = LogSmsSender(show_text=console_logs(settings))
    return {"sms": sms, "email": SmtpRelaySender(settings)}


def default_hooks(
    settings: Settings, keyring: Keyring, practice: Practice | None = None
) -> list[IntakeHook]:
    """The policies run on every stored message, in order (each lives in its own module)."""
    practice = practice or Practice(settings)
    return [
        media_fetch_hook(),
        sms_keyword_hook(settings, keyring),
        mark_bounced_replies,  # a bounce of our e-mail reply marks it failed on the case
        # The rate limit and staff protection set flags that auto-replies and notifications read.
        InboundRateLimit(settings),
        StaffProtection(),
        AutoReplies(settings, keyring, practice),
        StaffNotifications(settings, practice),
    ]


def build_runtime(
    settings: Settings,
    *,
    senders: dict[str, Sender] | None = None,
    keyring: Keyring | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Runtime:
    db = Database(
        settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size
    )
    keyring = keyring or load_keyring(settings.crypto.key, settings.crypto.key_file)
    senders = senders if senders is not None else default_senders(settings)
    practice = Practice(settings)
    return Runtime(
        settings=settings,
        db=db,
        keyring=keyring,
        intake=IntakeService(
            db, keyring, settings, clock, hooks=default_hooks(settings, keyring, practice)
        ),
        replies=ReplyService(db, keyring, settings, clock),
        relay=Relay(db, keyring, senders, settings, clock),
        senders=senders,
        media=MediaFetcher(db, keyring, settings, clock),
        practice=practice,
        notifier=NotificationWorker(db, settings, practice, senders.get("sms"), clock=clock),
        workers=WorkerRegistry(settings.workers),
    )
