"""Any internal failure (not only a dead database) is a temporary error and leaves nothing behind;
mail committed as received is kept through any failure of its processing and filed once it works."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateway.intake import IntakeContext
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, InboundReceipt, Message, SealedOriginal
from tests.conftest import make_settings
from tests.email.conftest import mail_gateway
from tests.foundation.test_email_intake import SERVICE, mail, smtp_session
from tests.helpers import post_twilio, processed, seed_case, twilio_params


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


async def test_a_failing_policy_keeps_the_mail_and_files_it_once_it_works(
    sqlite_url: str,
) -> None:
    """The mail is committed as received and answered 250; its processing fails in a policy
    hook, which rolls back everything of it, and is retried until it succeeds."""
    settings = make_settings(
        sqlite_url, email={"receipt_poll_seconds": 0.05, "receipt_max_attempts": 1000}
    )
    async with mail_gateway(settings) as (rt, gw):
        await seed_case(rt)
        before = await counts(rt)
        rt.intake.hooks.append(broken_policy)
        out = await asyncio.to_thread(smtp_session, gw.smtp_port, [SERVICE], mail())
        assert out["data"] == (250, b"2.0.0 Message accepted for delivery")
        await processed(gw)  # the first attempt ran, and failed
        assert await counts(rt) == before  # nothing of it half-written
        async with rt.db.read() as s:
            receipt = (await s.execute(select(InboundReceipt))).scalar_one()
        assert receipt.last_error == "RuntimeError"  # kept, with the reason, for the next try
        rt.intake.hooks.remove(broken_policy)
        await gw.receipts.until_drained()  # type: ignore[union-attr]
        assert (await counts(rt))[0] == before[0] + 1
        async with rt.db.read() as s:
            assert (await s.execute(select(InboundReceipt))).first() is None
