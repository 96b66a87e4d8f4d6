"""No personal data in logs: bodies never, phone numbers and addresses masked."""

from __future__ import annotations

import io
import json
import sys

import structlog
from structlog.testing import capture_logs

from gateway.logs import configure_logging, mask_address, scrub_personal_data
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from tests.helpers import PARENT_PHONE, post_twilio, processed, seed_case, twilio_params

BODY = "Hemmelig: Emil har fått diagnosen ADHD"


def test_mask_address_table() -> None:
    assert "91234567" not in mask_address("from +4791234567 today")
    assert "kari.nordmann" not in mask_address("kari.nordmann@example.org")
    assert "912 34 567" not in mask_address("call 912 34 567")
    assert "01010750160" not in mask_address("fnr 01010750160")


def test_case_refs_are_not_masked() -> None:
    event = scrub_personal_data(
        None, "info", {"event": "message.accepted", "case_ref": "2026-0412", "to": "+4791234567"}
    )
    assert event["case_ref"] == "2026-0412"
    assert "91234567" not in event["to"]


async def test_intake_logs_carry_no_body_and_no_number(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    with capture_logs(processors=[scrub_personal_data]) as logs:
        await post_twilio(gateway.web_port, twilio_params(body=BODY, sender="+47 912 34 567"))
        await post_twilio(gateway.web_port, twilio_params(body=BODY), signature="bad")
        await processed(gateway)  # the filing's own log lines too
    text = json.dumps(logs, default=str)
    assert any(e["event"] == "message.accepted" for e in logs)
    assert "ADHD" not in text and "Hemmelig" not in text
    assert PARENT_PHONE not in text and "912 34 567" not in text


def test_content_keys_are_omitted_and_rendered_json_is_masked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    configure_logging("json", "info")
    try:
        structlog.get_logger("t").info(
            "x", body=BODY, to=PARENT_PHONE, email="kari@example.org", nested={"text": BODY}
        )
    finally:
        structlog.reset_defaults()
    line = json.loads(out.getvalue().strip())
    assert line["body"] == "[omitted]" and line["nested"] == {"text": "[omitted]"}
    assert "91234567" not in line["to"] and "kari@" not in line["email"]
