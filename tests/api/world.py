"""A small service world for API tests: two teams, staff of every role, cases, contacts and
messages written straight into the database (the inbound path itself is tested elsewhere),
and an HTTP client against the real servers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from gateway.accounts import add_user, create_token
from gateway.intake import seal_into
from gateway.runtime import Runtime
from gateway.storage.db import utcnow
from gateway.storage.models import Attachment, Case, Contact, Message, QueueItem, User

TEAM_A = "Team Nord"
TEAM_B = "Team Sør"
ROLES = ("caseworker", "team_lead", "admin", "auditor")

_seq = itertools.count(1)


@dataclass
class Person:
    id: int
    email: str
    role: str
    team: str
    token: str


@dataclass
class Seeded:
    case_id: int
    ref: str
    contact_id: int
    phone: str


@dataclass
class World:
    rt: Runtime
    port: int
    staff: dict[tuple[str, str], Person] = field(default_factory=dict)  # (role, team) -> person

    def person(self, role: str, team: str = TEAM_A) -> Person:
        return self.staff[(role, team)]

    async def add_person(self, role: str, team: str, name: str | None = None) -> Person:
        n = next(_seq)
        email = f"{role}.{n}@barnevern.example.no"
        async with self.rt.db.transaction() as tx:
            user = await add_user(
                tx, email=email, name=name or f"{role} {n}", role=role, team=team, actor="test"
            )
            token, _ = await create_token(tx, user_email=email, actor="test")
        return Person(user.id, email, role, team, token)

    async def case(
        self, team: str, worker: Person | None = None, *, consent: bool = True
    ) -> Seeded:
        n = next(_seq)
        phone = f"+47412{n:05d}"
        async with self.rt.db.transaction() as tx:
            case = Case(
                ref=f"2026-{n:05d}",
                title="Oppfølging",
                team=team,
                caseworker_id=worker.id if worker else None,
                status="open",
                created_at=utcnow(),
            )
            tx.session.add(case)
            await tx.session.flush()
            contact = Contact(
                case_id=case.id,
                role="parent",
                name=f"Forelder {n}",
                phone=phone,
                email=f"forelder{n}@example.org",
                language="nb",
                consent_sms=consent,
                consent_email=consent,
                opted_out_sms=False,
                opted_out_email=False,
                verified=True,
            )
            tx.session.add(contact)
            await tx.session.flush()
        return Seeded(case.id, case.ref, contact.id, phone)

    async def inbound(
        self,
        case: Seeded | None,
        *,
        owner: str = "user",  # user | team | duty | triage | none
        owner_user: Person | None = None,
        team: str | None = None,
        text: str = "Hei, kan du ringe meg?",
        raw: bytes | None = None,
        channel: str = "sms",
        urgent: bool = False,
        attachment: bytes | None = None,
        sender: str | None = None,
    ) -> tuple[int, int | None]:
        """A stored inbound message and (unless owner is none) its queue item: (message, item)."""
        n = next(_seq)
        sender = sender or (case.phone if case else f"+47499{n:05d}")
        async with self.rt.db.transaction() as tx:
            sealed = await seal_into(
                tx,
                self.rt.keyring,
                raw if raw is not None else f"Body={text}&From={sender}".encode(),
                b"original",
            )
            m = Message(
                direction="in",
                channel=channel,
                provider_id=f"SMtest{n}",
                sender=sender,
                recipient="+4759440000",
                case_id=case.case_id if case else None,
                contact_id=case.contact_id if case else None,
                subject="",
                redacted_text=text,
                stripped={},
                sealed_id=sealed.id,
                classification={"labels": [], "entities": [], "risks": [], "match_rule": "sender"},
                priority="urgent" if urgent else "normal",
                status="received" if case else "triage",
                triage_reason=None if case else "unknown sender",
                flags={},
                created_at=utcnow(),
            )
            tx.session.add(m)
            await tx.session.flush()
            if attachment is not None:
                blob = await seal_into(tx, self.rt.keyring, attachment, b"attachment")
                tx.session.add(
                    Attachment(
                        message_id=m.id,
                        filename="brev.pdf",
                        content_type="application/pdf",
                        size=len(attachment),
                        sha256=blob.sha256,
                        sealed_id=blob.id,
                        verdict="kept",
                        reason="",
                    )
                )
            item_id = None
            if owner != "none":
                item = QueueItem(
                    message_id=m.id,
                    case_id=case.case_id if case else None,
                    owner_kind=owner,
                    owner_user_id=owner_user.id if owner_user else None,
                    owner_team=team,
                    urgent=urgent,
                    reason="test",
                    state="new",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                tx.session.add(item)
                await tx.session.flush()
                item_id = item.id
        return m.id, item_id

    async def user_row(self, user_id: int) -> User:
        async with self.rt.db.read() as s:
            u = await s.get(User, user_id)
        assert u is not None
        return u

    async def call(
        self,
        method: str,
        path: str,
        who: Person | str | None,
        body: Any = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        token = who.token if isinstance(who, Person) else who
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if raw is not None:
            kwargs["data"] = raw
            headers["Content-Type"] = "application/json"
        elif body is not None:
            kwargs["json"] = body
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"http://127.0.0.1:{self.port}{path}", **kwargs) as resp,
        ):
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()


async def make_world(rt: Runtime, port: int) -> World:
    """Staff of every role in two teams."""
    w = World(rt, port)
    for team in (TEAM_A, TEAM_B):
        for role in ROLES:
            w.staff[(role, team)] = await w.add_person(role, team)
    return w
