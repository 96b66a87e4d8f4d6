"""The e-mail channel's harness: the gateway's real SMTP/LMTP servers, the real relay sender,
and a fake remote MTA (a small aiosmtpd server on 127.0.0.1) standing in for Postfix."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from connectors.email_out import SmtpRelaySender
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway, start_gateway
from gateway.settings import Settings
from tests.conftest import RecordingSender, make_settings

SERVICE = "post@barnevern.example.no"
DOMAIN = "barnevern.example.no"
AUTHSERV = "mx.barnevern.example.no"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class FakeMTA:
    """The relay (Postfix) our replies go to; ``script`` holds the answers to DATA, in order
    (250 once it is empty). Only messages answered 250 count as delivered."""

    script: list[str] = field(default_factory=list)
    rcpt_script: list[str] = field(default_factory=list)  # answers to RCPT, in order
    # Take the whole message (it counts as delivered), then drop the connection before the
    # final answer: the next N messages. Or drop it at RCPT, before any DATA.
    drop_after_data: int = 0
    drop_at_rcpt: int = 0
    delivered: list[Delivered] = field(default_factory=list)
    attempts: int = 0
    port: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.drop_at_rcpt:
            self.drop_at_rcpt -= 1
            _drop(server)
            return "421 4.4.2 connection dropped"  # never reaches the client
        answer = self.rcpt_script.pop(0) if self.rcpt_script else "250 2.1.5 Ok"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        answer = self.script.pop(0) if self.script else "250 2.0.0 Ok: queued"
        dropping = answer.startswith("250") and self.drop_after_data > 0
        if answer.startswith("250"):
            self.delivered.append(
                Delivered(
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    envelope.original_content or b"",
                )
            )
        if dropping:
            self.drop_after_data -= 1
            _drop(server)
        return answer


def _drop(server: SMTP) -> None:
    """Lose the connection the way a crashed relay or a broken network does."""
    if server.transport is not None:
        server.transport.abort()


@pytest.fixture
async def mta() -> AsyncIterator[FakeMTA]:
    fake = FakeMTA()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(fake, decode_data=False, enable_SMTPUTF8=True, hostname="relay.test"),
        "127.0.0.1",
        0,
    )
    fake.port = int(server.sockets[0].getsockname()[1])
    yield fake
    server.close()
    await server.wait_closed()


def mail_settings(url: str, relay_port: int, **overrides: Any) -> Settings:
    email = {"relay_host": "127.0.0.1", "relay_port": relay_port, "trusted_authserv_id": AUTHSERV}
    email.update(overrides.pop("email", {}))
    return make_settings(url, email=email, **overrides)


@pytest.fixture
def settings(db_url: str, mta: FakeMTA) -> Settings:
    return mail_settings(db_url, mta.port)


@pytest.fixture
def email_sender(settings: Settings) -> SmtpRelaySender:
    """The real reply sender, talking SMTP to the fake MTA."""
    return SmtpRelaySender(settings, timeout=10)


@asynccontextmanager
async def mail_gateway(settings: Settings) -> AsyncIterator[tuple[Runtime, RunningGateway]]:
    """A gateway with settings of the test's own (TLS, limits, policies)."""
    rt = build_runtime(
        settings,
        senders={"sms": RecordingSender(), "email": SmtpRelaySender(settings, timeout=10)},
        keyring=parse_keys(new_key_line("test")),
    )
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    try:
        yield rt, gw
    finally:
        await gw.stop()


def smtp_port(gw: RunningGateway) -> int:
    assert gw.smtp_port is not None
    return gw.smtp_port


def deliver(
    port: int, data: bytes, *, sender: str, rcpts: list[str] | None = None, **kw: Any
) -> Any:
    """Send one message with smtplib (blocking: call through asyncio.to_thread)."""
    return send_crlf(port, crlf(data), sender=sender, rcpts=rcpts, **kw)


def crlf(data: bytes) -> bytes:
    """CRLF line ends, as on the wire (smtplib sends bytes as they are)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send_crlf(
    port: int, data: bytes, *, sender: str, rcpts: list[str] | None = None, **kw: Any
) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail(sender, rcpts or [SERVICE], data, **kw)
