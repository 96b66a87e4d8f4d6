"""Matching a message to a case, and whose queue it lands in: pure tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.addresses import normalise_phone, reply_address, token_from_recipient
from gateway.core.routing import (
    CaseLink,
    CaseOwnership,
    MatchFacts,
    TokenLookup,
    match_case,
    queue_targets,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
S = "+4791234567"


@pytest.mark.parametrize(
    ("facts", "case_id", "rule", "reason"),
    [
        (MatchFacts(S), None, "triage", "unknown sender"),
        (MatchFacts(S, sender_links=[CaseLink(1, 10)]), 1, "sender", None),
        (MatchFacts(S, sender_links=[CaseLink(1, 10), CaseLink(1, 11)]), 1, "sender", None),
        (
            MatchFacts(S, sender_links=[CaseLink(1, 10), CaseLink(2, 11)]),
            None,
            "triage",
            "ambiguous: 2 open cases",
        ),
        (
            MatchFacts(
                S,
                sender_links=[
                    CaseLink(1, 10, NOW - timedelta(days=2)),
                    CaseLink(2, 11, NOW - timedelta(days=1)),
                ],
            ),
            2,
            "sender_recent",
            None,
        ),
        (
            MatchFacts(
                S, sender_links=[CaseLink(1, 10, NOW - timedelta(days=30)), CaseLink(2, 11)]
            ),
            None,
            "triage",
            "ambiguous: 2 open cases",
        ),
        (MatchFacts(S, token=TokenLookup(CaseLink(5, 50), S)), 5, "reply_token", None),
        (
            MatchFacts(
                S, token=TokenLookup(CaseLink(5, 50), "+4799999999"), sender_links=[CaseLink(1, 10)]
            ),
            None,
            "triage",
            "token used by another sender",
        ),
        (
            MatchFacts(S, token=TokenLookup(None, ""), sender_links=[CaseLink(1, 10)]),
            1,
            "sender",
            None,
        ),
        (
            MatchFacts(S, thread=CaseLink(7, 70), sender_links=[CaseLink(1, 10), CaseLink(2, 11)]),
            7,
            "thread",
            None,
        ),
        (
            MatchFacts(S, sender_links=[CaseLink(1, 10)], sender_auth_failed=True),
            None,
            "triage",
            "sender authentication failed",
        ),
        (
            MatchFacts(
                S, sender_links=[CaseLink(1, 10)], sender_auth_failed=True, dmarc_fail_policy="flag"
            ),
            1,
            "sender",
            None,
        ),
    ],
    ids=[
        "unknown",
        "one-case",
        "two-contacts-one-case",
        "ambiguous",
        "latest-outbound-wins",
        "outside-window",
        "token",
        "token-other-sender",
        "revoked-token-falls-back",
        "thread",
        "dmarc-fail-triage",
        "dmarc-fail-flag",
    ],
)
def test_match_case(facts: MatchFacts, case_id: int | None, rule: str, reason: str | None) -> None:
    match = match_case(facts, NOW, WINDOW)
    assert (match.case_id, match.rule, match.triage_reason) == (case_id, rule, reason)


def test_dmarc_flag_policy_marks_the_message() -> None:
    m = match_case(
        MatchFacts(
            S, sender_links=[CaseLink(1, 10)], sender_auth_failed=True, dmarc_fail_policy="flag"
        ),
        NOW,
        WINDOW,
    )
    assert "sender_authentication_failed" in m.flags


@pytest.mark.parametrize(
    ("case", "urgent", "blocked", "expected"),
    [
        (None, False, False, [("triage", None, None)]),
        (None, True, False, [("triage", None, None), ("duty", None, None)]),
        (CaseOwnership("Nord", 3), False, False, [("user", 3, "Nord")]),
        (CaseOwnership("Nord", 3, caseworker_absent=True), False, False, [("team", None, "Nord")]),
        (CaseOwnership("Nord", None), False, False, [("team", None, "Nord")]),
        (CaseOwnership("Nord", 3), True, False, [("user", 3, "Nord"), ("duty", None, "Nord")]),
        (CaseOwnership("Nord", 3), True, True, []),
    ],
)
def test_queue_targets(
    case: CaseOwnership | None, urgent: bool, blocked: bool, expected: list[tuple[object, ...]]
) -> None:
    targets = queue_targets(case, urgent=urgent, triage_reason=None, blocked=blocked)
    assert [(t.owner_kind, t.user_id, t.team) for t in targets] == expected
    assert all(t.urgent for t in targets if t.owner_kind == "duty")


@pytest.mark.parametrize(
    "raw", ["+47 912 34 567", "004791234567", "91234567", "+4791234567", " 912 34 567 "]
)
def test_norwegian_numbers_are_one_contact(raw: str) -> None:
    assert normalise_phone(raw, "NO") == "+4791234567"


@pytest.mark.parametrize("raw", ["12", "hello", "+47 000", ""])
def test_invalid_numbers_are_not_normalised(raw: str) -> None:
    assert normalise_phone(raw, "NO") is None


def test_reply_tokens_round_trip_and_reject_others() -> None:
    addr = reply_address("abcdefghijklmnopqrstuvwx", "barnevern.example.no")
    assert addr == "case.abcdefghijklmnopqrstuvwx@barnevern.example.no"
    assert token_from_recipient(addr.upper(), "barnevern.example.no") == "abcdefghijklmnopqrstuvwx"
    assert token_from_recipient("case.abc@barnevern.example.no", "barnevern.example.no") is None
    assert token_from_recipient(addr, "other.example") is None
    assert (
        token_from_recipient(
            "case+abcdefghijklmnopqrstuvwx@barnevern.example.no", "barnevern.example.no"
        )
        is None
    )
