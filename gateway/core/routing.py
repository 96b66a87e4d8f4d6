"""Attach an inbound message to a case and decide whose queue it lands in (pure).

The matching order is DESIGN.md's: reply token (valid only for the sender it was issued to),
In-Reply-To/References of our outbound Message-IDs (scoped to the sender), sender address ->
contact -> one open case (several: the latest outbound within a window), else triage. A case or
contact is never created here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class CaseLink:
    """A case the sender could belong to, as found by one of the matching rules."""

    case_id: int
    contact_id: int | None
    last_outbound_at: datetime | None = None


@dataclass(frozen=True)
class TokenLookup:
    link: CaseLink | None  # None: the token is unknown or revoked
    issued_to: str  # the normalised sender the token was given to


@dataclass(frozen=True)
class MatchFacts:
    sender: str  # normalised (E.164 or lower-case e-mail)
    token: TokenLookup | None = None
    thread: CaseLink | None = None  # from In-Reply-To/References, already scoped to the sender
    sender_links: Sequence[CaseLink] = ()  # open cases of contacts with this address
    sender_auth_failed: bool = False
    dmarc_fail_policy: str = "triage"  # triage | flag
    sender_verified: bool = True  # False: e-mail whose DMARC nobody checked


@dataclass(frozen=True)
class Match:
    case_id: int | None
    contact_id: int | None
    rule: str  # reply_token | thread | sender | sender_recent | triage
    triage_reason: str | None = None
    flags: tuple[str, ...] = ()


def match_case(facts: MatchFacts, now: datetime, window: timedelta) -> Match:
    """Decide the case of an inbound message from what storage found for it."""
    flags: tuple[str, ...] = ()
    if facts.token is not None:
        if facts.token.link is None:
            flags += ("unknown_reply_token",)
        elif facts.token.issued_to != facts.sender:
            return Match(
                None, None, "triage", "token used by another sender", ("token_sender_mismatch",)
            )
        else:
            return Match(
                facts.token.link.case_id, facts.token.link.contact_id, "reply_token", None, flags
            )
    if facts.thread is not None:
        return Match(facts.thread.case_id, facts.thread.contact_id, "thread", None, flags)
    if facts.sender_auth_failed:
        flags += ("sender_authentication_failed",)
        if facts.dmarc_fail_policy == "triage" or not facts.sender_links:
            return Match(None, None, "triage", "sender authentication failed", flags)
    links = _distinct_cases(facts.sender_links)
    if not links:
        return Match(None, None, "triage", "unknown sender", flags)
    if not facts.sender_verified:
        # A From: line anyone can write must not put words on a family's case.
        return Match(
            None,
            None,
            "triage",
            "sender not verified (DMARC not checked)",
            (*flags, "sender_unverified"),
        )
    if len(links) == 1:
        return Match(links[0].case_id, links[0].contact_id, "sender", None, flags)
    recent = [
        lk
        for lk in links
        if lk.last_outbound_at is not None and now - lk.last_outbound_at <= window
    ]
    if recent:
        best = max(recent, key=lambda lk: lk.last_outbound_at or now)
        return Match(best.case_id, best.contact_id, "sender_recent", None, flags)
    return Match(None, None, "triage", f"ambiguous: {len(links)} open cases", flags)


def _distinct_cases(links: Sequence[CaseLink]) -> list[CaseLink]:
    """One link per case: the one with the latest outbound (a contact may appear twice)."""
    by_case: dict[int, CaseLink] = {}
    for lk in links:
        seen = by_case.get(lk.case_id)
        if seen is None or _later(lk, seen):
            by_case[lk.case_id] = lk
    return list(by_case.values())


def _later(a: CaseLink, b: CaseLink) -> bool:
    if a.last_outbound_at is None:
        return False
    return b.last_outbound_at is None or a.last_outbound_at > b.last_outbound_at


@dataclass(frozen=True)
class CaseOwnership:
    team: str
    caseworker_id: int | None
    caseworker_absent: bool = False


@dataclass(frozen=True)
class QueueTarget:
    owner_kind: str  # user | team | duty | triage
    user_id: int | None
    team: str | None
    urgent: bool
    reason: str


def queue_targets(
    case: CaseOwnership | None, *, urgent: bool, triage_reason: str | None, blocked: bool = False
) -> list[QueueTarget]:
    """Whose queue(s) a message lands in. Urgent risk items also go to the duty desk.

    A blocked sender's messages are stored and flagged but never shown in a queue.
    """
    if blocked:
        return []
    targets: list[QueueTarget] = []
    if case is None:
        targets.append(QueueTarget("triage", None, None, urgent, triage_reason or "unknown sender"))
    elif case.caseworker_id is not None and not case.caseworker_absent:
        targets.append(
            QueueTarget("user", case.caseworker_id, case.team, urgent, "assigned caseworker")
        )
    else:
        reason = "caseworker absent" if case.caseworker_id is not None else "no caseworker assigned"
        targets.append(QueueTarget("team", None, case.team, urgent, reason))
    if urgent:
        targets.append(QueueTarget("duty", None, case.team if case else None, True, "risk signal"))
    return targets
