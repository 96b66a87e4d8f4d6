"""Library loggers (aiosmtpd, aiohttp, asyncio, SQLAlchemy) go through structlog and the same
scrubber as ours: real SMTP and HTTP traffic at debug level leaves no address, number, body
or query string in what the gateway writes."""

from __future__ import annotations

import io
import json
import logging
import sys
from email.message import EmailMessage

import aiohttp
import aiosmtplib
import pytest

from gateway.logs import StructlogHandler, configure_logging, restore_library_logs
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from tests.helpers import PARENT_EMAIL, PARENT_PHONE, seed_case

BODY = "Hemmelig: Emil har fått diagnosen ADHD"


async def test_smtp_and_http_library_lines_carry_no_address_number_or_query(
    runtime: Runtime,
    gateway: RunningGateway,
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


def test_every_library_record_takes_the_structlog_path() -> None:
    configure_logging("json", "debug")
    configure_logging("json", "debug")  # twice: still one route
    routes = [h for h in logging.getLogger().handlers if isinstance(h, StructlogHandler)]
    assert len(routes) == 1
    # Below these levels aiosmtpd logs every DATA line and SQLAlchemy every statement.
    assert logging.getLogger("mail.log").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING
    restore_library_logs()  # as every test's teardown does (tests/conftest.py)
    assert not any(isinstance(h, StructlogHandler) for h in logging.getLogger().handlers)
