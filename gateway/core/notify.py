"""Notifications to staff: that something arrived, never what it says.

A notification names the case reference, the channel, whether it is urgent and a link to
the case. It takes no message text, sender, name or number as input, so it cannot leak them
into a mailbox or a phone lock screen outside the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from gateway.core.templates import TemplateSet, render_message

_CHANNEL_LABELS: Final[dict[str, dict[str, str]]] = {
    "sms": {"nb": "SMS", "nn": "SMS", "da": "SMS", "sv": "sms", "en": "SMS"},
    "email": {"nb": "e-post", "nn": "e-post", "da": "e-mail", "sv": "e-post", "en": "e-mail"},
}
_URGENT: Final = {
    "nb": "haster",
    "nn": "hastar",
    "da": "haster",
    "sv": "brådskande",
    "en": "urgent",
}


def channel_label(channel: str, language: str) -> str:
    """The channel's name as staff read it in ``language``."""
    labels = _CHANNEL_LABELS.get(channel)
    if labels is None:
        return channel
    return labels.get(language, labels["en"])


def _urgency(urgent: bool, language: str) -> str:
    return f", {_URGENT.get(language, _URGENT['en'])}" if urgent else ""


def staff_notification(
    case_ref: str | None,
    channel: str,
    urgent: bool,
    link: str,
    language: str,
    templates: TemplateSet,
    *,
    service_name: str = "",
) -> tuple[str, str]:
    """Subject and body of "New message in case 2024-0412 (SMS, urgent)".

    A message without a case (``case_ref`` None) is announced as one waiting for triage.
    """
    kind = "staff_notification" if case_ref is not None else "staff_notification_triage"
    values = {
        "service_name": service_name,
        "case_ref": case_ref or "",
        "channel": channel_label(channel, language),
        "urgency": _urgency(urgent, language),
        "link": link,
    }
    rendered = render_message(templates, kind, language, values)
    subject = rendered.subject or rendered.body.splitlines()[0]
    return subject, rendered.body


@dataclass(frozen=True)
class PlannedNotification:
    """Who to notify about one message, and when (``send_at`` None means now)."""

    target: str  # "owner" (caseworker or team of the queue) | "duty_desk" | "team_lead"
    send_at: datetime | None
    reason: str


def plan_notifications(
    *,
    urgent: bool,
    staff_threat: bool,
    office_open: bool,
    next_opening: datetime,
) -> tuple[PlannedNotification, ...]:
    """Who hears about a new message and when, so nobody is reachable around the clock.

    Urgent messages (risk signals) reach the duty desk at any hour. Threats or harassment
    toward staff reach the team lead, in opening hours. Everything else waits for the next
    opening when the office is closed; the message itself is in the queue at once.
    """
    plans: list[PlannedNotification] = []
    if urgent or (staff_threat and not office_open):
        plans.append(
            PlannedNotification("duty_desk", None, "urgent: the duty desk is told at any hour")
        )
    if staff_threat:
        when = None if office_open else next_opening
        plans.append(PlannedNotification("team_lead", when, "threat or harassment toward staff"))
    if office_open:
        plans.append(PlannedNotification("owner", None, "new message in opening hours"))
    else:
        plans.append(
            PlannedNotification("owner", next_opening, "out of hours: told when the office opens")
        )
    return tuple(plans)


@dataclass(frozen=True)
class Pending:
    """A message a person has not yet been notified about (no content, by design)."""

    case_ref: str | None
    channel: str
    urgent: bool
    received_at: datetime


@dataclass(frozen=True)
class DigestPlan:
    """Whether to notify now, else when; ``items`` are what the notification covers."""

    send_now: bool
    send_at: datetime | None
    items: tuple[Pending, ...]
    reason: str


def plan_digest(
    pending: Sequence[Pending],
    last_sent_at: datetime | None,
    now: datetime,
    period: timedelta,
) -> DigestPlan:
    """Plan one person's next notification: at most one per ``period``, urgent items at once."""
    items = tuple(sorted(pending, key=lambda p: p.received_at))
    if not items:
        return DigestPlan(False, None, (), "nothing new")
    if any(p.urgent for p in items):
        return DigestPlan(True, now, items, "an urgent message bypasses the digest")
    if last_sent_at is None:
        return DigestPlan(True, now, items, "no notification sent before")
    due = last_sent_at + period
    if now >= due:
        return DigestPlan(True, now, items, f"the last notification was {now - last_sent_at} ago")
    return DigestPlan(
        False, due, items, f"one notification per {period}: wait until {due.isoformat()}"
    )


def digest_notification(
    items: Sequence[Pending],
    link: str,
    language: str,
    templates: TemplateSet,
    *,
    service_name: str = "",
) -> tuple[str, str]:
    """Subject and body of a digest listing case references and channels only."""
    lines = []
    for item in items:
        ref = item.case_ref or "triage"
        label = channel_label(item.channel, language) + _urgency(item.urgent, language)
        lines.append(f"- {ref} ({label})")
    values = {
        "service_name": service_name,
        "count": str(len(items)),
        "items": "\n".join(lines),
        "link": link,
    }
    rendered = render_message(templates, "staff_digest", language, values)
    subject = rendered.subject or rendered.body.splitlines()[0]
    return subject, rendered.body
