"""Any internal failure (not only a dead database) is a temporary error and leaves nothing behind."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateway.intake import IntakeContext
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Message, SealedOriginal
from tests.foundation.test_email_intake import SERVICE, mail, smtp_session
from tests.helpers import post_twilio, seed_case, twilio_params


async def broken_policy(ctx: IntakeContext) -> None:
    raise RuntimeError("a policy hook failed")


async def counts(rt: Runtime) -> tuple[int, int, int]:
    async with rt.db.read() as s:
        return (
            int((await s.execute(select(func.count()).select_from(Message))).scalar_one()),
            int((await s.execute(select(func.count()).select_from(SealedOriginal))).scalar_one()),
            int((await s.execute(select(func.count()).select_from(AuditEvent))).scalar_one()),
        )


async def test_webhook_answers_503_and_rolls_back(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    before = await counts(runtime)
    runtime.intake.hooks.append(broken_policy)
    status, body = await post_twilio(gateway.web_port, twilio_params())
    assert status == 503 and "try again" in body
    assert await counts(runtime) == before
    runtime.intake.hooks.remove(broken_policy)
    assert (await post_twilio(gateway.web_port, twilio_params()))[0] == 200  # Twilio's retry lands
    assert (await counts(runtime))[0] == before[0] + 1


async def test_smtp_answers_451_and_rolls_back(runtime: Runtime, gateway: RunningGateway) -> None:
    await seed_case(runtime)
    before = await counts(runtime)
    runtime.intake.hooks.append(broken_policy)
    out = await asyncio.to_thread(smtp_session, gateway.smtp_port, [SERVICE], mail())
    assert out["data"] == (451, b"4.3.0 Temporary failure storing the message; try again later")
    assert await counts(runtime) == before
    runtime.intake.hooks.remove(broken_policy)
    out = await asyncio.to_thread(smtp_session, gateway.smtp_port, [SERVICE], mail())
    assert out["data"][0] == 250  # type: ignore[index]
