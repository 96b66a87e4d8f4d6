"""Any internal failure (not only a dead database) is a temporary error and leaves nothing behind;
an SMS or mail committed as received is kept through any failure of its filing and filed once it
works."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.intake import IntakeContext
from gateway.runtime import Runtime
from gateway.sealing import Keyring, SealedBlob
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


async def test_webhook_answers_503_and_keeps_nothing_when_the_receipt_cannot_be_written(
    runtime: Runtime, gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_case(runtime)
    before = await counts(runtime)

    def broken_seal(self: Keyring, data: bytes, context: bytes = b"") -> SealedBlob:
        raise RuntimeError("sealing failed")

    with monkeypatch.context() as m:
        m.setattr(Keyring, "seal", broken_seal)
        status, body = await post_twilio(gateway.web_port, twilio_params())
    assert status == 503 and "retry" in body
    assert await counts(runtime) == before
    assert await receipts(runtime) == 0
    assert (await post_twilio(gateway.web_port, twilio_params()))[0] == 200  # Twilio's retry lands
    await processed(gateway)
    assert (await counts(runtime))[0] == before[0] + 1


async def test_a_failing_policy_keeps_the_sms_and_files_it_once_it_works(
    sqlite_url: str,
) -> None:
    """The SMS is committed as received and answered 200; its filing fails in a policy hook,
    which rolls back everything of it, and is retried until it succeeds."""
    settings = make_settings(sqlite_url, email={"receipt_poll_seconds": 0.05})
    async with mail_gateway(settings) as (rt, gw):
        await seed_case(rt)
        before = await counts(rt)
        rt.intake.hooks.append(broken_policy)
        assert (await post_twilio(gw.web_port, twilio_params()))[0] == 200
        await processed(gw)  # the first attempt ran, and failed
        assert await counts(rt) == before  # nothing of it half-written
        async with rt.db.read() as s:
            receipt = (await s.execute(select(InboundReceipt))).scalar_one()
        assert receipt.channel == "sms" and receipt.last_error == "RuntimeError"
        rt.intake.hooks.remove(broken_policy)
        assert gw.receipts is not None
        await gw.receipts.until_drained()
        assert (await counts(rt))[0] == before[0] + 1
        assert await receipts(rt) == 0


async def receipts(rt: Runtime) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(InboundReceipt))).scalar_one())


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
