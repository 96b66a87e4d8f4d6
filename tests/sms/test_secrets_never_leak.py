"""The Twilio auth token never reaches a log line, an error response or the database's
human-readable fields, whatever path a request takes."""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from gateway.logs import scrub_personal_data
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Attachment, AuditEvent, Message, OutboxJob
from tests.conftest import ACCOUNT_SID, TWILIO_TOKEN
from tests.fakes.twilio_api import Failure, FakeTwilio
from tests.helpers import api, post_twilio, processed, seed_case, twilio_params
from tests.sms.conftest import load_fixtures
from tests.sms.support import drain_relay

MMS = load_fixtures("inbound_")["mms_two_media"]["params"]
STATUS = load_fixtures("status_")


async def test_auth_token_never_in_logs_or_responses(
    runtime: Runtime,
    gateway: RunningGateway,
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = [TWILIO_TOKEN, base64.b64encode(f"{ACCOUNT_SID}:{TWILIO_TOKEN}".encode()).decode()]
    port = gateway.web_port
    answers: list[str] = []
    caplog.set_level(logging.DEBUG)  # libraries (twilio, aiohttp) log through the standard library
    with capture_logs(processors=[scrub_personal_data]) as logs:
        token = await seed_case(runtime)
        answers.append((await post_twilio(port, twilio_params(), signature="YmFk"))[1])
        answers.append((await post_twilio(port, twilio_params(AccountSid="AC" + "f" * 32)))[1])
        answers.append((await post_twilio(port, {"MessageSid": "SM1"}))[1])

        def fail() -> None:
            raise OSError("database gone")

        runtime.db.fault = fail
        answers.append((await post_twilio(port, twilio_params()))[1])
        runtime.db.fault = None
        answers.append((await post_twilio(port, twilio_params()))[1])
        # MMS whose first fetch fails, then succeeds: Basic auth on every API request.
        fake_twilio.media_failures.append(Failure(401, 20003))
        answers.append((await post_twilio(port, MMS))[1])
        await processed(gateway)
        assert runtime.media is not None
        await runtime.media.run_once()
        # Replies that fail at Twilio, temporarily and for good, then one that goes.
        for status, code in ((500, None), (401, 20003), (400, 21211)):
            fake_twilio.fail_next(status, code)
        for n in range(3):
            answers.append(
                str(
                    await api(
                        port,
                        "POST",
                        "/api/v1/cases/2026-0412/replies",
                        token,
                        {"body": f"Svar {n}"},
                    )
                )
            )
        await drain_relay(runtime)
        answers.append(
            (
                await post_twilio(
                    port, STATUS["undelivered_30003"]["params"], path="/webhooks/twilio/status"
                )
            )[1]
        )
    async with runtime.db.read() as s:
        stored = [
            repr((await s.execute(select(AuditEvent.details))).scalars().all()),
            repr((await s.execute(select(OutboxJob.last_error))).scalars().all()),
            repr((await s.execute(select(Attachment.reason))).scalars().all()),
            repr((await s.execute(select(Message.error_text))).scalars().all()),
        ]
    assert len(logs) > 10 and len(answers) == 10
    everything = "\n".join([repr(logs), caplog.text, *answers, *stored])
    assert "X-Twilio-Signature" in everything  # the captured output is the real output
    # The secret really was on the wire (Basic auth on every send), and went nowhere else.
    sends = fake_twilio.sent()
    assert len(sends) >= 4 and all(
        r.headers["Authorization"] == f"Basic {secrets[1]}" for r in sends
    )
    for secret in secrets:
        assert secret not in everything
