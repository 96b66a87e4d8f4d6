"""An admin never becomes, nor acts as, a content role (invariant 9); bad admin input is refused.

The rules live in gateway.accounts (the use cases), so the API, the admin page and any future
caller get them; these tests go through the real API and straight to the use cases.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.accounts import (
    AccountError,
    AccountForbidden,
    Staff,
    add_user,
    check_email,
    check_user_change,
    create_token,
)
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, User
from tests.api.world import TEAM_A, TEAM_B, make_world


async def test_admin_cannot_make_itself_a_caseworker_or_move_team(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin = w.person("admin", TEAM_A)
    for change in ({"role": "caseworker", "team": TEAM_A}, {"role": "team_lead"}, {"team": TEAM_B}):
        status, answer = await w.call("PATCH", f"/api/v1/users/{admin.id}", admin, change)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), change
    # Its own name is fine.
    status, _ = await w.call("PATCH", f"/api/v1/users/{admin.id}", admin, {"name": "Admin A"})
    assert status == 200
    async with runtime.db.read() as s:
        me = await s.get(User, admin.id)
    assert me is not None and me.role == "admin"
    # And its token still cannot read content.
    status, _ = await w.call("GET", "/api/v1/queue", admin)
    assert status == 403


async def test_admin_cannot_turn_an_admin_or_auditor_into_a_content_role(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin = w.person("admin", TEAM_A)
    other_admin = await w.add_person("admin", TEAM_A)
    auditor = await w.add_person("auditor", TEAM_A)
    for target in (other_admin, auditor):
        for role in ("caseworker", "team_lead"):
            status, answer = await w.call(
                "PATCH", f"/api/v1/users/{target.id}", admin, {"role": role}
            )
            assert (status, answer["error"]["code"]) == (403, "forbidden")
    # A caseworker may still become a team lead (both content roles), and an auditor an admin.
    worker = await w.add_person("caseworker", TEAM_A)
    status, _ = await w.call("PATCH", f"/api/v1/users/{worker.id}", admin, {"role": "team_lead"})
    assert status == 200
    status, _ = await w.call("PATCH", f"/api/v1/users/{auditor.id}", admin, {"role": "admin"})
    assert status == 200


async def test_admin_cannot_mint_tokens_for_content_roles(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin = w.person("admin", TEAM_A)
    for role in ("caseworker", "team_lead"):
        person = await w.add_person(role, TEAM_A)
        status, answer = await w.call("POST", f"/api/v1/users/{person.id}/tokens", admin, {})
        assert (status, answer["error"]["code"]) == (403, "forbidden")
        assert "tokens create" in answer["error"]["message"]
    auditor = await w.add_person("auditor", TEAM_A)
    status, made = await w.call("POST", f"/api/v1/users/{auditor.id}/tokens", admin, {})
    assert status == 201
    status, _ = await w.call("GET", "/api/v1/audit", made["token"])
    assert status == 200
    async with runtime.db.read() as s:
        events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "token.created")))
            .scalars()
            .all()
        )
    by_api = [e for e in events if e.details.get("via") == "api"]
    assert [(e.actor, e.subject) for e in by_api] == [(admin.email, f"user:{auditor.id}")]
    # Tokens made on the host (world setup uses the same path as the CLI) say so.
    assert all(e.details.get("via") == "host" for e in events if e not in by_api)


async def test_content_role_may_make_its_own_token_and_cli_is_audited(runtime: Runtime) -> None:
    async with runtime.db.transaction() as tx:
        user = await add_user(
            tx, email="ola@barnevern.example.no", name="Ola", role="caseworker", team="T", actor="t"
        )
        me = Staff(user.id, user.email, user.name, user.role, user.team)
        token, _ = await create_token(tx, user_email=user.email, actor=me, label="ny laptop")
        assert token.startswith("cgw_")
        admin = Staff(999, "admin@barnevern.example.no", "A", "admin", "T")
        with pytest.raises(AccountForbidden):
            await create_token(tx, user_email=user.email, actor=admin)
        await create_token(tx, user_email=user.email, actor="cli")
    async with runtime.db.read() as s:
        events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "token.created")))
            .scalars()
            .all()
        )
    assert [(e.actor, e.details["via"]) for e in events] == [
        ("ola@barnevern.example.no", "api"),
        ("cli", "host"),
    ]


def test_user_change_rules_as_a_table() -> None:
    admin = Staff(1, "a@x.no", "A", "admin", "T")

    def user(uid: int, role: str, team: str = "T") -> User:
        return User(id=uid, email=f"{uid}@x.no", name="N", role=role, team=team)

    forbidden = [
        (user(1, "admin"), {"role": "caseworker"}),
        (user(1, "admin"), {"team": "Other"}),
        (user(2, "admin"), {"role": "caseworker"}),
        (user(3, "auditor"), {"role": "team_lead"}),
    ]
    allowed = [
        (user(1, "admin"), {"name": "Nytt"}),
        (user(1, "admin"), {"team": "T", "role": "admin"}),  # no actual change
        (user(4, "caseworker"), {"role": "team_lead", "team": "Other"}),
        (user(5, "team_lead"), {"role": "admin"}),
    ]
    for target, change in forbidden:
        with pytest.raises(AccountForbidden):
            check_user_change(admin, target, change)
    for target, change in allowed:
        check_user_change(admin, target, change)


@pytest.mark.parametrize(
    "email",
    [
        "me@",
        "@x.no",
        "me@x",
        "me@x..no",
        "a b@x.no",
        "me@x.no\n",
        "me@-x.no",
        "me@@x.no",
        "m\x00@x.no",
    ],
)
def test_bad_staff_emails_are_refused(email: str) -> None:
    with pytest.raises(AccountError):
        check_email(email)


def test_good_staff_email_is_normalised() -> None:
    assert check_email(" Ola.Hansen@Barnevern.Example.no ") == "ola.hansen@barnevern.example.no"


async def test_admin_api_refuses_bad_addresses_and_control_characters(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin = w.person("admin", TEAM_A)
    good = {"email": "ny@barnevern.example.no", "name": "Ny", "role": "auditor", "team": TEAM_A}
    for bad in (
        {"email": "me@"},
        {"name": "Ny\nFalsk linje"},
        {"name": "Ny\u202eexe.doc"},
        {"team": "Team\r\nNord"},
        {"team": "Team\x00"},
    ):
        status, answer = await w.call("POST", "/api/v1/users", admin, {**good, **bad})
        assert status in (400, 422), (bad, status, answer)
    worker = await w.add_person("caseworker", TEAM_A)
    status, _ = await w.call("PATCH", f"/api/v1/users/{worker.id}", admin, {"name": "A\nB"})
    assert status == 400
    case = {"ref": "2026-1\n2026-2", "title": "Ny", "team": TEAM_A}
    status, _ = await w.call("POST", "/api/v1/cases", admin, case)
    assert status == 400
    status, _ = await w.call("POST", "/api/v1/cases", admin, {**case, "ref": "2026-77"})
    assert status == 201
    status, _ = await w.call(
        "POST", "/api/v1/cases/2026-77/contacts", admin, {"name": "Kari\x1b[31m", "role": "parent"}
    )
    assert status == 400
    status, created = await w.call("POST", "/api/v1/users", admin, good)
    assert status == 201 and created["email"] == "ny@barnevern.example.no"
