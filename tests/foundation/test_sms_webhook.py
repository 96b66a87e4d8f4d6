"""The Twilio inbound webhook against the real aiohttp server, correctly signed requests."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Message, QueueItem, SealedOriginal
from tests.helpers import post_twilio, processed, seed_case, sign, twilio_params


async def count(rt: Runtime, model: type) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_signed_sms_from_known_parent_lands_in_caseworker_queue(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    status, body = await post_twilio(
        gateway.web_port, twilio_params(body="Emil er syk. Ring 912 34 567.")
    )
    assert status == 200
    assert body.endswith("<Response/>")
    await processed(gateway)
    async with runtime.db.read() as s:
        msg = (await s.execute(select(Message))).scalar_one()
        items = (await s.execute(select(QueueItem))).scalars().all()
        sealed = await s.get(SealedOriginal, msg.sealed_id)
    assert msg.case_id is not None and msg.status == "received"
    assert "912 34 567" not in msg.redacted_text
    assert [(q.owner_kind, q.reason) for q in items] == [("user", "assigned caseworker")]
    assert sealed is not None and b"912+34+567" not in sealed.ciphertext  # sealed, not plain


async def test_retry_of_same_message_sid_is_stored_once(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    params = twilio_params()
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    await processed(gateway)
    assert await count(runtime, Message) == 1
    assert await count(runtime, QueueItem) == 1


async def test_unknown_sender_goes_to_triage(runtime: Runtime, gateway: RunningGateway) -> None:
    await seed_case(runtime)
    assert (await post_twilio(gateway.web_port, twilio_params(sender="+4740000000")))[0] == 200
    await processed(gateway)
    async with runtime.db.read() as s:
        msg = (await s.execute(select(Message))).scalar_one()
        item = (await s.execute(select(QueueItem))).scalar_one()
    assert msg.case_id is None and msg.triage_reason == "unknown sender"
    assert item.owner_kind == "triage"


@pytest.mark.parametrize(
    ("params", "signature", "status", "words"),
    [
        (twilio_params(), "bm90LXRoZS1zaWduYXR1cmU=", 403, "X-Twilio-Signature"),
        ({k: v for k, v in twilio_params().items() if k != "From"}, None, 400, "From"),
        ({k: v for k, v in twilio_params().items() if k != "MessageSid"}, None, 400, "MessageSid"),
        (twilio_params(AccountSid="AC" + "b" * 32), None, 403, "AccountSid"),
        (twilio_params(To="+4722222222"), None, 404, "To"),
    ],
    ids=["bad-signature", "missing-from", "missing-sid", "wrong-account", "not-our-number"],
)
async def test_bad_requests_get_clear_errors_and_store_nothing(
    runtime: Runtime,
    gateway: RunningGateway,
    params: dict[str, str],
    signature: str | None,
    status: int,
    words: str,
) -> None:
    got, body = await post_twilio(gateway.web_port, params, signature=signature)
    assert got == status
    assert words in body
    assert await count(runtime, Message) == 0


async def test_signature_uses_public_url_not_host_header(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    params = twilio_params()
    wrong = str(
        __import__("twilio.request_validator")
        .request_validator.RequestValidator("test-auth-token-0123456789abcdef")
        .compute_signature(f"http://127.0.0.1:{gateway.web_port}/webhooks/twilio/sms", params)
    )
    assert (await post_twilio(gateway.web_port, params, signature=wrong))[0] == 403
    assert (
        await post_twilio(gateway.web_port, params, signature=sign("/webhooks/twilio/sms", params))
    )[0] == 200


async def test_store_failure_answers_503_and_stores_nothing(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)

    def fail() -> None:
        raise OSError("disk full")

    runtime.db.fault = fail
    status, _ = await post_twilio(gateway.web_port, twilio_params())
    assert status == 503
    runtime.db.fault = None
    assert await count(runtime, Message) == 0
    # Twilio retries: now it is stored, once.
    assert (await post_twilio(gateway.web_port, twilio_params()))[0] == 200
    await processed(gateway)
    assert await count(runtime, Message) == 1


async def test_malformed_body_is_400_and_service_keeps_running(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{gateway.web_port}/webhooks/twilio/sms",
            data=b"\xff\xfe",
            headers={"Content-Type": "application/json"},
        ) as resp:
            assert resp.status == 400
        async with http.get(f"http://127.0.0.1:{gateway.web_port}/healthz") as resp:
            assert resp.status == 200


async def test_readyz_and_metrics(runtime: Runtime, gateway: RunningGateway) -> None:
    assert (await post_twilio(gateway.web_port, twilio_params(sender="+4740000000")))[0] == 200
    await processed(gateway)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{gateway.web_port}/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
        async with http.get(f"http://127.0.0.1:{gateway.metrics_port}/metrics") as resp:
            metrics_text = await resp.text()
            assert "case_gateway_http_requests_total" in metrics_text
            assert (
                'case_gateway_messages_received_total{channel="sms",outcome="triage"}'
                in metrics_text
            )
