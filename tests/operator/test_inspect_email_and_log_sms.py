"""`inspect-email` reads the same settings as `serve`, and the `log` SMS provider says what it
would have sent without putting a family's words into production (JSON) logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from connectors.base import OutboundEnvelope
from connectors.log_sms import LogSmsSender
from gateway.runtime import default_senders
from tests.conftest import make_settings
from tests.operator.cli_process import Operator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"


def _dmarc(op: Operator, **env: str) -> str:
    result = op.run("inspect-email", str(FIXTURES / "auth_results_forged.eml"), env=env)
    assert result.code == 0, result
    return str(json.loads(result.out)["sender_auth"]["dmarc"])


def test_inspect_email_uses_trusted_authserv_id_from_file_and_environment(tmp_path: Path) -> None:
    op = Operator(tmp_path)
    assert _dmarc(op) == "none"  # no trusted id: no header is believed
    env = {"CASE_GATEWAY_EMAIL_TRUSTED_AUTHSERV_ID": "mx.barnevern.example.no"}
    from_env = _dmarc(op, **env)
    op.config.write_text('[email]\ntrusted_authserv_id = "mx.barnevern.example.no"\n')
    from_file = _dmarc(op)
    # The topmost header with our id is the one our MX wrote: the forged "pass" below it loses.
    assert from_env == from_file == "fail"


def _envelope() -> OutboundEnvelope:
    return OutboundEnvelope(
        message_id=7,
        channel="sms",
        to="+4791234567",
        body="Hei Kari, møtet er flyttet til fredag kl. 10.",
        idempotency_key="k" * 40,
    )


@pytest.mark.parametrize("console", [False, True])
async def test_log_sms_provider_logs_the_send_and_the_text_only_on_a_console(
    console: bool,
) -> None:
    with capture_logs() as logs:
        await LogSmsSender(show_text=console).send(_envelope())
    (entry,) = [e for e in logs if e["event"] == "sms.would_send"]
    assert entry["characters"] == 45 and entry["segments"] == 1 and entry["encoding"]
    assert ("sms_text" in entry) == console
    if console:
        assert entry["sms_text"].startswith("Hei Kari, møtet er flyttet")
    else:
        assert "møtet" not in repr(logs)


def test_the_log_provider_shows_text_only_for_console_logs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    for fmt, shows in (("json", False), ("console", True)):
        sender = default_senders(make_settings(url, log={"format": fmt}, sms={"provider": "log"}))[
            "sms"
        ]
        assert isinstance(sender, LogSmsSender) and sender.show_text is shows
