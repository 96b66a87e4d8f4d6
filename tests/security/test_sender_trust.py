"""A forged From: of a known contact does not land on the family's case when nobody checked
DMARC; check-config says so. Policy in docs/security.md ("Known senders")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import main
from gateway.core.routing import CaseLink, MatchFacts, TokenLookup, match_case
from gateway.security import security_warnings
from gateway.settings import Settings
from gateway.storage.models import Message
from tests.conftest import make_settings
from tests.email.conftest import SERVICE, deliver, mail_gateway, smtp_port
from tests.helpers import PARENT_EMAIL, processed, seed_case

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)


def test_unverified_sender_is_never_matched_by_address_alone() -> None:
    link = CaseLink(1, 10)
    facts = MatchFacts(sender="kari@example.org", sender_links=[link], sender_verified=False)
    match = match_case(facts, NOW, WINDOW)
    assert (match.case_id, match.rule) == (None, "triage")
    assert match.triage_reason == "sender not verified (DMARC not checked)"
    assert "sender_unverified" in match.flags
    # Verified: the same facts attach to the case.
    verified = MatchFacts(sender="kari@example.org", sender_links=[link])
    assert match_case(verified, NOW, WINDOW).case_id == 1
    # A reply token issued to this sender still attaches (it is not guessable).
    token = MatchFacts(
        sender="kari@example.org",
        token=TokenLookup(link, "kari@example.org"),
        sender_links=[link],
        sender_verified=False,
    )
    assert match_case(token, NOW, WINDOW).rule == "reply_token"
    # Unknown senders keep their own reason.
    unknown = MatchFacts(sender="x@example.org", sender_verified=False)
    assert match_case(unknown, NOW, WINDOW).triage_reason == "unknown sender"


SPOOF = (
    f"From: Kari Nordmann <{PARENT_EMAIL}>\n"
    f"To: {SERVICE}\n"
    "Subject: Ny adresse\n"
    "Message-ID: <spoof@attacker.example>\n"
    "Authentication-Results: mx.barnevern.example.no; dmarc=pass header.from=example.org\n\n"
    "Vi har flyttet. Send alt til ny adresse.\n"
).encode()


async def test_spoofed_known_sender_goes_to_triage_without_trusted_authserv(
    sqlite_url: str,
) -> None:
    settings = make_settings(sqlite_url, email={"trusted_authserv_id": ""})
    async with mail_gateway(settings) as (rt, gw):
        await seed_case(rt)
        # Even a forged "pass" in the message is worth nothing: nobody's results are trusted.
        assert await asyncio.to_thread(deliver, smtp_port(gw), SPOOF, sender=PARENT_EMAIL) == {}
        await processed(gw)
        async with rt.db.read() as s:
            msg = (await s.execute(select(Message))).scalar_one()
    assert msg.case_id is None and msg.status == "triage"
    assert msg.triage_reason == "sender not verified (DMARC not checked)"
    assert msg.flags.get("sender_unverified") is True


async def test_known_sender_matches_when_the_mta_is_trusted(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)  # trusted_authserv_id set, as deployed
    async with mail_gateway(settings) as (rt, gw):
        await seed_case(rt)
        assert await asyncio.to_thread(deliver, smtp_port(gw), SPOOF, sender=PARENT_EMAIL) == {}
        await processed(gw)
        async with rt.db.read() as s:
            msg = (await s.execute(select(Message))).scalar_one()
    assert msg.case_id is not None


def test_security_warnings() -> None:
    default = Settings()
    assert any("trusted_authserv_id is empty" in w for w in security_warnings(default))
    set_up = make_settings("sqlite+aiosqlite:///x.db")
    assert not any("trusted_authserv_id" in w for w in security_warnings(set_up))


def test_check_config_warns_when_trusted_authserv_id_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys"
    assert main(["keys", "generate", "--file", str(key_file)]) == 0
    config = tmp_path / "gw.toml"
    config.write_text(f'[crypto]\nkey_file = "{key_file}"\n', encoding="utf-8")
    monkeypatch.delenv("CASE_GATEWAY_EMAIL_TRUSTED_AUTHSERV_ID", raising=False)
    capsys.readouterr()
    assert main(["--config", str(config), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "warning: email.trusted_authserv_id is empty" in out
    config.write_text(
        f'[crypto]\nkey_file = "{key_file}"\n[email]\ntrusted_authserv_id = "mx.example.no"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 0
    assert "trusted_authserv_id is empty" not in capsys.readouterr().out
