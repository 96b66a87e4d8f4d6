"""Recorded Twilio inbound payloads against the real webhook, plus the generic cases every
payload must survive: a bad signature, a store failure, Twilio's retry, a missing field."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Attachment, Contact, Message, OutboxJob, QueueItem
from tests.helpers import post_twilio, processed, seed_case
from tests.sms.conftest import load_fixtures
from tests.sms.support import count, rows, unseal

INBOUND = load_fixtures("inbound_")
NAMES = sorted(INBOUND)


@pytest.mark.parametrize("name", NAMES)
async def test_recorded_payload_is_stored_as_expected(
    runtime: Runtime, gateway: RunningGateway, name: str
) -> None:
    fixture = INBOUND[name]
    expect: dict[str, Any] = fixture["expect"]
    await seed_case(runtime)
    status, body = await post_twilio(gateway.web_port, fixture["params"])
    assert status == 200
    assert body.endswith("<Response/>")
    await processed(gateway)
    (msg,) = await rows(runtime, Message, Message.direction == "in")
    assert msg.provider_id == fixture["params"]["MessageSid"]
    case_ref = expect.get("case_ref")
    assert (msg.case_id is not None) == (case_ref is not None)
    assert msg.triage_reason == expect.get("triage_reason")
    assert expect["text_contains"] in msg.redacted_text
    for key, value in expect.get("flags", {}).items():
        assert msg.flags.get(key) == value, key
    for key in expect.get("flags_exclude", []):
        assert key not in msg.flags
    atts = await rows(runtime, Attachment)
    assert [[a.content_type, a.verdict] for a in atts] == expect["attachments"]
    assert all(a.source_url for a in atts)
    jobs = await count(runtime, OutboxJob, OutboxJob.kind == "fetch_media")
    assert jobs == (1 if expect.get("fetch_job") else 0)
    raw = await unseal(runtime, msg.sealed_id, b"original")
    for fragment in expect["sealed_contains"]:
        assert fragment.encode() in raw
    contacts = await rows(runtime, Contact)
    assert contacts[0].opted_out_sms is bool(expect.get("opted_out"))


@pytest.mark.parametrize("name", NAMES)
async def test_bad_signature_is_403_and_stores_nothing(
    runtime: Runtime, gateway: RunningGateway, name: str
) -> None:
    await seed_case(runtime)
    params = INBOUND[name]["params"]
    status, body = await post_twilio(gateway.web_port, params, signature="bm90LXNpZ25lZA==")
    assert status == 403
    assert "X-Twilio-Signature" in body
    assert await count(runtime, Message) == 0


@pytest.mark.parametrize("name", NAMES)
async def test_store_failure_is_503_nothing_stored_then_retry_succeeds(
    runtime: Runtime, gateway: RunningGateway, name: str
) -> None:
    await seed_case(runtime)
    params = INBOUND[name]["params"]

    def fail() -> None:
        raise OSError("database gone")

    runtime.db.fault = fail
    status, _ = await post_twilio(gateway.web_port, params)
    runtime.db.fault = None
    assert status == 503
    assert await count(runtime, Message) == 0
    assert await count(runtime, Attachment) == 0
    assert await count(runtime, OutboxJob) == 0
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    await processed(gateway)
    assert await count(runtime, Message, Message.direction == "in") == 1


@pytest.mark.parametrize("name", NAMES)
async def test_retry_of_same_message_sid_stores_nothing_new(
    runtime: Runtime, gateway: RunningGateway, name: str
) -> None:
    await seed_case(runtime)
    params = INBOUND[name]["params"]
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    await processed(gateway)
    before = [await count(runtime, model) for model in (Message, Attachment, QueueItem, OutboxJob)]
    status, body = await post_twilio(gateway.web_port, params)
    assert (status, body.endswith("<Response/>")) == (200, True)
    await processed(gateway)
    after = [await count(runtime, model) for model in (Message, Attachment, QueueItem, OutboxJob)]
    assert after == before


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("field", ["MessageSid", "AccountSid", "From", "To"])
async def test_missing_required_field_is_400_naming_it(
    runtime: Runtime, gateway: RunningGateway, name: str, field: str
) -> None:
    params = {k: v for k, v in INBOUND[name]["params"].items() if k != field}
    status, body = await post_twilio(gateway.web_port, params)
    assert status == 400
    assert field in body
    assert await count(runtime, Message) == 0
