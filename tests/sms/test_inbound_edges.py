"""The inbound webhook's edges: proxies, ownership checks, concurrency, nothing logged."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest
from structlog.testing import capture_logs
from twilio.request_validator import RequestValidator

from gateway.logs import scrub_personal_data
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Message, QueueItem
from tests.conftest import TWILIO_TOKEN
from tests.helpers import post_twilio, processed, seed_case, sign, twilio_params
from tests.sms.support import count

PATH = "/webhooks/twilio/sms"


async def post_behind_proxy(port: int, params: dict[str, str], signed_url: str) -> int:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(signed_url, params)
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "sms.proxy.example",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}{PATH}", data=params, headers=headers) as resp,
    ):
        return resp.status


async def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    params = twilio_params()
    # Untrusted: the forwarded host is ignored, so a signature over it does not match ...
    status = await post_behind_proxy(gateway.web_port, params, f"https://sms.proxy.example{PATH}")
    assert status == 403
    # ... while the one over the configured public URL does.
    assert (await post_twilio(gateway.web_port, params))[0] == 200


async def test_forwarded_headers_are_used_when_the_proxy_is_trusted(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    runtime.settings = replace(
        runtime.settings, web=replace(runtime.settings.web, trusted_proxy=True)
    )
    params = twilio_params()
    status = await post_behind_proxy(gateway.web_port, params, f"https://sms.proxy.example{PATH}")
    assert status == 200
    await processed(gateway)
    assert await count(runtime, Message, Message.direction == "in") == 1


async def test_messaging_service_numbers_are_ours(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    service = "MG" + "c" * 32
    runtime.settings = replace(
        runtime.settings,
        twilio=replace(runtime.settings.twilio, messaging_service_sid=service),
    )
    pool_number = twilio_params(To="+4759440001", MessagingServiceSid=service)
    assert (await post_twilio(gateway.web_port, pool_number))[0] == 200
    other = twilio_params(
        sid="SM" + "2" * 32, To="+4759440001", MessagingServiceSid="MG" + "d" * 32
    )
    status, body = await post_twilio(gateway.web_port, other)
    assert status == 404 and "To" in body


@pytest.mark.parametrize("written", ["+47 912 34 567", "004791234567", "91234567"])
async def test_sender_number_forms_reach_the_same_contact(
    runtime: Runtime, gateway: RunningGateway, written: str
) -> None:
    await seed_case(runtime)
    assert (await post_twilio(gateway.web_port, twilio_params(sender=written)))[0] == 200
    await processed(gateway)
    async with runtime.db.read() as s:
        from sqlalchemy import select

        msg = (await s.execute(select(Message).where(Message.direction == "in"))).scalar_one()
    assert msg.sender == "+4791234567" and msg.case_id is not None


async def test_bad_signature_logs_one_line_without_the_body(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    params = twilio_params(body="Hemmelig innhold om Emil")
    with capture_logs(processors=[scrub_personal_data]) as logs:
        status, _ = await post_twilio(gateway.web_port, params, signature="d3Jvbmc=")
    assert status == 403
    mismatches = [e for e in logs if e["event"] == "twilio.signature_mismatch"]
    assert len(mismatches) == 1
    assert "Hemmelig" not in repr(logs)
    assert "Emil" not in repr(logs)


async def test_concurrent_duplicate_webhooks_store_one_row(pg_url: str) -> None:
    from gateway.runtime import build_runtime
    from gateway.sealing import new_key_line, parse_keys
    from gateway.server import start_gateway
    from tests.conftest import make_settings

    rt = build_runtime(make_settings(pg_url), senders={}, keyring=parse_keys(new_key_line("test")))
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    try:
        await seed_case(rt)
        params = twilio_params(body="Samme melding, levert flere ganger samtidig")
        results = await asyncio.gather(*(post_twilio(gw.web_port, params) for _ in range(12)))
        assert [status for status, _ in results] == [200] * 12
        await processed(gw)
        assert await count(rt, Message, Message.direction == "in") == 1
        assert await count(rt, QueueItem) == 1
    finally:
        await gw.stop()


async def test_signature_over_the_real_path_only(runtime: Runtime, gateway: RunningGateway) -> None:
    params = twilio_params()
    other_path = sign("/webhooks/twilio/status", params)
    assert (await post_twilio(gateway.web_port, params, signature=other_path))[0] == 403
