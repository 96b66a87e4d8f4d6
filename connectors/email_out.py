"""E-mail replies: composed in the core, handed to the configured relay (Postfix) with aiosmtplib.

4xx answers and lost connections are retried by the relay worker; 5xx answers are permanent.
"""

from __future__ import annotations

import aiosmtplib
import structlog

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.core.email import compose_reply
from gateway.settings import Settings

log = structlog.get_logger("connectors.email_out")


class SmtpRelaySender:
    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
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
        try:
            await aiosmtplib.send(
                raw,
                sender=email.service_address,
                recipients=[out.to],
                hostname=email.relay_host,
                port=email.relay_port,
                timeout=self.timeout,
                start_tls=False,
                use_tls=False,
            )
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            return SendOutcome(
                False, permanent=permanent, error_code=str(exc.code), error_text=exc.message[:500]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return SendOutcome(
                False,
                permanent=500 <= first.code < 600,
                error_code=str(first.code),
                error_text=first.message[:500],
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return SendOutcome(
                False, error_text=f"mail relay unreachable: {exc.__class__.__name__}"
            )
        return SendOutcome(True, provider_id=out.email_message_id)
