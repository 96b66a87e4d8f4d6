"""The `log` SMS provider: records what would be sent, for running without Twilio credentials.

It logs the masked recipient and the segment count, never the body (invariant 7); the body
stays in the sealed outbound message where the case thread shows it.
"""

from __future__ import annotations

import structlog

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.core.sms import count_segments

log = structlog.get_logger("connectors.log_sms")


class LogSmsSender:
    def __init__(self) -> None:
        self.sent: list[OutboundEnvelope] = []

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        segments = count_segments(out.body)
        log.info(
            "sms.would_send",
            message_id=out.message_id,
            to=out.to,
            segments=segments.count,
            encoding=segments.encoding,
            idempotency_key=out.idempotency_key,
        )
        self.sent.append(out)
        return SendOutcome(ok=True, provider_id=f"LOG{out.idempotency_key[:28]}")
