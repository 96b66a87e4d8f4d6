"""Small readers over the database for the SMS tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from gateway.runtime import Runtime
from gateway.sealing import SealedBlob
from gateway.storage.models import AuditEvent, SealedOriginal


async def count(rt: Runtime, model: type, *where: Any) -> int:
    async with rt.db.read() as s:
        q: Any = select(func.count()).select_from(model)
        for clause in where:
            q = q.where(clause)
        return int((await s.execute(q)).scalar_one())


async def rows(rt: Runtime, model: type, *where: Any) -> list[Any]:
    async with rt.db.read() as s:
        q: Any = select(model)
        for clause in where:
            q = q.where(clause)
        return list((await s.execute(q.order_by(model.id))).scalars().all())  # type: ignore[attr-defined]


async def unseal(rt: Runtime, sealed_id: int | None, context: bytes) -> bytes:
    assert sealed_id is not None
    async with rt.db.read() as s:
        blob = await s.get(SealedOriginal, sealed_id)
    assert blob is not None
    return rt.keyring.open(SealedBlob(blob.key_id, blob.nonce, blob.ciphertext), context)


async def audit_actions(rt: Runtime) -> list[str]:
    async with rt.db.read() as s:
        return list((await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))).scalars())


async def drain_relay(rt: Runtime) -> None:
    while await rt.relay.run_once():
        pass


async def queued_reply(
    rt: Runtime, port: int, token: str, body: str = "Takk, vi ringer i morgen."
) -> int:
    """A family's text, then the caseworker's reply through the API; returns the reply's id."""
    from tests.helpers import api, post_twilio, processed, twilio_params

    assert (await post_twilio(port, twilio_params(body="Hei, ring meg")))[0] == 200
    await processed(rt)  # filed after the 200
    await drain_relay(rt)  # whatever the family's text itself caused (receipts) goes first
    status, answer = await api(
        port, "POST", "/api/v1/cases/2026-0412/replies", token, {"body": body}
    )
    assert status == 202, answer
    return int(answer["message_id"])


async def message(rt: Runtime, message_id: int) -> Any:
    from gateway.storage.models import Message

    async with rt.db.read() as s:
        return await s.get(Message, message_id)
