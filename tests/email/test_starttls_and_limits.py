"""STARTTLS with a configured certificate (and required on the public port), and the hard
per-sender limit answering 451 4.7.1 at MAIL, RCPT and DATA."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import smtplib
import ssl
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from connectors.sender_limit import NULL_SENDER, SenderLimit
from gateway.logs import configure_logging
from gateway.runtime import Runtime
from gateway.settings import ConfigError, load_settings, validate
from gateway.storage.models import Message
from tests.email import statuscodes as sc
from tests.email.conftest import SERVICE, FakeMTA, crlf, mail_gateway, mail_settings, smtp_port
from tests.helpers import PARENT_EMAIL, processed


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.barnevern.example.no")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def family_mail(n: int, sender: str = PARENT_EMAIL) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = SERVICE
    m["Subject"] = "Møte"
    m["Message-ID"] = f"<limit-{n}@example.org>"
    m.set_content("Hei, vi kommer torsdag.")
    return crlf(m.as_bytes())


async def inbound_count(rt: Runtime) -> int:
    async with rt.db.read() as s:
        return int(
            (
                await s.execute(
                    select(func.count()).select_from(Message).where(Message.direction == "in")
                )
            ).scalar_one()
        )


@pytest.mark.parametrize("required", [True, False])
async def test_starttls_with_configured_certificate(
    sqlite_url: str, mta: FakeMTA, tmp_path: Path, required: bool
) -> None:
    cert, key = self_signed(tmp_path)
    settings = mail_settings(
        sqlite_url,
        mta.port,
        smtp={"tls_cert_file": str(cert), "tls_key_file": str(key), "require_starttls": required},
    )
    client_ctx = ssl.create_default_context(cafile=str(cert))  # verifies our certificate

    def session(port: int) -> dict[str, object]:
        out: dict[str, object] = {}
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo("client.example.org")
            out["ehlo_before"] = set(client.esmtp_features)
            out["mail_before"] = client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
            client.docmd("RSET")
            out["starttls"] = client.starttls(context=client_ctx)
            out["cipher"] = client.sock.cipher() if isinstance(client.sock, ssl.SSLSocket) else None
            client.ehlo("client.example.org")
            out["ehlo_after"] = set(client.esmtp_features)
            out["mail"] = client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
            out["rcpt"] = client.docmd("RCPT", f"TO:<{SERVICE}>")
            out["data"] = client.data(family_mail(1))
        return out

    async with mail_gateway(settings) as (rt, gw):
        out = await asyncio.to_thread(session, smtp_port(gw))
        await processed(gw)
        assert await inbound_count(rt) == 1
    assert "starttls" in out["ehlo_before"]  # type: ignore[operator]
    assert not any(f.startswith("auth") for f in out["ehlo_before"])  # type: ignore[attr-defined]
    assert {"smtputf8", "8bitmime", "size"} <= out["ehlo_before"]  # type: ignore[operator]
    if required:
        assert out["mail_before"] == sc.STARTTLS_REQUIRED
    else:
        assert out["mail_before"] == sc.MAIL_OK
    assert out["starttls"] == sc.STARTTLS_READY
    assert out["cipher"] is not None
    assert "starttls" not in out["ehlo_after"]  # type: ignore[operator]
    assert out["mail"] == sc.MAIL_OK
    assert out["rcpt"] == sc.RCPT_OK
    assert out["data"] == sc.ACCEPTED


async def test_required_starttls_refuses_a_plaintext_client(
    sqlite_url: str, mta: FakeMTA, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    settings = mail_settings(
        sqlite_url,
        mta.port,
        smtp={"tls_cert_file": str(cert), "tls_key_file": str(key), "require_starttls": True},
    )

    def plaintext(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(PARENT_EMAIL, [SERVICE], family_mail(2))

    async with mail_gateway(settings) as (rt, gw):
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await asyncio.to_thread(plaintext, smtp_port(gw))
        assert (refused.value.smtp_code, refused.value.smtp_error) == sc.STARTTLS_REQUIRED
        assert await inbound_count(rt) == 0


def test_tls_settings_are_validated(tmp_path: Path) -> None:
    base = mail_settings("sqlite+aiosqlite:///x.db", 25)
    only_cert = replace(base, smtp=replace(base.smtp, tls_cert_file=str(tmp_path / "missing.pem")))
    problems = validate(only_cert)
    assert any(p.startswith("smtp.tls_cert_file: set it and smtp.tls_key_file") for p in problems)
    assert any(p.startswith("smtp.tls_cert_file: cannot read") for p in problems)
    required = replace(base, smtp=replace(base.smtp, require_starttls=True))
    assert "smtp.require_starttls: needs smtp.tls_cert_file and smtp.tls_key_file" in validate(
        required
    )
    with pytest.raises(ConfigError) as err:
        load_settings(
            tmp_path / "none.toml",
            {
                "CASE_GATEWAY_SMTP_RATE_LIMIT_SECONDS": "0",
                "CASE_GATEWAY_SMTP_REQUIRE_STARTTLS": "1",
            },
        )
    assert "smtp.rate_limit_seconds: expected at least 1" in err.value.problems


# --- the hard per-sender limit -------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sender_limit_slides_and_is_per_sender() -> None:
    clock = Clock()
    limit = SenderLimit(2, 60, clock)
    assert limit.take("Kari@Example.org") and limit.take("kari@example.org")
    assert not limit.allows("KARI@example.org") and not limit.take("kari@example.org")
    assert limit.take("per@example.org")  # another sender is not affected
    clock.now += 59
    assert not limit.allows("kari@example.org")
    clock.now += 1  # the first two leave the window
    assert limit.take("kari@example.org")
    limit.give_back("kari@example.org")
    assert limit.take("kari@example.org") and limit.take("kari@example.org")
    assert not limit.take("kari@example.org")


def test_sender_limit_null_sender_off_and_bounded() -> None:
    clock = Clock()
    limit = SenderLimit(1, 60, clock, max_senders=3)
    assert SenderLimit.key("") == SenderLimit.key(None) == NULL_SENDER
    assert limit.take("") and not limit.take(None)
    for n in range(10):
        clock.now += 1
        assert limit.take(f"s{n}@example.org")
    assert len(limit._seen) <= 3
    off = SenderLimit(0, 60, clock)
    assert all(off.take("kari@example.org") for _ in range(100))


def limited_sessions(port: int) -> dict[str, object]:
    """Limit 2: two deliveries, then a third MAIL; and two sessions racing for the last place."""
    out: dict[str, object] = {}
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=30) as a,
        smtplib.SMTP("127.0.0.1", port, timeout=30) as b,
        smtplib.SMTP("127.0.0.1", port, timeout=30) as c,
    ):
        for client in (a, b, c):
            client.ehlo("client.example.org")
        # One delivery; a and b both pass MAIL while one place is left.
        out["first"] = a.sendmail(PARENT_EMAIL, [SERVICE], family_mail(10))
        out["a_mail"] = a.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
        out["a_rcpt"] = a.docmd("RCPT", f"TO:<{SERVICE}>")
        out["b_mail"] = b.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
        out["b_rcpt"] = b.docmd("RCPT", f"TO:<{SERVICE}>")
        out["c_mail"] = c.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
        out["a_data"] = a.data(family_mail(11))  # takes the last place
        out["b_data"] = b.data(family_mail(12))  # passed RCPT, refused at DATA
        out["c_rcpt"] = c.docmd("RCPT", f"TO:<{SERVICE}>")  # passed MAIL, refused at RCPT
        c.rset()
        out["c_mail_again"] = c.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
        c.rset()
        out["other_sender"] = c.sendmail("per@example.org", [SERVICE], family_mail(13))
    return out


async def test_sender_past_the_hard_limit_gets_451_4_7_1(db_url: str, mta: FakeMTA) -> None:
    settings = mail_settings(db_url, mta.port, smtp={"rate_limit_count": 2})
    async with mail_gateway(settings) as (rt, gw):
        out = await asyncio.to_thread(limited_sessions, smtp_port(gw))
        await processed(gw)
        assert await inbound_count(rt) == 3  # two from the family, one from another sender
    assert out["first"] == {}
    assert out["a_mail"] == sc.MAIL_OK and out["a_rcpt"] == sc.RCPT_OK
    assert out["b_mail"] == sc.MAIL_OK and out["b_rcpt"] == sc.RCPT_OK
    assert out["c_mail"] == sc.MAIL_OK
    assert out["a_data"] == sc.ACCEPTED
    assert out["b_data"] == sc.RATE_LIMITED
    assert out["c_rcpt"] == sc.RATE_LIMITED
    assert out["c_mail_again"] == sc.RATE_LIMITED
    assert out["other_sender"] == {}


async def test_lmtp_limit_answers_each_recipient(sqlite_url: str, mta: FakeMTA) -> None:
    settings = mail_settings(sqlite_url, mta.port, smtp={"rate_limit_count": 1})

    def race(port: int) -> tuple[object, ...]:
        with smtplib.LMTP("127.0.0.1", port) as a, smtplib.LMTP("127.0.0.1", port) as b:
            for client in (a, b):
                client.docmd("LHLO", "mx.barnevern.example.no")
                client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>")
                client.docmd("RCPT", f"TO:<{SERVICE}>")
                client.docmd("RCPT", "TO:<case.abcdefghijklmnopqrstuvwx@barnevern.example.no>")
            a.docmd("DATA")
            a.send(family_mail(20) + b".\r\n")
            first = (a.getreply(), a.getreply())
            b.docmd("DATA")
            b.send(family_mail(21) + b".\r\n")
            second = (b.getreply(), b.getreply())
        return first, second

    async with mail_gateway(settings) as (rt, gw):
        assert gw.lmtp_port is not None
        first, second = await asyncio.to_thread(race, gw.lmtp_port)
        await processed(gw)
        assert await inbound_count(rt) == 2  # one delivery, two recipients
    assert first == (sc.ACCEPTED, sc.ACCEPTED)
    assert second == (sc.RATE_LIMITED, sc.RATE_LIMITED)


async def test_refusals_log_no_addresses(
    sqlite_url: str, mta: FakeMTA, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = mail_settings(sqlite_url, mta.port, smtp={"rate_limit_count": 1})

    def refused(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(PARENT_EMAIL, [SERVICE], family_mail(30))
            assert client.docmd("MAIL", f"FROM:<{PARENT_EMAIL}>") == sc.RATE_LIMITED
            client.rset()
            client.docmd("MAIL", "FROM:<per@example.org>")
            assert client.docmd("RCPT", "TO:<nobody@barnevern.example.no>") == sc.RCPT_UNKNOWN

    configure_logging("json", "info")
    try:
        async with mail_gateway(settings) as (_rt, gw):
            await asyncio.to_thread(refused, smtp_port(gw))
    finally:
        structlog.reset_defaults()
    logged = capsys.readouterr().err
    assert '"event": "smtp.sender_rate_limited"' in logged
    assert '"event": "smtp.unknown_recipient"' in logged
    for personal in (PARENT_EMAIL, "nobody@barnevern.example.no", "Hei, vi kommer"):
        assert personal not in logged
