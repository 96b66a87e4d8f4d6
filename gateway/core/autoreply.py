"""Which automatic reply, if any, an inbound message gets: one practice for every family.

The decision is a table read top to bottom; the first rule that applies wins and its reason
is recorded with the message, so a caseworker or auditor can see why a family did or did not
get an answer. Sending goes through the outbox like any other outbound message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

RECEIPT: Final = "receipt"
OUT_OF_HOURS: Final = "out_of_hours"
UNKNOWN_SENDER: Final = "unknown_sender"
KEYWORD: Final = "keyword"


@dataclass(frozen=True)
class AutoReplySituation:
    """Everything the decision depends on, gathered by the pipeline for one inbound message.

    ``contact_opted_out_sms`` is the contact's state *before* this message; a STOP in this
    message shows up as ``opt_out_command == "stop"``.
    """

    channel: str  # "sms" | "email"
    sender_known: bool
    sender_blocked: bool
    machine_mail: bool  # auto-submitted, bounce, mailing list
    opt_out_command: str | None  # "stop" | "start" | "help" (SMS keyword as the whole body)
    first_contact_in_conversation: bool
    office_open: bool
    urgent: bool
    last_auto_reply_at: datetime | None  # last auto-reply to this sender in this conversation
    now: datetime
    min_interval: timedelta
    receipts_enabled: bool
    out_of_hours_enabled: bool
    unknown_sender_notice_enabled: bool
    contact_opted_out_sms: bool
    keyword_replies_enabled: bool = True  # off when Twilio Advanced Opt-Out already answers


@dataclass(frozen=True)
class AutoReplyDecision:
    """The auto-reply to send (``kind``) or None, and always the reason."""

    kind: str | None  # "receipt" | "out_of_hours" | "unknown_sender" | "keyword" | None
    reason: str
    keyword: str | None = None  # the command to confirm when kind == "keyword"


def _silent(reason: str) -> AutoReplyDecision:
    return AutoReplyDecision(None, reason)


def _keyword_decision(s: AutoReplySituation) -> AutoReplyDecision | None:
    """The answer to an SMS keyword, or None when the message is handled like any other."""
    command = s.opt_out_command
    if s.channel != "sms" or command is None:
        return None
    if not s.keyword_replies_enabled:
        return _silent(f"{command.upper()} keyword: confirmations are sent by the SMS provider")
    if command == "stop":
        if s.contact_opted_out_sms:
            return _silent("STOP keyword: the contact had already opted out and was told then")
        # The one SMS allowed to a contact who has just opted out.
        return AutoReplyDecision(KEYWORD, "STOP keyword: confirm the opt-out once", "stop")
    if command == "start":
        if s.contact_opted_out_sms:
            return AutoReplyDecision(KEYWORD, "START keyword: confirm the opt-in", "start")
        # Not opted out: "start"/"yes" is most likely an answer to the caseworker.
        return None
    if command == "help":
        if s.contact_opted_out_sms:
            return _silent("HELP keyword: the contact has opted out of SMS")
        if _within_interval(s):
            return _silent(_interval_reason(s))
        return AutoReplyDecision(KEYWORD, "HELP keyword: send the help text", "help")
    return None


def _within_interval(s: AutoReplySituation) -> bool:
    return s.last_auto_reply_at is not None and s.now - s.last_auto_reply_at < s.min_interval


def _interval_reason(s: AutoReplySituation) -> str:
    assert s.last_auto_reply_at is not None
    return (
        f"an auto-reply was sent at {s.last_auto_reply_at.isoformat()}, "
        f"within the period of {s.min_interval} (loop and spam protection)"
    )


def decide_auto_reply(s: AutoReplySituation) -> AutoReplyDecision:
    """Decide the auto-reply for one inbound message; the reason always says why."""
    if s.machine_mail:
        return _silent("machine mail (auto-reply, bounce or list): never answered, to avoid loops")
    if s.sender_blocked:
        return _silent("the sender is blocked")
    keyword = _keyword_decision(s)
    if keyword is not None:
        return keyword
    if s.channel == "sms" and (s.contact_opted_out_sms or s.opt_out_command == "stop"):
        return _silent("the contact has opted out of SMS")
    if _within_interval(s):
        return _silent(_interval_reason(s))
    # Out of hours comes first even for unknown senders: it carries the emergency numbers.
    if not s.office_open:
        if s.out_of_hours_enabled:
            urgency = " (urgent: also routed to the duty desk)" if s.urgent else ""
            return AutoReplyDecision(
                OUT_OF_HOURS,
                f"the office is closed: send opening hours and emergency numbers{urgency}",
            )
        if not s.sender_known and s.unknown_sender_notice_enabled:
            return AutoReplyDecision(
                UNKNOWN_SENDER,
                "unknown sender (out-of-hours notice is off): tell them it will be handled",
            )
        return _silent("the office is closed and the out-of-hours notice is off")
    if not s.sender_known:
        if s.unknown_sender_notice_enabled:
            return AutoReplyDecision(
                UNKNOWN_SENDER,
                "unknown sender: tell them the message was received and will be handled",
            )
        return _silent("unknown sender and the unknown-sender notice is off")
    if not s.receipts_enabled:
        return _silent("receipts are off")
    if s.first_contact_in_conversation:
        return AutoReplyDecision(RECEIPT, "first message in this conversation: send a receipt")
    if s.urgent:
        # A family writing something urgent should know it arrived, even mid-conversation.
        return AutoReplyDecision(
            RECEIPT, "urgent message: send a receipt so the family knows it arrived"
        )
    return _silent("ongoing conversation: no receipt needed")
