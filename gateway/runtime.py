"""The wired service: every dependency built once from settings and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import Sender
from connectors.email_out import SmtpRelaySender
from connectors.log_sms import LogSmsSender
from gateway.intake import IntakeHook, IntakeService
from gateway.outbound import ReplyService
from gateway.relay import Relay
from gateway.sealing import Keyring, load_keyring
from gateway.settings import Settings
from gateway.storage.db import Database, utcnow


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    intake: IntakeService
    replies: ReplyService
    relay: Relay
    senders: dict[str, Sender] = field(default_factory=dict)

    async def close(self) -> None:
        await self.db.close()


def default_senders(settings: Settings) -> dict[str, Sender]:
    sms: Sender
    if settings.sms.provider == "twilio":
        from connectors.twilio_rest import TwilioSmsSender

        sms = TwilioSmsSender(settings)
    else:
        sms = LogSmsSender()
    return {"sms": sms, "email": SmtpRelaySender(settings)}


def default_hooks(settings: Settings, keyring: Keyring) -> list[IntakeHook]:
    """The policies run on every stored message, in order (each lives in its own module)."""
    return []


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
    return Runtime(
        settings=settings,
        db=db,
        keyring=keyring,
        intake=IntakeService(db, keyring, settings, clock, hooks=default_hooks(settings, keyring)),
        replies=ReplyService(db, keyring, settings, clock),
        relay=Relay(db, keyring, senders, settings, clock),
        senders=senders,
    )
