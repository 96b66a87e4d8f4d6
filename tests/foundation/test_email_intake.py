"""SMTP and LMTP intake: real sessions over loopback with a real client, every reply asserted."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Message
from tests.helpers import PARENT_EMAIL, processed, seed_case

SERVICE = "post@barnevern.example.no"


def mail(msg_id: str | None = "<m1@example.org>", body: str = "Hei, vi kommer torsdag.") -> bytes:
    m = EmailMessage()
    m["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
    m["To"] = SERVICE
    m["Subject"] = "Møte"
    if msg_id:
        m["Message-ID"] = msg_id
    m.set_content(body)
    return m.as_bytes()


def smtp_session(
    port: int, rcpts: list[str], data: bytes, *, lmtp: bool = False
) -> dict[str, object]:
    """Run one transaction and return every reply the server gave."""
    client: smtplib.SMTP = (
        smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
    )
    try:
        (client.ehlo if not lmtp else lambda: client.docmd("LHLO", "test"))()
        out: dict[str, object] = {"mail": client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")}
        out["rcpt"] = [client.docmd("RCPT", f"TO:<{r}>") for r in rcpts]
        if any(code == 250 for code, _ in out["rcpt"]):  # type: ignore[attr-defined]
            code, _ = client.docmd("DATA")
            assert code == 354
            client.send(data.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + b"\r\n.\r\n")
            if lmtp:
                accepted = sum(1 for c, _ in out["rcpt"] if c == 250)  # type: ignore[attr-defined]
                out["data"] = [client.getreply() for _ in range(accepted)]
            else:
                out["data"] = client.getreply()
        return out
    finally:
        client.close()


async def count(rt: Runtime) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(Message))).scalar_one())


async def run(fn, *args, **kw):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(fn, *args, **kw)


async def test_mail_to_service_address_is_stored_then_250(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    out = await run(smtp_session, gateway.smtp_port, [SERVICE], mail())
    assert out["rcpt"] == [(250, b"2.1.5 Recipient OK")]
    assert out["data"] == (250, b"2.0.0 Message accepted for delivery")
    await processed(gateway)
    async with runtime.db.read() as s:
        msg = (await s.execute(select(Message))).scalar_one()
    assert msg.case_id is not None and msg.channel == "email"
    assert msg.provider_id == f"<m1@example.org>|{SERVICE}"


@pytest.mark.parametrize(
    "rcpt",
    ["someone@barnevern.example.no", "post@elsewhere.example", "case.short@barnevern.example.no"],
)
async def test_other_recipients_are_refused_at_rcpt(
    runtime: Runtime, gateway: RunningGateway, rcpt: str
) -> None:
    out = await run(smtp_session, gateway.smtp_port, [rcpt], mail())
    assert out["rcpt"] == [(550, b"5.1.1 No such recipient here")]
    assert "data" not in out
    assert await count(runtime) == 0


async def test_duplicate_delivery_is_250_and_stored_once(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    for _ in range(2):
        out = await run(smtp_session, gateway.smtp_port, [SERVICE], mail())
        assert out["data"] == (250, b"2.0.0 Message accepted for delivery")
        await processed(gateway)
    assert await count(runtime) == 1


async def test_missing_message_id_deduplicates_on_content(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    data = mail(msg_id=None)
    for _ in range(2):
        assert (await run(smtp_session, gateway.smtp_port, [SERVICE], data))["data"][0] == 250  # type: ignore[index]
        await processed(gateway)
    assert await count(runtime) == 1


async def test_store_failure_is_451_never_500(runtime: Runtime, gateway: RunningGateway) -> None:
    def fail() -> None:
        raise OSError("database gone")

    runtime.db.fault = fail
    out = await run(smtp_session, gateway.smtp_port, [SERVICE], mail())
    assert out["data"] == (451, b"4.3.0 Temporary failure storing the message; try again later")
    runtime.db.fault = None
    assert await count(runtime) == 0
    assert (await run(smtp_session, gateway.smtp_port, [SERVICE], mail()))["data"][0] == 250  # type: ignore[index]


async def test_oversize_mail_is_552_5_3_4(runtime: Runtime, gateway: RunningGateway) -> None:
    big = mail(body="x" * 80 + "\n" * 1 + ("y" * 998 + "\n") * 2200)
    out = await run(smtp_session, gateway.smtp_port, [SERVICE], big)
    assert out["data"] == (552, b"5.3.4 Message too big for this service")
    assert await count(runtime) == 0


async def test_lmtp_answers_one_status_per_recipient(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    assert gateway.lmtp_port is not None
    token_rcpt = "case.abcdefghijklmnopqrstuvwx@barnevern.example.no"
    out = await run(
        smtp_session,
        gateway.lmtp_port,
        [SERVICE, "nobody@barnevern.example.no", token_rcpt],
        mail(),
        lmtp=True,
    )
    assert [c for c, _ in out["rcpt"]] == [250, 550, 250]  # type: ignore[attr-defined]
    assert out["data"] == [(250, b"2.0.0 Message accepted for delivery")] * 2
    await processed(gateway)
    assert await count(runtime) == 2  # one record per recipient


async def test_lmtp_partial_failure_reports_per_recipient(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    """The disk fails while one recipient's copy is written: only that recipient gets 451."""
    token_rcpt = "case.abcdefghijklmnopqrstuvwx@barnevern.example.no"
    engine = runtime.db.engine.sync_engine

    def fail_token_copy(_conn, _cursor, statement, parameters, *_rest):  # type: ignore[no-untyped-def]
        if "INSERT INTO inbound_receipt" in statement and token_rcpt in str(parameters):
            raise OperationalError(statement, {}, Exception("disk I/O error"))

    event.listen(engine, "before_cursor_execute", fail_token_copy)
    try:
        out = await run(smtp_session, gateway.lmtp_port, [SERVICE, token_rcpt], mail(), lmtp=True)
    finally:
        event.remove(engine, "before_cursor_execute", fail_token_copy)
    assert [c for c, _ in out["data"]] == [250, 451]  # type: ignore[attr-defined]
    await processed(gateway)
    async with runtime.db.read() as s:
        stored = (await s.execute(select(Message.recipient))).scalars().all()
    assert stored == [SERVICE]
    # The MTA retries the refused recipient only; now it is stored too.
    out = await run(smtp_session, gateway.lmtp_port, [token_rcpt], mail(), lmtp=True)
    assert [c for c, _ in out["data"]] == [250]  # type: ignore[attr-defined]
    await processed(gateway)
    assert await count(runtime) == 2
