"""Fixtures for the practice tests: an injected clock, the wired gateway on real servers, and a
fake MTA (a small aiosmtpd server on 127.0.0.1) that records what the gateway relays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from connectors.base import Sender
from gateway.core.hours import parse_office_hours
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway, start_gateway
from gateway.settings import Settings, TeamSettings
from tests.conftest import RecordingSender, make_settings

SERVICE = "post@barnevern.example.no"
WORKER = "ola@barnevern.example.no"
LEAD = "lise.leder@barnevern.example.no"
DUTY_EMAIL = "vakt@barnevern.example.no"
DUTY_SMS = "+4799000111"
TEAM_EMAIL = "team.nord@barnevern.example.no"


class Clock:
    """A settable clock; always returns an aware UTC instant (what the database stores)."""

    def __init__(self, at: datetime) -> None:
        self.now = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.astimezone(UTC)

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class FakeMta:
    """What the gateway's mail relay would receive."""

    port: int = 0
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    script: list[str] = field(default_factory=list)  # replies to give instead of accepting

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.script:
            return self.script.pop(0)
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 queued"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpts, m in self.messages if address in rcpts]


@pytest.fixture
async def fake_mta() -> AsyncIterator[FakeMta]:
    mta = FakeMta()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mta), "127.0.0.1", 0)
    mta.port = int(server.sockets[0].getsockname()[1])
    yield mta
    server.close()
    await server.wait_closed()


NORD_HOURS = {
    "timezone": "Europe/Oslo",
    "public_holidays": "NO",
    "weekly": {d: ["08:00-15:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def practice_settings(url: str, mta_port: int = 1, **overrides: Any) -> Settings:
    """Test settings with Team Nord's hours and duty targets; the mail relay is the fake MTA."""
    practice = overrides.pop("practice", {})
    teams = overrides.pop("teams", None)
    s = make_settings(url, email={"relay_port": mta_port}, **overrides)
    s = replace(
        s,
        practice=replace(
            s.practice,
            **{
                "emergency_numbers": "112 eller barnevernvakten 22 34 90 90",
                "receipts": True,
                "out_of_hours_notice": True,
                "unknown_sender_notice": True,
                "duty_email": DUTY_EMAIL,
                "duty_sms": DUTY_SMS,
                **practice,
            },
        ),
    )
    if teams is None:
        teams = {"Team Nord": TeamSettings(hours=parse_office_hours(NORD_HOURS), email=TEAM_EMAIL)}
    return replace(s, teams=teams)


@dataclass
class Harness:
    runtime: Runtime
    gateway: RunningGateway
    clock: Clock
    sms: RecordingSender
    email: Sender

    @property
    def web_port(self) -> int:
        return self.gateway.web_port

    @property
    def smtp_port(self) -> int:
        port = self.gateway.smtp_port
        assert port is not None
        return port


async def start_harness(
    settings: Settings, clock: Clock, *, email_sender: Sender | None = None
) -> Harness:
    sms = RecordingSender()
    email: Sender = email_sender or RecordingSender()
    rt = build_runtime(
        settings,
        senders={"sms": sms, "email": email},
        keyring=parse_keys(new_key_line("test")),
        clock=clock,
    )
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    return Harness(rt, gw, clock, sms, email)


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def harness_factory() -> AsyncIterator[HarnessFactory]:
    """Start gateways (several per test allowed); all are stopped at the end."""
    started: list[Harness] = []

    async def start(settings: Settings, clock: Clock, **kwargs: Any) -> Harness:
        h = await start_harness(settings, clock, **kwargs)
        started.append(h)
        return h

    yield start
    for h in started:
        await h.gateway.stop()


async def send_email(
    port: int,
    *,
    sender: str,
    body: str,
    subject: str = "Hei",
    msg_id: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Deliver one e-mail to the gateway's SMTP server with a real client."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = SERVICE
    m["Subject"] = subject
    m["Message-ID"] = msg_id
    for name, value in (headers or {}).items():
        m[name] = value
    m.set_content(body)
    await aiosmtplib.send(
        m, sender=sender, recipients=[SERVICE], hostname="127.0.0.1", port=port, timeout=10
    )
