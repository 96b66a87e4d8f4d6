"""Generated and mutated messages sent over real SMTP never crash intake: every one is answered
with a protocol reply (accepted, too big, or line too long), never the internal-error 451, and
the server keeps answering new sessions."""

from __future__ import annotations

import asyncio
import smtplib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.storage.models import Message
from tests.email import statuscodes as sc
from tests.email.conftest import SERVICE, FakeMTA, crlf, mail_gateway, mail_settings, smtp_port
from tests.helpers import PARENT_EMAIL, seed_case

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "email").glob("*.eml"))
SEEDS = [p.read_bytes() for p in FIXTURES]
HOSTILE = [
    b"\r\nBcc: x@example.com",
    b"=?utf-8?q?a=0D=0ABcc:_x@example.com?=",
    b'Content-Type: multipart/mixed; boundary=""\r\n',
    b"--\r\n--\r\n",
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!!",
    b"\x00\xff\xfe",
    b"Message-ID: <>\r\n",
    b"Authentication-Results: mx.barnevern.example.no; dmarc=fail\r\n",
    b"Content-Type: message/rfc822\r\n\r\n" * 3,
    "Fra: Kåre\r\nSendt: i går\r\nTil: oss\r\nEmne: æøå\r\n".encode(),
]
# Replies that are a correct answer to bad input; 451 4.3.0 would mean intake failed on it.
ACCEPTABLE = {sc.ACCEPTED, sc.TOO_BIG, (500, b"Line too long (see RFC5321 4.5.3.1.6)")}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "hostile", "duplicate"]))
        if op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 200))]
        elif op == "hostile":
            data[pos:pos] = draw(st.sampled_from(HOSTILE))
        else:
            data[pos:pos] = data[max(0, pos - 300) : pos]
    return bytes(data)


messages = st.one_of(
    mutated(),
    st.binary(max_size=2000),
    st.lists(
        st.tuples(
            st.text(
                alphabet=st.characters(codec="utf-8", exclude_characters="\r\n:"),
                min_size=1,
                max_size=20,
            ),
            st.text(max_size=80),
        ),
        max_size=8,
    ).map(lambda hs: "".join(f"{k}: {v}\r\n" for k, v in hs).encode("utf-8", "surrogatepass")),
)


def send_one(port: int, data: bytes, sender: str, lmtp: bool) -> tuple[int, bytes]:
    client = (
        smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=30)
    )
    with client:
        try:
            client.sendmail(sender, [SERVICE], data)
        except smtplib.SMTPDataError as exc:
            error = exc.smtp_error
            return exc.smtp_code, error if isinstance(error, bytes) else error.encode()
        return sc.ACCEPTED


def alive(port: int) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.noop()


async def test_generated_messages_over_smtp_never_crash_intake(
    sqlite_url: str, mta: FakeMTA
) -> None:
    config = mail_settings(sqlite_url, mta.port, smtp={"rate_limit_count": 0})
    answers: list[tuple[int, bytes]] = []
    async with mail_gateway(config) as (rt, gw):
        await seed_case(rt)
        port = smtp_port(gw)
        lmtp_port = gw.lmtp_port
        assert lmtp_port is not None

        @settings(
            max_examples=80,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )
        @given(
            data=messages,
            sender=st.sampled_from([PARENT_EMAIL, "", "x@example.net"]),
            lmtp=st.booleans(),
        )
        def property_holds(data: bytes, sender: str, lmtp: bool) -> None:
            answer = send_one(lmtp_port if lmtp else port, crlf(data), sender, lmtp)
            answers.append(answer)
            assert answer in ACCEPTABLE
            assert alive(port) == (250, b"OK")

        await asyncio.to_thread(property_holds)
        async with rt.db.read() as s:
            stored = (
                await s.execute(
                    select(func.count()).select_from(Message).where(Message.direction == "in")
                )
            ).scalar_one()
    assert sc.ACCEPTED in answers and stored >= 1
