"""The practice settings as an operator writes them, check-config's report, and consent records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import main
from gateway.core.hours import is_open
from gateway.outbound import ReplyError
from gateway.practice import family_signature, record_consent
from gateway.sealing import new_key_line
from gateway.settings import ConfigError, describe, load_settings
from gateway.storage.models import AuditEvent, Contact, User
from tests.helpers import PARENT_PHONE, post_twilio, processed, seed_case, twilio_params
from tests.practice.conftest import Clock, HarnessFactory, practice_settings

TEAMS_TOML = """
[service]
name = "Barneverntjenesten i Eksempel"

[practice]
signature = "role"
emergency_numbers = "112 / barnevernvakten 22 34 90 90"
digest_minutes = 30
duty_email = "vakt@barnevern.example.no"

[teams."Team Nord"]
email = "nord@barnevern.example.no"
duty_sms = "+4799000111"

[teams."Team Nord".hours]
timezone = "Europe/Oslo"
public_holidays = "NO"
holidays = ["2026-12-24"]
closures = [{ start = "2026-07-06T00:00", end = "2026-08-03T00:00" }]

[teams."Team Nord".hours.weekly]
mon = ["08:00-15:30"]
tue = ["08:00-15:30"]
wed = ["08:00-11:30", "12:00-15:30"]
thu = ["08:00-15:30"]
fri = ["08:00-14:00"]
"""


def write(tmp_path: Path, text: str, name: str = "case-gateway.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_teams_and_practice_are_read_from_nested_tables(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, TEAMS_TOML), {"CASE_GATEWAY_PRACTICE_DIGEST_MINUTES": "15"})
    assert s.practice.signature == "role" and s.practice.digest_minutes == 15  # env wins
    nord = s.team("Team Nord")
    assert nord.email == "nord@barnevern.example.no" and nord.duty_sms == "+4799000111"
    assert not is_open(nord.hours, datetime(2026, 12, 24, 10, tzinfo=UTC))  # listed holiday
    assert not is_open(nord.hours, datetime(2026, 7, 15, 10, tzinfo=UTC))  # summer closure
    assert is_open(nord.hours, datetime(2026, 11, 25, 11, 15, tzinfo=UTC))  # Wed 12:15 local
    assert not is_open(nord.hours, datetime(2026, 11, 25, 10, 45, tzinfo=UTC))  # lunch
    assert s.team("Team Sør").hours.timezone == "Europe/Oslo"  # built-in weekday hours
    lines = describe(s)
    assert "teams.Team Nord.duty_sms = '+4799000111'" in lines
    assert any(line.startswith("teams.Team Nord.hours = 'Mon-Tue 08:00-15:30") for line in lines)


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        (
            '[teams."Team Nord".hours.weekly]\nmon = ["15:30-08:00"]\n',
            "teams.Team Nord.hours.weekly.mon[0]: '15:30-08:00' ends before it starts",
        ),
        (
            '[teams."Team Nord".hours]\ntimezone = "Europe/Bergen"\n',
            "teams.Team Nord.hours.timezone: unknown time zone 'Europe/Bergen'",
        ),
        ('[teams."Team Nord"]\nphone = "+4712345678"\n', "teams.Team Nord.phone: unknown key"),
        (
            '[teams."Team Nord"]\nduty_sms = "99 00 01 11"\n',
            "teams.Team Nord.duty_sms: expected the on-call number in E.164",
        ),
        ('[practice]\nsignature = "full"\n', "practice.signature: expected name, role or service"),
        ("[practice]\nrate_limit_count = 0\n", "practice.rate_limit_count: expected at least 1"),
        ('[practice]\nreceipts = "maybe"\n', "practice.receipts (CASE_GATEWAY_PRACTICE_RECEIPTS)"),
    ],
)
def test_bad_practice_settings_name_the_key(tmp_path: Path, snippet: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, snippet), {})
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_holiday_file_errors_name_the_line(tmp_path: Path) -> None:
    holidays = write(tmp_path, "2026-12-24 Julaften\n24.12.2026\n", "holidays.txt")
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, f'[practice]\nholiday_file = "{holidays}"\n'), {})
    assert err.value.problems == [
        f"practice.holiday_file: {holidays}: line 2: '24.12.2026' is not a date like '2026-12-24'"
    ]


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASE_GATEWAY_CRYPTO_KEY", new_key_line("k1"))


def test_check_config_validates_and_prints_templates_and_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_env: None
) -> None:
    templates = tmp_path / "templates"
    (templates / "en").mkdir(parents=True)
    long_text = "Thank you for writing to us – we will answer. " * 5 + "{signature}"
    (templates / "en" / "receipt.txt").write_text(f"Subject: Thanks\n{long_text}\n", "utf-8")
    config = write(
        tmp_path,
        TEAMS_TOML.replace("[practice]\n", f'[practice]\ntemplates_dir = "{templates}"\n'),
    )
    assert main(["--config", str(config), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "hours Team Nord: Mon-Tue 08:00-15:30, Wed 08:00-11:30 and 12:00-15:30" in out
    assert "warning: en/receipt.txt: uses characters outside GSM-7" in out
    assert "warning: en/receipt.txt: about 4 SMS" in out
    assert "configuration OK" in out

    (templates / "nb").mkdir()
    (templates / "nb" / "staff_notification.txt").write_text(
        "Ny melding fra {sender}: {body} {link}\n", "utf-8"
    )
    assert main(["--config", str(config), "check-config"]) == 2
    out = capsys.readouterr().out
    assert "error: nb/staff_notification.txt: unknown placeholder {body}" in out
    assert "error: nb/staff_notification.txt: unknown placeholder {sender}" in out
    assert "configuration OK" not in out


async def test_record_consent_and_opt_out_with_who_and_when(
    db_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    h = await harness_factory(practice_settings(db_url), clock)
    await seed_case(h.runtime, consent=False)
    at = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)
    async with h.runtime.db.transaction() as tx:
        contact = (await tx.session.execute(select(Contact))).scalar_one()
        await record_consent(tx, contact, "sms", True, "ola@barnevern.example.no", now=at)
    with pytest.raises(ReplyError, match="consented to e-mail"):
        await h.runtime.replies.reply(
            actor="t", author_id=None, case_ref="2026-0412", body="Hei", channel="email",
            contact_id=contact.id,
        )  # fmt: skip
    async with h.runtime.db.transaction() as tx:
        contact = (await tx.session.execute(select(Contact))).scalar_one()
        assert (contact.consent_sms, contact.opted_out_sms) == (True, False)
        assert contact.consent_by == "ola@barnevern.example.no"
        assert contact.consent_at is not None
        await record_consent(tx, contact, "sms", False, "api:lise@barnevern.example.no")
        with pytest.raises(ValueError, match="channel must be sms or email"):
            await record_consent(tx, contact, "fax", True, "x")
    async with h.runtime.db.read() as s:
        contact = (await s.execute(select(Contact))).scalar_one()
        events = (
            await s.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.details))
        ).all()
    assert (contact.consent_sms, contact.opted_out_sms) == (False, True)
    consent_events = [e for e in events if e[0] in {"contact.consent_given", "contact.opted_out"}]
    assert [(e[0], e[1], e[2]["channel"]) for e in consent_events] == [
        ("contact.consent_given", "ola@barnevern.example.no", "sms"),
        ("contact.opted_out", "api:lise@barnevern.example.no", "sms"),
    ]
    with pytest.raises(ReplyError, match="opted out of SMS"):
        await h.runtime.replies.reply(
            actor="t", author_id=None, case_ref="2026-0412", body="Hei", channel="sms",
            contact_id=contact.id,
        )  # fmt: skip
    # An opted-out contact gets no automatic reply either.
    status, _ = await post_twilio(h.web_port, twilio_params(sender=PARENT_PHONE, body="Hei"))
    assert status == 200
    await processed(h.gateway)
    await h.runtime.relay.run_once()
    assert h.sms.sent == []


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("service", "Barneverntjenesten"),
        ("role", "Saksbehandler, Barneverntjenesten"),
        ("name", "Ola Hansen, Barneverntjenesten"),
    ],
)
def test_signature_shown_to_families_is_configurable(mode: str, expected: str) -> None:
    settings = practice_settings("sqlite+aiosqlite:///x.db", practice={"signature": mode})
    worker = User(email="ola@barnevern.example.no", name="Ola Hansen", role="caseworker")
    assert family_signature(settings, worker, "nb") == expected
    assert family_signature(settings, None, "nb") == "Barneverntjenesten"


async def test_receipt_is_signed_as_configured_and_never_with_a_staff_address(
    sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    h = await harness_factory(practice_settings(sqlite_url, practice={"signature": "role"}), clock)
    await seed_case(h.runtime)
    status, _ = await post_twilio(h.web_port, twilio_params(sender=PARENT_PHONE, body="Hei"))
    assert status == 200
    await processed(h.gateway)
    await h.runtime.relay.run_once()
    [receipt] = h.sms.sent
    assert receipt.body.endswith("Hilsen Saksbehandler, Barneverntjenesten")
    assert "ola" not in receipt.body.lower() and "@" not in receipt.body


def test_check_config_warns_when_nobody_would_be_told_of_urgent_messages() -> None:
    from dataclasses import replace

    from gateway.practice import check_practice
    from gateway.settings import Settings

    s = Settings()
    _, lines = check_practice(s)
    assert any(line.startswith("warning: no duty desk target") for line in lines)
    _, lines = check_practice(
        replace(s, practice=replace(s.practice, duty_email="vakt@example.no"))
    )
    assert not any(line.startswith("warning: no duty desk target") for line in lines)
