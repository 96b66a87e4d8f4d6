"""Machine mail that must never be answered, and whose Authentication-Results we believe."""

from __future__ import annotations

import pytest

from gateway.core.email import parse_email
from gateway.core.email.sender_auth import sender_auth_from_headers

BASE = (
    "From: Kari Nordmann <kari@example.no>\nTo: post@barnevern.example.no\n"
    "Subject: {subject}\nMessage-ID: <m1@example.no>\n{extra}"
    "Content-Type: text/plain; charset=utf-8\n\nHei, vi kommer i morgen.\n"
)


def message(subject: str = "Møte", extra: str = "") -> bytes:
    return BASE.format(subject=subject, extra=extra).encode()


@pytest.mark.parametrize(
    ("subject", "extra", "auto"),
    [
        ("Møte", "", False),
        ("Møte", "Auto-Submitted: no\n", False),
        ("Møte", "Auto-Submitted: auto-replied\n", True),
        ("Møte", "Auto-Submitted: auto-generated\n", True),
        ("Møte", "Precedence: bulk\n", True),
        ("Møte", "Precedence: list\n", True),
        ("Møte", "Precedence: junk\n", True),
        ("Møte", "List-Id: <foreldre.example.no>\n", True),
        ("Møte", "X-Auto-Response-Suppress: All\n", True),
        ("Møte", "X-Autoreply: yes\n", True),
        ("Out of Office: Møte", "", True),
        ("Automatic reply: Meeting", "", True),
        ("Automatisk svar: Møte", "", True),
        ("Autosvar: Møde", "", True),
        ("Fraværsmelding", "", True),
        ("Frånvaromeddelande: Möte", "", True),
        ("Fravær fra skolen", "", False),  # a family writing about school absence
        ("Ferie i sommer", "", False),
    ],
)
def test_machine_mail_is_recognised(subject: str, extra: str, auto: bool) -> None:
    parsed = parse_email(message(subject, extra))
    assert parsed.auto_submitted is auto
    assert parsed.bounce is False


def test_read_receipt_is_machine_mail_but_not_a_bounce() -> None:
    raw = (
        "From: kari@example.no\nTo: post@barnevern.example.no\nSubject: Lest: Møte\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nLest.\n--b\n"
        "Content-Type: message/disposition-notification\n\n"
        "Original-Message-ID: <ours@barnevern.example.no>\nDisposition: manual-action/MDN-sent-"
        "manually; displayed\n--b--\n"
    ).encode()
    parsed = parse_email(raw)
    assert parsed.auto_submitted
    assert not parsed.bounce


def test_a_family_subject_mentioning_delivery_is_not_a_bounce() -> None:
    parsed = parse_email(message("Undeliverable: pakken kom aldri"))
    assert not parsed.bounce


TRUSTED = "mx.barnevern.example.no"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([f"{TRUSTED}; dkim=pass header.d=a; spf=pass; dmarc=pass"], ("pass", "pass", "pass")),
        ([f"{TRUSTED} 1; dkim=pass; spf=pass; dmarc=pass"], ("pass", "pass", "pass")),
        ([f"{TRUSTED.upper()}; dmarc=pass"], ("none", "none", "pass")),
        ([f"{TRUSTED}; dkim=fail; dkim=pass header.d=b"], ("pass", "none", "none")),
        ([f"{TRUSTED}; spf=softfail; dmarc=fail (p=reject)"], ("none", "fail", "fail")),
        ([f"{TRUSTED}; spf=neutral; dkim=temperror; dmarc=none"], ("none", "none", "none")),
        ([f"{TRUSTED}; none"], ("none", "none", "none")),
        (["mx.evil.example; dkim=pass; spf=pass; dmarc=pass"], ("none", "none", "none")),
        ([f"{TRUSTED}.evil.example; dmarc=pass"], ("none", "none", "none")),
        ([f"evil (comment {TRUSTED}); dmarc=pass"], ("none", "none", "none")),
        (
            [f"{TRUSTED}; dmarc=fail", f"{TRUSTED}; dmarc=pass"],  # a forged pass further down
            ("none", "none", "fail"),
        ),
        ([f"{TRUSTED}; dkim=pass (good (nested) comment) header.d=x"], ("pass", "none", "none")),
        ([f"{TRUSTED}; dmarc=pass (comment; with; semicolons)"], ("none", "none", "pass")),
    ],
)
def test_authentication_results_from_the_trusted_id_only(
    headers: list[str], expected: tuple[str, str, str]
) -> None:
    auth = sender_auth_from_headers(headers, TRUSTED)
    assert (auth.dkim, auth.spf, auth.dmarc) == expected


def test_without_a_trusted_id_nothing_is_believed() -> None:
    auth = sender_auth_from_headers([f"{TRUSTED}; dkim=pass; spf=pass; dmarc=pass"], None)
    assert (auth.dkim, auth.spf, auth.dmarc) == ("none", "none", "none")
