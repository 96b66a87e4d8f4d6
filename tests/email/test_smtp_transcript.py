"""Full SMTP and LMTP transcripts over loopback, every reply asserted (as zulip's email mirror
tests do), and SMTPUTF8/8BITMIME for a family whose address is not plain ASCII."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Case, Message
from tests.email import statuscodes as sc
from tests.email.conftest import SERVICE, smtp_port
from tests.helpers import PARENT_EMAIL, processed, seed_case


def family_mail(msg_id: str, body: str = "Hei, vi kommer torsdag.") -> bytes:
    m = EmailMessage()
    m["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
    m["To"] = SERVICE
    m["Subject"] = "Møte"
    m["Message-ID"] = msg_id
    m.set_content(body)
    return m.as_bytes()


def data_lines(data: bytes) -> bytes:
    """The DATA payload as a client sends it: CRLF lines, dots stuffed, ended by ".\r\n"."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    stuffed = [b"." + ln if ln.startswith(b".") else ln for ln in lines]
    return b"\r\n".join(stuffed) + b"\r\n.\r\n"


def smtp_transcript(port: int, fault: object) -> list[tuple[str, tuple[int, bytes]]]:
    """One session: three transactions (accepted, store failure, too big) and QUIT."""
    out: list[tuple[str, tuple[int, bytes]]] = []
    client = smtplib.SMTP()
    out.append(("greeting", client.connect("127.0.0.1", port)))
    out.append(("EHLO", client.ehlo("client.example.org")))
    out.append(("RCPT before MAIL", client.docmd("RCPT", f"TO:<{SERVICE}>")))
    # 1: accepted and stored.
    out.append(("MAIL", client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")))
    out.append(("RCPT unknown", client.docmd("RCPT", "TO:<someone@barnevern.example.no>")))
    out.append(("RCPT relay", client.docmd("RCPT", "TO:<post@elsewhere.example>")))
    out.append(("RCPT service", client.docmd("RCPT", f"TO:<{SERVICE}>")))
    out.append(("DATA", client.docmd("DATA")))
    client.send(data_lines(family_mail("<t1@example.org>")))
    out.append(("end of data", client.getreply()))
    # 2: the store fails: 451 4.3.0, the sender keeps the message.
    fault_on = fault  # set by the caller's callable through the list below
    assert callable(fault_on)
    fault_on(True)
    out.append(("MAIL 2", client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")))
    out.append(("RCPT 2", client.docmd("RCPT", f"TO:<{SERVICE}>")))
    out.append(("DATA 2", client.docmd("DATA")))
    client.send(data_lines(family_mail("<t2@example.org>")))
    out.append(("end of data 2", client.getreply()))
    fault_on(False)
    # 3: too big (the test settings allow 2 MiB).
    out.append(("MAIL 3", client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")))
    out.append(("RCPT 3", client.docmd("RCPT", f"TO:<{SERVICE}>")))
    out.append(("DATA 3", client.docmd("DATA")))
    big = family_mail("<t3@example.org>", body=("y" * 998 + "\n") * 2200)
    client.send(data_lines(big))
    out.append(("end of data 3", client.getreply()))
    # 4: no valid recipient, then DATA.
    out.append(("MAIL 4", client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")))
    out.append(("RCPT 4", client.docmd("RCPT", "TO:<nobody@barnevern.example.no>")))
    out.append(("DATA 4", client.docmd("DATA")))
    out.append(("RSET", client.docmd("RSET")))
    out.append(("NOOP", client.docmd("NOOP")))
    out.append(("QUIT", client.docmd("QUIT")))
    client.close()
    return out


async def test_full_smtp_transcript_asserts_every_reply(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)

    loop = asyncio.get_running_loop()

    def fault_on(on: bool) -> None:
        def fail() -> None:
            raise OSError("database gone")

        if on:  # the first message is filed before the disk goes
            asyncio.run_coroutine_threadsafe(processed(gateway), loop).result()
        runtime.db.fault = fail if on else None

    got = await asyncio.to_thread(smtp_transcript, smtp_port(gateway), fault_on)
    replies = dict(got)
    code, text = replies["greeting"]
    assert code == 220 and text.startswith(sc.GREETING_PREFIX)
    code, text = replies["EHLO"]
    assert code == 250
    assert text.split(b"\n") == [
        b"barnevern.example.no",
        b"SIZE 2097152",
        b"8BITMIME",
        b"SMTPUTF8",
        b"HELP",
    ]
    assert replies["RCPT before MAIL"] == sc.BAD_SEQUENCE_RCPT
    assert replies["MAIL"] == sc.MAIL_OK
    assert replies["RCPT unknown"] == sc.RCPT_UNKNOWN
    assert replies["RCPT relay"] == sc.RCPT_UNKNOWN  # no relaying
    assert replies["RCPT service"] == sc.RCPT_OK
    assert replies["DATA"] == sc.DATA_GO_AHEAD
    assert replies["end of data"] == sc.ACCEPTED
    assert replies["MAIL 2"] == sc.MAIL_OK
    assert replies["RCPT 2"] == sc.RCPT_OK
    assert replies["DATA 2"] == sc.DATA_GO_AHEAD
    assert replies["end of data 2"] == sc.STORE_FAILED
    assert replies["MAIL 3"] == sc.MAIL_OK
    assert replies["RCPT 3"] == sc.RCPT_OK
    assert replies["DATA 3"] == sc.DATA_GO_AHEAD
    assert replies["end of data 3"] == sc.TOO_BIG
    assert replies["MAIL 4"] == sc.MAIL_OK
    assert replies["RCPT 4"] == sc.RCPT_UNKNOWN
    assert replies["DATA 4"] == sc.NO_VALID_RECIPIENTS
    assert replies["RSET"] == (250, b"OK")
    assert replies["NOOP"] == (250, b"OK")
    assert replies["QUIT"] == sc.BYE
    await processed(gateway)
    async with runtime.db.read() as s:
        stored = (await s.execute(select(Message).where(Message.direction == "in"))).scalars().all()
    assert [m.email_message_id for m in stored] == ["<t1@example.org>"]


def lmtp_transcript(port: int) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    client = smtplib.LMTP()
    out.append(("greeting", client.connect("127.0.0.1", port)))
    out.append(("LHLO", client.docmd("LHLO", "mx.barnevern.example.no")))
    out.append(("MAIL", client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")))
    out.append(("RCPT 1", client.docmd("RCPT", f"TO:<{SERVICE}>")))
    out.append(("RCPT 2", client.docmd("RCPT", "TO:<nobody@barnevern.example.no>")))
    out.append(
        ("RCPT 3", client.docmd("RCPT", "TO:<case.abcdefghijklmnopqrstuvwx@barnevern.example.no>"))
    )
    out.append(("DATA", client.docmd("DATA")))
    client.send(data_lines(family_mail("<l1@example.org>")))
    out.append(("statuses", [client.getreply(), client.getreply()]))
    out.append(("QUIT", client.docmd("QUIT")))
    client.close()
    return out


async def test_full_lmtp_transcript_one_status_per_recipient(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    assert gateway.lmtp_port is not None
    replies = dict(await asyncio.to_thread(lmtp_transcript, gateway.lmtp_port))
    greeting: tuple[int, bytes] = replies["greeting"]
    assert greeting[0] == 220
    lhlo: tuple[int, bytes] = replies["LHLO"]
    assert lhlo[0] == 250
    capabilities = lhlo[1].split(b"\n")
    assert b"8BITMIME" in capabilities and b"SMTPUTF8" in capabilities
    assert b"STARTTLS" not in capabilities  # LMTP is Postfix's local hand-off
    assert not [c for c in capabilities if c.startswith(b"AUTH")]
    assert replies["MAIL"] == sc.MAIL_OK
    assert replies["RCPT 1"] == sc.RCPT_OK
    assert replies["RCPT 2"] == sc.RCPT_UNKNOWN
    assert replies["RCPT 3"] == sc.RCPT_OK
    assert replies["DATA"] == sc.DATA_GO_AHEAD
    assert replies["statuses"] == [sc.ACCEPTED, sc.ACCEPTED]
    assert replies["QUIT"] == sc.BYE


async def test_smtputf8_address_and_8bit_body_from_a_norwegian_family(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    family = "kåre@example.no"
    await seed_case(runtime, email=family)
    raw = (
        "From: Kåre Ødegård <kåre@example.no>\r\n"
        f"To: {SERVICE}\r\n"
        "Subject: Spørsmål om møtet\r\n"
        "Message-ID: <utf8-1@example.no>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Hei, kan vi flytte møtet til fredag? Blåbærsyltetøy til barna.\r\n"
    ).encode()

    def send() -> tuple[tuple[int, bytes], dict[str, tuple[int, bytes]]]:
        with smtplib.SMTP("127.0.0.1", smtp_port(gateway), timeout=30) as client:
            ehlo = client.ehlo()
            assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
            refused = client.sendmail(
                family, [SERVICE], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
            )
            return ehlo, refused

    _, refused = await asyncio.to_thread(send)
    assert refused == {}
    await processed(gateway)
    async with runtime.db.read() as s:
        msg = (await s.execute(select(Message).where(Message.direction == "in"))).scalar_one()
        case = await s.get(Case, msg.case_id) if msg.case_id else None
    assert msg.sender == family
    assert case is not None and case.ref == "2026-0412"
    assert "Blåbærsyltetøy" in msg.redacted_text
    assert msg.subject == "Spørsmål om møtet"
