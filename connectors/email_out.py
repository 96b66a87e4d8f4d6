"""E-mail replies: composed in the core, handed to the configured relay (Postfix) with aiosmtplib.

4xx answers and lost connections are retried by the relay worker; 5xx answers are permanent.

The mail relay keeps no list we could read back, so the relay worker keeps its own record:
``send_recorded`` awaits the worker's ``handing_over`` (which durably notes the hand-over)
right before DATA. A connection lost or a timeout before that point cannot have delivered
anything: a plain retry. Lost after it (DATA sent, no final answer), the relay may have queued
the message: the outcome is *ambiguous*, and the worker decides what a resend means.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosmtplib
import structlog

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.core.email import compose_reply
from gateway.settings import Settings

log = structlog.get_logger("connectors.email_out")


async def _no_record() -> None:
    return None


class SmtpRelaySender:
    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        """Send without a record of the hand-over (the relay worker uses ``send_recorded``)."""
        return await self.send_recorded(out, _no_record)

    async def send_recorded(
        self, out: OutboundEnvelope, handing_over: Callable[[], Awaitable[None]]
    ) -> SendOutcome:
        email = self.settings.email
        try:
            raw = compose_reply(
                from_address=email.service_address,
                from_name=email.display_name,
                to_address=out.to,
                subject=out.subject,
                body=out.body,
                message_id=out.email_message_id or "",
                reply_to=out.reply_to,
                in_reply_to=out.in_reply_to,
                references=out.references,
                auto_reply=out.auto_reply,
            )
        except ValueError:
            # Trying again cannot help: say so on the case at once instead of retrying.
            return SendOutcome(
                False,
                permanent=True,
                error_code="bad_address",
                error_text=(
                    "The e-mail address on record cannot be used for a reply (replies go only "
                    "to plain ASCII addresses); check the address or reply by SMS or letter."
                ),
            )
        client = aiosmtplib.SMTP(
            hostname=email.relay_host,
            port=email.relay_port,
            timeout=self.timeout,
            start_tls=False,
            use_tls=False,
        )
        handed_over = accepted = False
        try:
            async with client:  # QUIT on the way out; its failure is ignored by aiosmtplib
                await client.mail(email.service_address)  # EHLO (or HELO) first, as needed
                await client.rcpt(out.to)
                try:
                    await handing_over()
                except Exception as exc:  # no record, no hand-over: nothing leaves
                    return SendOutcome(
                        False,
                        error_text=(
                            f"not sent: the hand-over could not be recorded "
                            f"({exc.__class__.__name__}); will retry"
                        ),
                    )
                handed_over = True
                await client.data(raw)
                accepted = True
        except aiosmtplib.SMTPResponseException as exc:  # the relay answered: a definite no
            if accepted:
                return SendOutcome(True, provider_id=out.email_message_id)
            permanent = 500 <= exc.code < 600
            return SendOutcome(
                False, permanent=permanent, error_code=str(exc.code), error_text=exc.message[:500]
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if accepted:  # lost after the final 250: it has the message
                return SendOutcome(True, provider_id=out.email_message_id)
            if handed_over:
                log.warning(
                    "email_out.answer_lost_after_data",
                    message_id=out.message_id,
                    error=exc.__class__.__name__,
                )
                return SendOutcome(
                    False,
                    ambiguous=True,
                    error_text=(
                        f"the mail relay's answer to the message was lost "
                        f"({exc.__class__.__name__}); it may have it"
                    ),
                )
            return SendOutcome(
                False, error_text=f"mail relay unreachable: {exc.__class__.__name__}"
            )
        return SendOutcome(True, provider_id=out.email_message_id)
