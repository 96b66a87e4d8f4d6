"""Administration: users, tokens (expiry, revocation), cases and contacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gateway.accounts import create_token
from gateway.cli import main as cli_main
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.db import utcnow
from gateway.storage.models import ApiToken, AuditEvent
from tests.api.world import TEAM_A, TEAM_B, make_world


async def test_users_crud_and_deactivation_revokes_tokens(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin = w.person("admin", TEAM_A)
    body = {
        "email": "Mari@Barnevern.example.no",
        "name": "Mari",
        "role": "caseworker",
        "team": TEAM_A,
    }
    status, user = await w.call("POST", "/api/v1/users", admin, body)
    assert (status, user["email"], user["active"]) == (201, "mari@barnevern.example.no", True)
    status, answer = await w.call("POST", "/api/v1/users", admin, body)
    assert status == 409
    status, answer = await w.call(
        "POST", "/api/v1/users", admin, {**body, "email": "x@y.no", "role": "boss"}
    )
    assert status == 400 and "role" in answer["error"]["message"]
    status, token = await w.call("POST", f"/api/v1/users/{user['id']}/tokens", admin, {"days": 400})
    assert status == 400
    # A caseworker's token comes from the caseworker (or the host's CLI), never from an admin.
    status, answer = await w.call(
        "POST", f"/api/v1/users/{user['id']}/tokens", admin, {"days": 30, "label": "laptop"}
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    async with runtime.db.transaction() as tx:
        raw, _ = await create_token(tx, user_email=user["email"], actor="cli", label="laptop")
    token = {"token": raw}
    status, _ = await w.call("GET", "/api/v1/queue", token["token"])
    assert status == 200
    _, tokens = await w.call("GET", f"/api/v1/users/{user['id']}/tokens", admin)
    assert [t["label"] for t in tokens["items"]] == ["laptop"]
    assert "token" not in tokens["items"][0] and "token_hash" not in tokens["items"][0]
    status, changed = await w.call("PATCH", f"/api/v1/users/{user['id']}", admin, {"team": TEAM_B})
    assert (status, changed["team"]) == (200, TEAM_B)
    status, gone = await w.call("DELETE", f"/api/v1/users/{user['id']}", admin)
    assert (status, gone["active"]) == (200, False)
    status, _ = await w.call("GET", "/api/v1/queue", token["token"])
    assert status == 401
    status, _ = await w.call("DELETE", f"/api/v1/users/{admin.id}", admin)
    assert status == 409
    _, users = await w.call("GET", "/api/v1/users", admin)
    assert user["id"] in [u["id"] for u in users["items"]]


async def test_expired_and_revoked_tokens_are_refused(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin, worker = w.person("admin", TEAM_A), w.person("caseworker", TEAM_A)
    lead = w.person("team_lead", TEAM_A)
    async with runtime.db.transaction() as tx:
        await tx.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == worker.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    status, body = await w.call("GET", "/api/v1/queue", worker)
    assert status == 401
    async with runtime.db.read() as s:
        token_id = (
            await s.execute(select(ApiToken.id).where(ApiToken.user_id == lead.id))
        ).scalar_one()
    status, body = await w.call("DELETE", f"/api/v1/tokens/{token_id}", admin)
    assert (status, body["was_live"]) == (200, True)
    status, _ = await w.call("GET", "/api/v1/queue", lead)
    assert status == 401
    status, _ = await w.call("DELETE", "/api/v1/tokens/999999", admin)
    assert status == 404


async def test_cases_and_contacts_crud(runtime: Runtime, gateway: RunningGateway) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin, worker = w.person("admin", TEAM_A), w.person("caseworker", TEAM_A)
    status, case = await w.call(
        "POST",
        "/api/v1/cases",
        admin,
        {"ref": "2026-9001", "title": "Ny", "team": TEAM_A, "caseworker_id": admin.id},
    )
    assert status == 422 and "never" in case["error"]["message"]  # an admin is never a caseworker
    status, case = await w.call(
        "POST",
        "/api/v1/cases",
        admin,
        {
            "ref": "2026-9001",
            "title": "Ny",
            "team": TEAM_A,
            "caseworker_id": w.person("caseworker", TEAM_B).id,
        },
    )
    assert status == 422  # not in the case's team
    status, case = await w.call(
        "POST",
        "/api/v1/cases",
        admin,
        {"ref": "2026-9001", "title": "Ny", "team": TEAM_A, "caseworker_id": worker.id},
    )
    assert status == 201 and case["caseworker_id"] == worker.id
    status, _ = await w.call(
        "POST", "/api/v1/cases", admin, {"ref": "2026-9001", "title": "Ny", "team": TEAM_A}
    )
    assert status == 409
    status, answer = await w.call("PATCH", f"/api/v1/users/{worker.id}", admin, {"role": "admin"})
    assert (status, answer["error"]["code"]) == (409, "has_cases")
    status, contact = await w.call(
        "POST",
        "/api/v1/cases/2026-9001/contacts",
        admin,
        {"name": "Kari", "phone": "912 34 567", "consent_sms": True},
    )
    assert status == 201 and contact["phone"] == "+4791234567" and contact["consent_sms"] is True
    status, answer = await w.call(
        "POST", "/api/v1/cases/2026-9001/contacts", admin, {"name": "Ola", "phone": "12"}
    )
    assert status == 422 and answer["error"]["code"] == "bad_phone"
    status, changed = await w.call(
        "PATCH",
        f"/api/v1/contacts/{contact['id']}",
        admin,
        {"opted_out_sms": True, "email": "Kari@Example.org"},
    )
    assert (status, changed["opted_out_sms"], changed["email"]) == (200, True, "kari@example.org")
    status, seen = await w.call("GET", "/api/v1/cases/2026-9001", worker)
    assert status == 200 and [c["name"] for c in seen["contacts"]] == ["Kari"]
    status, _ = await w.call("GET", "/api/v1/cases/2026-9001", w.person("caseworker", TEAM_B))
    assert status == 404
    _, listed = await w.call("GET", "/api/v1/cases?status=open", worker)
    assert "2026-9001" in [c["ref"] for c in listed["items"]]
    status, _ = await w.call("PATCH", "/api/v1/cases/2026-9001", admin, {"status": "closed"})
    assert status == 200
    status, answer = await w.call(
        "POST",
        "/api/v1/cases/2026-9001/replies",
        worker,
        {"body": "Hei", "contact_id": contact["id"]},
    )
    assert (status, answer["error"]["code"]) == (409, "case_closed")
    status, _ = await w.call("PATCH", "/api/v1/cases/2026-9001", admin, {"caseworker_id": None})
    assert status == 200
    status, _ = await w.call("DELETE", f"/api/v1/contacts/{contact['id']}", admin)
    assert status == 200
    status, _ = await w.call("DELETE", "/api/v1/cases/2026-9001", admin)
    assert status == 200
    status, _ = await w.call("GET", "/api/v1/cases/2026-9001", admin)
    assert status == 404
    with_mail = await w.case(TEAM_A, worker)
    await w.inbound(with_mail, owner="none")
    status, answer = await w.call("DELETE", f"/api/v1/cases/{with_mail.ref}", admin)
    assert (status, answer["error"]["code"]) == (409, "has_messages")
    status, answer = await w.call("DELETE", f"/api/v1/contacts/{with_mail.contact_id}", admin)
    assert (status, answer["error"]["code"]) == (409, "has_messages")
    async with runtime.db.read() as s:
        actions = set(
            (
                await s.execute(select(AuditEvent.action).where(AuditEvent.actor == admin.email))
            ).scalars()
        )
    assert {
        "case.created",
        "case.changed",
        "case.deleted",
        "contact.created",
        "contact.changed",
        "contact.deleted",
    } <= actions


def test_cli_tokens_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASE_GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")

    (tmp_path / "none.toml").write_text("")  # an empty configuration: defaults + environment

    def cli(*args: str) -> int:
        return cli_main(["--config", str(tmp_path / "none.toml"), *args])

    assert cli("migrate") == 0
    user = ("--email", "a@b.no", "--name", "A", "--role", "caseworker", "--team", "T")
    assert cli("users", "add", *user) == 0
    assert cli("tokens", "create", "--user", "a@b.no") == 0
    assert cli("tokens", "create", "--user", "a@b.no") == 0
    capsys.readouterr()
    assert cli("tokens", "revoke", "--user", "a@b.no") == 0
    assert "2 token(s) revoked" in capsys.readouterr().out
    assert cli("tokens", "revoke", "--user", "nobody@b.no") == 2


async def test_import_refuses_an_admin_as_caseworker(runtime: Runtime) -> None:
    from gateway.accounts import add_user
    from gateway.casefiles import CaseRow, ImportError_, apply_import

    async with runtime.db.transaction() as tx:
        await add_user(tx, email="admin@b.no", name="A", role="admin", team=TEAM_A, actor="test")
    with pytest.raises(ImportError_, match=r"line 3: case 2026-1: admin@b\.no has the admin role"):
        async with runtime.db.transaction() as tx:
            await apply_import(
                tx, [CaseRow(3, "2026-1", "T", TEAM_A, "admin@b.no", "open")], "test"
            )


async def test_changing_the_caseworker_moves_unclaimed_items_to_the_new_one(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin, old = w.person("admin", TEAM_A), w.person("caseworker", TEAM_A)
    new = await w.add_person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, old)
    _, unclaimed = await w.inbound(case, owner="user", owner_user=old, team=TEAM_A)
    _, started = await w.inbound(case, owner="user", owner_user=old, team=TEAM_A)
    assert (await w.call("POST", f"/api/v1/queue/{started}/claim", old))[0] == 200
    status, _ = await w.call("PATCH", f"/api/v1/cases/{case.ref}", admin, {"caseworker_id": new.id})
    assert status == 200
    _, mine = await w.call("GET", "/api/v1/queue", new)
    assert [i["id"] for i in mine["items"]] == [unclaimed]
    _, theirs = await w.call("GET", "/api/v1/queue", old)
    assert [i["id"] for i in theirs["items"]] == [started]  # what they started stays with them
    status, _ = await w.call("PATCH", f"/api/v1/cases/{case.ref}", admin, {"caseworker_id": None})
    _, team_queue = await w.call("GET", "/api/v1/queue", w.person("team_lead", TEAM_A))
    assert unclaimed in [i["id"] for i in team_queue["items"]]


async def test_admin_sets_a_persons_notification_digest(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    admin, worker = w.person("admin", TEAM_A), w.person("caseworker", TEAM_A)
    status, user = await w.call(
        "PATCH", f"/api/v1/users/{worker.id}", admin, {"notify_digest_minutes": 30}
    )
    assert status == 200 and user["notify_digest_minutes"] == 30
    assert (await w.user_row(worker.id)).notify_digest_minutes == 30
    status, _ = await w.call(
        "PATCH", f"/api/v1/users/{worker.id}", admin, {"notify_digest_minutes": -5}
    )
    assert status == 400
    status, user = await w.call(
        "PATCH", f"/api/v1/users/{worker.id}", admin, {"notify_digest_minutes": None}
    )
    assert status == 200 and user["notify_digest_minutes"] is None
