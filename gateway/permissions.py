"""Who may do what, and which cases and queue items each member of staff can see.

The rules in one place (the API asks these functions; it decides nothing on its own):

- caseworker: the cases of their own team (threads, replies, reveal, export) and their own queue
  items (assigned to them, or claimed by them).
- team_lead: everything a caseworker may, plus their team's queue, the duty desk (urgent items
  of their team and urgent triage items) and triage (messages from unknown senders).
- auditor: reads the audit log and exports any case; never replies, never reveals originals,
  never reads a queue.
- admin: manages users, tokens, cases and contacts; never reads message content. An admin is
  never a caseworker: cases are assigned only to caseworkers and team leads, and a member of
  staff who needs both gets two accounts (so every reading of content is by a content role).

A case, message or queue item outside one's scope is answered as if it did not exist (404), so
the API never confirms that someone else's case exists. A role that may never use an endpoint
gets 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, true

from gateway.accounts import Staff
from gateway.storage.models import Case, QueueItem

CASEWORKER, TEAM_LEAD, ADMIN, AUDITOR = "caseworker", "team_lead", "admin", "auditor"
ROLES = (CASEWORKER, TEAM_LEAD, ADMIN, AUDITOR)

# Roles that read message content (redacted text, threads) of their team's cases.
CONTENT = (CASEWORKER, TEAM_LEAD)
# Roles allowed to be a case's assigned caseworker.
ASSIGNABLE = (CASEWORKER, TEAM_LEAD)
# Triage, duty desk, blocking senders, marking colleagues absent.
LEADS = (TEAM_LEAD,)
# Export of a case's full correspondence (the record for the journal system).
EXPORT = (CASEWORKER, TEAM_LEAD, AUDITOR)
# Read case metadata (ref, title, team, contacts) without content.
CASE_METADATA = (CASEWORKER, TEAM_LEAD, ADMIN, AUDITOR)
ADMINS = (ADMIN,)
AUDITORS = (AUDITOR,)


def case_scope(staff: Staff) -> Any:
    """SQL condition on ``Case`` for the cases ``staff`` may see."""
    if staff.role in (ADMIN, AUDITOR):
        return true()
    if staff.role in CONTENT:
        return Case.team == staff.team
    return false()


def sees_case(staff: Staff, case: Case) -> bool:
    return staff.role in (ADMIN, AUDITOR) or (staff.role in CONTENT and case.team == staff.team)


def queue_scope(staff: Staff) -> Any:
    """SQL condition on ``QueueItem`` for the items in ``staff``'s queues."""
    if staff.role not in CONTENT:
        return false()
    own = or_(
        and_(QueueItem.owner_kind == "user", QueueItem.owner_user_id == staff.id),
        QueueItem.claimed_by == staff.id,
    )
    if staff.role != TEAM_LEAD:
        return own
    return or_(
        own,
        and_(QueueItem.owner_kind == "team", QueueItem.owner_team == staff.team),
        and_(
            QueueItem.owner_kind == "duty",
            or_(QueueItem.owner_team == staff.team, QueueItem.owner_team.is_(None)),
        ),
        QueueItem.owner_kind == "triage",
    )


def sees_triage(staff: Staff) -> bool:
    """Messages not attached to a case (unknown senders) are for team leads only."""
    return staff.role == TEAM_LEAD


def message_scope(staff: Staff, case: Case | None) -> bool:
    """May ``staff`` read a message attached to ``case`` (None: a triage message)?"""
    if staff.role not in CONTENT:
        return False
    if case is None:
        return sees_triage(staff)
    return case.team == staff.team
