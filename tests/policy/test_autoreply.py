"""Which auto-reply each situation gets: one row per rule, and properties over all inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.autoreply import AutoReplySituation, decide_auto_reply

NOW = datetime(2026, 3, 23, 9, 15, tzinfo=UTC)

# A known family member writes the first SMS of a conversation during opening hours.
BASE = AutoReplySituation(
    channel="sms",
    sender_known=True,
    sender_blocked=False,
    machine_mail=False,
    opt_out_command=None,
    first_contact_in_conversation=True,
    office_open=True,
    urgent=False,
    last_auto_reply_at=None,
    now=NOW,
    min_interval=timedelta(hours=12),
    receipts_enabled=True,
    out_of_hours_enabled=True,
    unknown_sender_notice_enabled=True,
    contact_opted_out_sms=False,
)
RECENT = NOW - timedelta(hours=1)
LONG_AGO = NOW - timedelta(hours=13)

TABLE: list[tuple[str, dict[str, Any], str | None, str | None, str]] = [
    # (id, changes to BASE, kind, keyword, words in the reason)
    ("first contact gets a receipt", {}, "receipt", None, "first message"),
    ("first e-mail gets a receipt", {"channel": "email"}, "receipt", None, "first message"),
    (
        "ongoing conversation gets nothing",
        {"first_contact_in_conversation": False},
        None,
        None,
        "ongoing",
    ),
    ("receipts off", {"receipts_enabled": False}, None, None, "receipts are off"),
    (
        "urgent mid-conversation gets a receipt",
        {"first_contact_in_conversation": False, "urgent": True},
        "receipt",
        None,
        "urgent",
    ),
    ("machine mail never", {"channel": "email", "machine_mail": True}, None, None, "machine mail"),
    (
        "machine mail out of hours never",
        {"channel": "email", "machine_mail": True, "office_open": False},
        None,
        None,
        "machine mail",
    ),
    ("blocked sender never", {"sender_blocked": True}, None, None, "blocked"),
    (
        "blocked sender out of hours never",
        {"sender_blocked": True, "office_open": False},
        None,
        None,
        "blocked",
    ),
    (
        "blocked sender sending STOP",
        {"sender_blocked": True, "opt_out_command": "stop"},
        None,
        None,
        "blocked",
    ),
    ("out of hours notice", {"office_open": False}, "out_of_hours", None, "closed"),
    (
        "out of hours beats receipt",
        {"office_open": False, "first_contact_in_conversation": True},
        "out_of_hours",
        None,
        "emergency numbers",
    ),
    (
        "out of hours mid-conversation",
        {"office_open": False, "first_contact_in_conversation": False},
        "out_of_hours",
        None,
        "closed",
    ),
    (
        "urgent out of hours",
        {"office_open": False, "urgent": True},
        "out_of_hours",
        None,
        "duty desk",
    ),
    (
        "out of hours off, known sender",
        {"office_open": False, "out_of_hours_enabled": False},
        None,
        None,
        "out-of-hours notice is off",
    ),
    (
        "out of hours beats unknown sender",
        {"office_open": False, "sender_known": False},
        "out_of_hours",
        None,
        "closed",
    ),
    (
        "out of hours off, unknown sender",
        {"office_open": False, "sender_known": False, "out_of_hours_enabled": False},
        "unknown_sender",
        None,
        "unknown sender",
    ),
    ("unknown sender notice", {"sender_known": False}, "unknown_sender", None, "unknown sender"),
    (
        "unknown sender, notice off",
        {"sender_known": False, "unknown_sender_notice_enabled": False},
        None,
        None,
        "notice is off",
    ),
    (
        "unknown sender, notice off, closed, out of hours off",
        {
            "sender_known": False,
            "unknown_sender_notice_enabled": False,
            "office_open": False,
            "out_of_hours_enabled": False,
        },
        None,
        None,
        "closed",
    ),
    ("within the period", {"last_auto_reply_at": RECENT}, None, None, "loop and spam protection"),
    (
        "within the period out of hours",
        {"last_auto_reply_at": RECENT, "office_open": False},
        None,
        None,
        "within the period",
    ),
    (
        "within the period unknown sender",
        {"last_auto_reply_at": RECENT, "sender_known": False},
        None,
        None,
        "within the period",
    ),
    ("period has passed", {"last_auto_reply_at": LONG_AGO}, "receipt", None, "first message"),
    (
        "exactly one period later",
        {"last_auto_reply_at": NOW - timedelta(hours=12)},
        "receipt",
        None,
        "first message",
    ),
    ("STOP confirmed", {"opt_out_command": "stop"}, "keyword", "stop", "STOP"),
    (
        "STOP confirmed even within the period",
        {"opt_out_command": "stop", "last_auto_reply_at": RECENT},
        "keyword",
        "stop",
        "once",
    ),
    (
        "STOP confirmed out of hours",
        {"opt_out_command": "stop", "office_open": False},
        "keyword",
        "stop",
        "STOP",
    ),
    (
        "STOP from unknown number confirmed",
        {"opt_out_command": "stop", "sender_known": False},
        "keyword",
        "stop",
        "STOP",
    ),
    (
        "STOP again when already opted out",
        {"opt_out_command": "stop", "contact_opted_out_sms": True},
        None,
        None,
        "already opted out",
    ),
    (
        "STOP when the provider confirms",
        {"opt_out_command": "stop", "keyword_replies_enabled": False},
        None,
        None,
        "provider",
    ),
    (
        "STOP by e-mail is a message",
        {"channel": "email", "opt_out_command": "stop"},
        "receipt",
        None,
        "first message",
    ),
    (
        "START from opted-out contact confirmed",
        {"opt_out_command": "start", "contact_opted_out_sms": True},
        "keyword",
        "start",
        "START",
    ),
    (
        "START when not opted out is a message",
        {"opt_out_command": "start", "first_contact_in_conversation": False},
        None,
        None,
        "ongoing",
    ),
    (
        "START when not opted out, first contact",
        {"opt_out_command": "start"},
        "receipt",
        None,
        "first message",
    ),
    ("HELP answered", {"opt_out_command": "help"}, "keyword", "help", "HELP"),
    (
        "HELP within the period",
        {"opt_out_command": "help", "last_auto_reply_at": RECENT},
        None,
        None,
        "within the period",
    ),
    (
        "HELP from opted-out contact",
        {"opt_out_command": "help", "contact_opted_out_sms": True},
        None,
        None,
        "opted out",
    ),
    (
        "opted-out contact gets no receipt",
        {"contact_opted_out_sms": True},
        None,
        None,
        "opted out of SMS",
    ),
    (
        "opted-out contact gets no out-of-hours SMS",
        {"contact_opted_out_sms": True, "office_open": False},
        None,
        None,
        "opted out of SMS",
    ),
    (
        "SMS opt-out does not silence e-mail",
        {"channel": "email", "contact_opted_out_sms": True},
        "receipt",
        None,
        "first message",
    ),
]


@pytest.mark.parametrize(
    ("changes", "kind", "keyword", "words"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_decide_auto_reply(
    changes: dict[str, Any], kind: str | None, keyword: str | None, words: str
) -> None:
    decision = decide_auto_reply(replace(BASE, **changes))
    assert (decision.kind, decision.keyword) == (kind, keyword)
    assert words in decision.reason


SITUATIONS = st.builds(
    AutoReplySituation,
    channel=st.sampled_from(["sms", "email"]),
    sender_known=st.booleans(),
    sender_blocked=st.booleans(),
    machine_mail=st.booleans(),
    opt_out_command=st.sampled_from([None, "stop", "start", "help"]),
    first_contact_in_conversation=st.booleans(),
    office_open=st.booleans(),
    urgent=st.booleans(),
    last_auto_reply_at=st.one_of(
        st.none(), st.sampled_from([RECENT, LONG_AGO, NOW - timedelta(minutes=1)])
    ),
    now=st.just(NOW),
    min_interval=st.sampled_from([timedelta(0), timedelta(minutes=30), timedelta(hours=12)]),
    receipts_enabled=st.booleans(),
    out_of_hours_enabled=st.booleans(),
    unknown_sender_notice_enabled=st.booleans(),
    contact_opted_out_sms=st.booleans(),
    keyword_replies_enabled=st.booleans(),
)


@given(SITUATIONS)
def test_every_decision_explains_itself(s: AutoReplySituation) -> None:
    assert decide_auto_reply(s).reason.strip()


@given(SITUATIONS)
def test_never_to_machine_mail_or_blocked_senders(s: AutoReplySituation) -> None:
    if s.machine_mail or s.sender_blocked:
        assert decide_auto_reply(s).kind is None


@given(SITUATIONS)
def test_opted_out_contact_gets_no_sms_but_the_way_back(s: AutoReplySituation) -> None:
    decision = decide_auto_reply(s)
    if s.channel == "sms" and s.contact_opted_out_sms and decision.kind is not None:
        # Only START (which opts them back in) is confirmed; STOP was confirmed the first time.
        assert (decision.kind, decision.keyword) == ("keyword", "start")


@given(SITUATIONS)
def test_at_most_one_auto_reply_per_period(s: AutoReplySituation) -> None:
    decision = decide_auto_reply(s)
    recent = s.last_auto_reply_at is not None and s.now - s.last_auto_reply_at < s.min_interval
    if recent and decision.kind is not None:
        # Consent changes are confirmed regardless: the family must know they took effect.
        assert decision.kind == "keyword"
        assert decision.keyword in ("stop", "start")


@given(SITUATIONS)
def test_keyword_confirmations_only_by_sms(s: AutoReplySituation) -> None:
    if decide_auto_reply(s).kind == "keyword":
        assert s.channel == "sms"
        assert s.opt_out_command is not None
