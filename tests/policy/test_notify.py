"""Staff notifications say that something arrived and where, never what, who or which number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.notify import (
    Pending,
    digest_notification,
    plan_digest,
    plan_notifications,
    staff_notification,
)
from gateway.core.templates import LANGUAGES, TemplateError, TemplateSet, load_templates

LINK = "https://gateway.example.no/cases/2024-0412"
TRIAGE_LINK = "https://gateway.example.no/triage"


@pytest.mark.parametrize(
    ("case_ref", "channel", "urgent", "language", "subject"),
    [
        ("2024-0412", "sms", True, "en", "New message in case 2024-0412 (SMS, urgent)"),
        ("2024-0412", "sms", False, "en", "New message in case 2024-0412 (SMS)"),
        ("2024-0412", "email", False, "en", "New message in case 2024-0412 (e-mail)"),
        (None, "sms", False, "en", "New message for triage (SMS)"),
        (None, "email", True, "en", "New message for triage (e-mail, urgent)"),
        ("2024-0412", "sms", True, "nb", "Ny melding i sak 2024-0412 (SMS, haster)"),
        ("2024-0412", "email", False, "nn", "Ny melding i sak 2024-0412 (e-post)"),
        ("2024-0412", "sms", True, "da", "Ny besked i sag 2024-0412 (SMS, haster)"),
        (
            "2024-0412",
            "email",
            True,
            "sv",
            "Nytt meddelande i ärende 2024-0412 (e-post, brådskande)",
        ),
        (None, "sms", False, "nb", "Ny melding til triage (SMS)"),
        ("2024-0412", "sms", False, "fi", "Ny melding i sak 2024-0412 (SMS)"),
    ],
)
def test_staff_notification_subject(
    shipped_templates: TemplateSet,
    case_ref: str | None,
    channel: str,
    urgent: bool,
    language: str,
    subject: str,
) -> None:
    got_subject, body = staff_notification(
        case_ref, channel, urgent, LINK, language, shipped_templates
    )
    assert got_subject == subject
    assert LINK in body


# An inbound message as the pipeline holds it when it decides to notify a caseworker.
INBOUND = {
    "case_ref": "2024-0412",
    "channel": "sms",
    "urgent": True,
    "sender": "+4791234567",
    "contact_name": "Kari Nordmann",
    "caseworker_name": "Ola Hansen",
    "caseworker_mobile": "+4798765432",
    "email": "kari.nordmann@example.no",
    "body": "Hei, dette er Kari. Ring meg på 912 34 567. Fødselsnummeret til Emil er 01017012345.",
    "redacted": "Hei, dette er [NAVN]. Ring meg på [TELEFON].",
}
FORBIDDEN = [
    "Kari",
    "Nordmann",
    "Ola Hansen",
    "Emil",
    "91234567",
    "912 34 567",
    "98765432",
    "01017012345",
    "kari.nordmann@example.no",
    "Ring meg",
    "Fødselsnummeret",
    "[NAVN]",
    "[TELEFON]",
]


def _assert_clean(text: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text
    # No phone-like run of digits: case refs and the link are the only numbers allowed.
    assert not re.search(r"\+?\d[\d ]{6,}\d", text.replace("2024-0412", ""))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("with_case", [True, False])
def test_no_staff_notification_contains_content_names_or_numbers(
    shipped_templates: TemplateSet, language: str, with_case: bool
) -> None:
    subject, body = staff_notification(
        str(INBOUND["case_ref"]) if with_case else None,
        str(INBOUND["channel"]),
        bool(INBOUND["urgent"]),
        LINK if with_case else TRIAGE_LINK,
        language,
        shipped_templates,
        service_name="Barneverntjenesten",
    )
    _assert_clean(subject)
    _assert_clean(body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_digest_contains_content_names_or_numbers(
    shipped_templates: TemplateSet, language: str
) -> None:
    at = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    items = [
        Pending("2024-0412", "sms", True, at),
        Pending(None, "email", False, at + timedelta(minutes=3)),
    ]
    subject, body = digest_notification(items, TRIAGE_LINK, language, shipped_templates)
    _assert_clean(subject)
    _assert_clean(body)
    assert "2024-0412" in body
    assert subject.startswith("2 ")


def test_a_template_asking_for_content_cannot_get_it() -> None:
    # An operator edits the template to include the message; notify never has it to give.
    templates = load_templates(
        {"nb/staff_notification.txt": "Subject: Melding fra {sender}\n{body}\n{link}"}
    )
    with pytest.raises(TemplateError, match="no value for placeholder"):
        staff_notification("2024-0412", "sms", False, LINK, "nb", templates)


def test_digest_lists_cases_and_channels() -> None:
    templates = load_templates(
        {"en/staff_digest.txt": "Subject: {count} new messages\n{items}\n{link}"}
    )
    at = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    items = [Pending("2024-0412", "sms", True, at), Pending(None, "email", False, at)]
    subject, body = digest_notification(items, LINK, "en", templates)
    assert subject == "2 new messages"
    assert body == f"- 2024-0412 (SMS, urgent)\n- triage (e-mail)\n{LINK}"


NOW = datetime(2026, 3, 23, 10, 0, tzinfo=UTC)
PERIOD = timedelta(minutes=30)
ROUTINE = Pending("2024-0412", "sms", False, NOW - timedelta(minutes=5))
EARLIER = Pending("2024-0399", "email", False, NOW - timedelta(minutes=20))
URGENT = Pending("2024-0412", "sms", True, NOW - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("pending", "last_sent_at", "send_now", "send_at", "words"),
    [
        ([], None, False, None, "nothing new"),
        ([], NOW - timedelta(minutes=5), False, None, "nothing new"),
        ([ROUTINE], None, True, NOW, "no notification sent before"),
        ([ROUTINE], NOW - timedelta(minutes=31), True, NOW, "ago"),
        ([ROUTINE], NOW - PERIOD, True, NOW, "ago"),
        ([ROUTINE], NOW - timedelta(minutes=10), False, NOW + timedelta(minutes=20), "wait until"),
        ([ROUTINE, URGENT], NOW - timedelta(minutes=1), True, NOW, "urgent"),
    ],
)
def test_plan_digest(
    pending: list[Pending],
    last_sent_at: datetime | None,
    send_now: bool,
    send_at: datetime | None,
    words: str,
) -> None:
    plan = plan_digest(pending, last_sent_at, NOW, PERIOD)
    assert (plan.send_now, plan.send_at) == (send_now, send_at)
    assert words in plan.reason
    assert set(plan.items) == set(pending)


def test_digest_items_are_oldest_first() -> None:
    plan = plan_digest([ROUTINE, URGENT, EARLIER], None, NOW, PERIOD)
    assert plan.items == (EARLIER, ROUTINE, URGENT)


OPENS = datetime(2026, 3, 24, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("urgent", "threat", "office_open", "expected"),
    [
        (False, False, True, [("owner", None)]),
        (False, False, False, [("owner", OPENS)]),
        (True, False, True, [("duty_desk", None), ("owner", None)]),
        (True, False, False, [("duty_desk", None), ("owner", OPENS)]),
        (True, True, True, [("duty_desk", None), ("team_lead", None), ("owner", None)]),
        (False, True, True, [("team_lead", None), ("owner", None)]),
        (False, True, False, [("duty_desk", None), ("team_lead", OPENS), ("owner", OPENS)]),
    ],
)
def test_plan_notifications(
    urgent: bool, threat: bool, office_open: bool, expected: list[tuple[str, datetime | None]]
) -> None:
    plans = plan_notifications(
        urgent=urgent, staff_threat=threat, office_open=office_open, next_opening=OPENS
    )
    assert [(p.target, p.send_at) for p in plans] == expected
    assert all(p.reason for p in plans)


@pytest.mark.parametrize("threat", [False, True])
def test_nobody_but_the_duty_desk_is_told_at_night(threat: bool) -> None:
    for urgent in (False, True):
        plans = plan_notifications(
            urgent=urgent, staff_threat=threat, office_open=False, next_opening=OPENS
        )
        assert all(p.send_at == OPENS for p in plans if p.target != "duty_desk")
