"""Library loggers (aiosmtpd, aiohttp, asyncio, SQLAlchemy) go through structlog and the same
scrubber as ours: real SMTP and HTTP traffic at debug level leaves no address, number, body
or query string in what the gateway writes."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from email.message import EmailMessage

import aiohttp
import aiosmtplib
import pytest

from gateway.logs import LIBRARY_FLOORS, StructlogHandler, configure_logging
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from tests.helpers import PARENT_EMAIL, PARENT_PHONE, seed_case

BODY = "Hemmelig: Emil har fått diagnosen ADHD"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    levels = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_smtp_and_http_library_lines_carry_no_address_number_or_query(
    runtime: Runtime,
    gateway: RunningGateway,
    restore_logging: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = io.StringIO()  # swapped here: pytest swaps sys.stderr again between phases
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging("json", "debug")
    await seed_case(runtime)
    mail = EmailMessage()
    mail["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
    mail["To"] = runtime.settings.email.service_address
    mail["Subject"] = "Om Emil"
    mail["Message-ID"] = "<ops-log-test@example.org>"
    mail.set_content(BODY)
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=gateway.smtp_port)
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{gateway.web_port}/webhooks/twilio/sms"
        async with http.post(url, params={"From": PARENT_PHONE}, data={"Body": BODY}) as resp:
            assert resp.status == 403  # unsigned
        async with http.get(f"http://127.0.0.1:{gateway.web_port}/healthz?email={PARENT_EMAIL}"):
            pass
    logging.getLogger("asyncio").error("peer %s gone", PARENT_PHONE)
    logging.getLogger("sqlalchemy.pool").warning("connection for %s invalidated", PARENT_EMAIL)
    text = stderr.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    by_logger = {line.get("logger") for line in lines}
    assert "mail.log" in by_logger, "aiosmtpd lines are routed"
    assert {"asyncio", "sqlalchemy.pool"} <= by_logger
    access = [line for line in lines if line["event"] == "http.access"]
    assert {a["route"] for a in access} >= {"/webhooks/twilio/sms", "/healthz"}
    assert all(set(a) >= {"method", "status", "duration_ms"} for a in access)
    # aiosmtpd logs "sender: <address>" and "recip: <address>" at info: masked here.
    assert any("sender:" in line["event"] for line in lines)
    for secret in ("kari.nordmann", "91234567", "ADHD", "Hemmelig", "email=", "From="):
        assert secret not in text, secret


def test_every_library_record_takes_the_structlog_path(restore_logging: None) -> None:
    configure_logging("json", "debug")
    assert [type(h) for h in logging.getLogger().handlers] == [StructlogHandler]
    # Below these levels aiosmtpd logs every DATA line and SQLAlchemy every statement.
    assert logging.getLogger("mail.log").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING
