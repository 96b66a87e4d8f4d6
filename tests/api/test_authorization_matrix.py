"""The authorization matrix: every endpoint x every role x own team / other team, generated as a
table from the route table and run against the real app.

Expected outcome of one cell: 403 when the role may never use the endpoint; 404 when a
caseworker or team lead reaches for something of another team (a case outside one's scope does
not exist for them); otherwise success. Admins and auditors are not team-scoped. The same table
is printed in docs/api.md (a test keeps the two equal).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.ratelimit import throttles_for
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.db import utcnow
from gateway.storage.models import ApiToken, Attachment, BlockedSender
from gateway.web.api_common import ROUTES
from tests.api.world import ROLES, TEAM_A, TEAM_B, Person, World, make_world

Build = Callable[[World, Person, str], Awaitable[tuple[str, Any]]]
_n = itertools.count(1)


async def _item(w: World, caller: Person, team: str) -> int:
    """An item in the caller's queue (own team) or the same kind of item of the other team."""
    worker = w.person("caseworker", team)
    case = await w.case(team, worker)
    if caller.role == "caseworker":
        owner = caller if team == caller.team else worker
        _, item = await w.inbound(case, owner="user", owner_user=owner, team=team)
    else:
        _, item = await w.inbound(case, owner="team", team=team)
    assert item is not None
    return item


async def _message(w: World, team: str) -> int:
    case = await w.case(team, w.person("caseworker", team))
    mid, _ = await w.inbound(case, owner="none")
    return mid


async def _case_ref(w: World, team: str) -> str:
    return (await w.case(team, w.person("caseworker", team))).ref


async def _fresh_user(w: World, team: str) -> int:
    return (await w.add_person("caseworker", team)).id


async def _token_id(w: World, team: str) -> int:
    person = await w.add_person("caseworker", team)
    async with w.rt.db.read() as s:
        return int(
            (await s.execute(select(ApiToken.id).where(ApiToken.user_id == person.id))).scalar_one()
        )


async def _blocked(w: World) -> int:
    async with w.rt.db.transaction() as tx:
        row = BlockedSender(
            address=f"+47488{next(_n):05d}", reason="test", blocked_by="test", created_at=utcnow()
        )
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def b_queue(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/queue", None


async def b_claim(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/queue/{await _item(w, c, t)}/claim", None


async def b_done(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/queue/{await _item(w, c, t)}/done", {"note": "ringt"}


async def b_journalled(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/queue/{await _item(w, c, t)}/journalled", {"journal_ref": "J-1"}


async def b_reassign(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/queue/{await _item(w, c, t)}/reassign", {"team": t, "reason": "ferie"}


async def b_thread(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/cases/{await _case_ref(w, t)}/messages", None


async def b_message(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/messages/{await _message(w, t)}", None


async def b_reply(w: World, c: Person, t: str) -> tuple[str, Any]:
    case = await w.case(t, w.person("caseworker", t))
    return (
        f"/api/v1/cases/{case.ref}/replies",
        {"body": "Hei", "contact_id": case.contact_id, "dry_run": True},
    )


async def b_reveal(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/messages/{await _message(w, t)}/reveal", {"reason": "sjekker ordlyd"}


async def b_risk_feedback(w: World, c: Person, t: str) -> tuple[str, Any]:
    body = {"verdict": "missed_risk", "risk_type": "SELF_HARM"}
    return f"/api/v1/messages/{await _message(w, t)}/risk-feedback", body


async def b_attachment(w: World, c: Person, t: str) -> tuple[str, Any]:
    case = await w.case(t, w.person("caseworker", t))
    mid, _ = await w.inbound(case, owner="none", attachment=b"%PDF-1.4 vedtak")
    async with w.rt.db.read() as s:
        att = (
            await s.execute(select(Attachment.id).where(Attachment.message_id == mid))
        ).scalar_one()
    return f"/api/v1/attachments/{att}", None


async def b_link(w: World, c: Person, t: str) -> tuple[str, Any]:
    mid, _ = await w.inbound(None, owner="triage")
    return f"/api/v1/triage/{mid}/link", {"case_ref": await _case_ref(w, t), "reason": "kjent"}


async def b_spam(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/triage/{await _message(w, t)}/spam", {"kind": "spam", "reason": "reklame"}


async def b_block(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/triage/{await _message(w, t)}/block", {"reason": "trusler"}


async def b_blocked(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/blocked-senders", None


async def b_unblock(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/blocked-senders/{await _blocked(w)}/unblock", {"reason": "feil"}


async def b_absence(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/users/{await _fresh_user(w, t)}/absence", {"absent": True, "reason": "syk"}


async def b_users(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/users", None


async def b_user_add(w: World, c: Person, t: str) -> tuple[str, Any]:
    n = next(_n)
    body = {"email": f"ny{n}@barnevern.example.no", "name": "Ny", "role": "caseworker", "team": t}
    return "/api/v1/users", body


async def b_user(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/users/{await _fresh_user(w, t)}", None


async def b_user_patch(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/users/{await _fresh_user(w, t)}", {"name": "Nytt Navn"}


async def b_tokens(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/users/{await _fresh_user(w, t)}/tokens", None


async def b_token_add(w: World, c: Person, t: str) -> tuple[str, Any]:
    # Admins mint tokens only for non-content accounts (content roles make their own).
    auditor = await w.add_person("auditor", t)
    return f"/api/v1/users/{auditor.id}/tokens", {"days": 7}


async def b_token_revoke(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/tokens/{await _token_id(w, t)}", None


async def b_cases(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/cases", None


async def b_case_add(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/cases", {"ref": f"2027-{next(_n):05d}", "title": "Ny sak", "team": t}


async def b_case(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/cases/{await _case_ref(w, t)}", None


async def b_case_patch(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/cases/{await _case_ref(w, t)}", {"title": "Endret"}


async def b_contact_add(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/cases/{await _case_ref(w, t)}/contacts", {"name": "Bestemor", "role": "other"}


async def b_contact_patch(w: World, c: Person, t: str) -> tuple[str, Any]:
    case = await w.case(t)
    return f"/api/v1/contacts/{case.contact_id}", {"consent_sms": False}


async def b_contact_delete(w: World, c: Person, t: str) -> tuple[str, Any]:
    case = await w.case(t)
    return f"/api/v1/contacts/{case.contact_id}", None


async def b_audit(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/audit", None


async def b_access_log(w: World, c: Person, t: str) -> tuple[str, Any]:
    return "/api/v1/access-log", None


async def b_export(w: World, c: Person, t: str) -> tuple[str, Any]:
    return f"/api/v1/cases/{await _case_ref(w, t)}/export?format=json", None


# (method, documented path) -> (how to build one request, scoped to the caller's team?)
MATRIX: dict[tuple[str, str], tuple[Build, bool]] = {
    ("GET", "/api/v1/queue"): (b_queue, False),
    ("POST", "/api/v1/queue/{item_id}/claim"): (b_claim, True),
    ("POST", "/api/v1/queue/{item_id}/done"): (b_done, True),
    ("POST", "/api/v1/queue/{item_id}/journalled"): (b_journalled, True),
    ("POST", "/api/v1/queue/{item_id}/reassign"): (b_reassign, True),
    ("GET", "/api/v1/cases/{ref}/messages"): (b_thread, True),
    ("GET", "/api/v1/messages/{message_id}"): (b_message, True),
    ("POST", "/api/v1/cases/{ref}/replies"): (b_reply, True),
    ("POST", "/api/v1/messages/{message_id}/reveal"): (b_reveal, True),
    ("GET", "/api/v1/attachments/{attachment_id}"): (b_attachment, True),
    ("POST", "/api/v1/triage/{message_id}/link"): (b_link, True),
    ("POST", "/api/v1/triage/{message_id}/spam"): (b_spam, True),
    ("POST", "/api/v1/triage/{message_id}/block"): (b_block, True),
    ("GET", "/api/v1/blocked-senders"): (b_blocked, False),
    ("POST", "/api/v1/blocked-senders/{blocked_id}/unblock"): (b_unblock, False),
    ("POST", "/api/v1/users/{user_id}/absence"): (b_absence, True),
    ("GET", "/api/v1/users"): (b_users, False),
    ("POST", "/api/v1/users"): (b_user_add, False),
    ("GET", "/api/v1/users/{user_id}"): (b_user, False),
    ("PATCH", "/api/v1/users/{user_id}"): (b_user_patch, False),
    ("DELETE", "/api/v1/users/{user_id}"): (b_user, False),
    ("GET", "/api/v1/users/{user_id}/tokens"): (b_tokens, False),
    ("POST", "/api/v1/users/{user_id}/tokens"): (b_token_add, False),
    ("DELETE", "/api/v1/tokens/{token_id}"): (b_token_revoke, False),
    ("GET", "/api/v1/cases"): (b_cases, False),
    ("POST", "/api/v1/cases"): (b_case_add, False),
    ("GET", "/api/v1/cases/{ref}"): (b_case, True),
    ("PATCH", "/api/v1/cases/{ref}"): (b_case_patch, True),
    ("DELETE", "/api/v1/cases/{ref}"): (b_case, True),
    ("POST", "/api/v1/cases/{ref}/contacts"): (b_contact_add, True),
    ("PATCH", "/api/v1/contacts/{contact_id}"): (b_contact_patch, False),
    ("DELETE", "/api/v1/contacts/{contact_id}"): (b_contact_delete, False),
    ("GET", "/api/v1/audit"): (b_audit, False),
    ("GET", "/api/v1/access-log"): (b_access_log, False),
    ("GET", "/api/v1/cases/{ref}/export"): (b_export, True),
    ("POST", "/api/v1/messages/{message_id}/risk-feedback"): (b_risk_feedback, True),
}

SCOPES = ("own", "other")


def expected(method: str, path: str, role: str, scope: str) -> str:
    """One cell of the table: "ok", "403" or "404"."""
    route = next(r for r in ROUTES if (r.method, r.path) == (method, path))
    _build, scoped = MATRIX[(method, path)]
    if role not in route.roles:
        return "403"
    if scoped and scope == "other" and role in ("caseworker", "team_lead"):
        return "404"
    return "ok"


def matrix_markdown() -> str:
    head = "| endpoint | " + " | ".join(f"{r} {s}" for r in ROLES for s in SCOPES) + " |"
    sep = "|---|" + "---|" * (len(ROLES) * len(SCOPES))
    rows = [
        f"| `{m} {p}` | " + " | ".join(expected(m, p, r, s) for r in ROLES for s in SCOPES) + " |"
        for (m, p) in MATRIX
    ]
    return "\n".join([head, sep, *rows])


def test_matrix_covers_every_route() -> None:
    assert {(r.method, r.path) for r in ROUTES} == set(MATRIX)


def test_docs_show_the_tested_matrix() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert matrix_markdown() in docs, "regenerate the table in docs/api.md from matrix_markdown()"


async def test_authorization_matrix(runtime: Runtime, gateway: RunningGateway) -> None:
    w = await make_world(runtime, gateway.web_port)
    mismatches = []
    exercised = set()
    for (method, path), (build, _scoped) in MATRIX.items():
        for role in ROLES:
            caller = w.person(role, TEAM_A)
            for scope in SCOPES:
                team = TEAM_A if scope == "own" else TEAM_B
                url, body = await build(w, caller, team)
                status, answer = await w.call(method, url, caller, body)
                got = "ok" if status in (200, 201, 202) else str(status)
                want = expected(method, path, role, scope)
                exercised.add((method, path))
                if got != want:
                    mismatches.append(
                        f"{method} {url} {role}/{scope}: want {want}, got {got} {answer}"
                    )
                if status >= 400:
                    assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}
    assert mismatches == []
    assert exercised == {(r.method, r.path) for r in ROUTES}


async def test_no_token_is_401_everywhere(runtime: Runtime, gateway: RunningGateway) -> None:
    w = await make_world(runtime, gateway.web_port)
    caller = w.person("admin", TEAM_A)
    # Every endpoint once with a wrong token: more failures than the lockout allows.
    throttles_for(runtime, runtime.settings).api.limit = 10_000
    for (method, _path), (build, _scoped) in MATRIX.items():
        url, body = await build(w, caller, TEAM_A)
        for token in (None, "cgw_not-a-token"):
            status, answer = await w.call(method, url, token, body)
            assert status == 401 and answer["error"]["code"] == "unauthenticated", (method, url)
