"""SMTP limits a hostile peer cannot rotate round: per-address sessions and messages, and a
cap on recipients other than the service address (one message to 500 invented reply tokens
used to become 500 messages and 500 triage items)."""

from __future__ import annotations

import asyncio
import smtplib

import pytest
from sqlalchemy import func, select

from gateway.core.addresses import new_reply_token, reply_address
from gateway.storage.models import Message
from tests.conftest import make_settings
from tests.email.conftest import DOMAIN, SERVICE, crlf, mail_gateway, smtp_port
from tests.helpers import processed

MAIL = crlf(b"From: a@example.org\nSubject: hei\n\nHei\n")


async def _stored(rt: object) -> int:
    async with rt.db.read() as s:  # type: ignore[attr-defined]
        return int((await s.execute(select(func.count(Message.id)))).scalar_one())


def session_rcpts(port: int, rcpts: list[str]) -> list[tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("a@example.org")
        answers = [client.rcpt(r) for r in rcpts]
        client.data(MAIL)
        return answers


async def test_recipients_beyond_the_cap_get_452_453(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, security={"max_other_recipients": 3})
    tokens = [reply_address(new_reply_token(), DOMAIN) for _ in range(6)]
    async with mail_gateway(settings) as (rt, gw):
        answers = await asyncio.to_thread(session_rcpts, smtp_port(gw), [SERVICE, *tokens])
        await processed(gw)
        assert [code for code, _ in answers] == [250, 250, 250, 250, 452, 452, 452]
        assert answers[-1][1].startswith(b"4.5.3")
        assert await _stored(rt) == 4  # the service address and three tokens, no more


def connect(port: int) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    client.ehlo("client.example")
    return client


async def test_sessions_per_peer_are_limited(sqlite_url: str) -> None:
    settings = make_settings(
        sqlite_url, security={"smtp_connections_per_peer": 2, "smtp_trusted_peers": ""}
    )
    async with mail_gateway(settings) as (_rt, gw):
        port = smtp_port(gw)
        first = await asyncio.to_thread(connect, port)
        second = await asyncio.to_thread(connect, port)
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            await asyncio.to_thread(connect, port)
        assert refused.value.smtp_code == 421
        await asyncio.to_thread(first.quit)
        # One closed: the address may open another (the count follows real sessions).
        while gw.mail_handler is not None and sum(gw.mail_handler.connections.open.values()) > 1:
            await asyncio.sleep(0.01)
        third = await asyncio.to_thread(connect, port)
        for client in (second, third):
            await asyncio.to_thread(client.quit)


def send_as(port: int, sender: str) -> object:
    data = crlf(f"From: {sender}\nMessage-ID: <{sender}>\nSubject: hei\n\nHei\n".encode())
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail(sender, [SERVICE], data)


async def test_messages_per_peer_are_limited_whatever_the_sender(sqlite_url: str) -> None:
    settings = make_settings(
        sqlite_url, security={"smtp_messages_per_peer": 2, "smtp_trusted_peers": ""}
    )
    async with mail_gateway(settings) as (rt, gw):
        port = smtp_port(gw)
        for n in range(2):
            assert await asyncio.to_thread(send_as, port, f"rotating{n}@example.org") == {}
            await processed(gw)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(send_as, port, "rotating9@example.org")
        assert refused.value.smtp_code == 451 and b"your address" in refused.value.smtp_error
        assert await _stored(rt) == 2


async def test_the_mta_in_front_is_not_limited_per_peer(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, security={"smtp_messages_per_peer": 1})
    async with mail_gateway(settings) as (rt, gw):
        for n in range(3):
            assert await asyncio.to_thread(send_as, smtp_port(gw), f"s{n}@example.org") == {}
            await processed(gw)
        assert await _stored(rt) == 3
