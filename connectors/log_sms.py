"""The `log` SMS provider: records what would be sent, for running without Twilio credentials.

It is the development provider. Every send logs the masked recipient, the number of characters
and segments and the encoding. The text itself is shown only in console logs (a developer's
terminal, ``log.format = "console"``): JSON logs are what production ships to a log store, and a
reply's body never goes there (invariant 7). The body always stays in the sealed outbound
message, where the case thread shows it.
"""

from __future__ import annotations

import structlog

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.core.sms import count_segments

log = structlog.get_logger("connectors.log_sms")


class LogSmsSender:
    def __init__(self, *, show_text: bool = False) -> None:
        # Nothing sent is kept here: the log line and the outbound message are the record. (A
        # list of every envelope sent grew with every reply for the life of the process.)
        self.show_text = show_text

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        segments = count_segments(out.body)
        fields: dict[str, object] = {
            "message_id": out.message_id,
            "to": out.to,
            "characters": len(out.body),
            "segments": segments.count,
            "encoding": segments.encoding,
            "idempotency_key": out.idempotency_key,
        }
        if self.show_text:
            # "sms_text" is not a content key, so the console shows it (development only).
            fields["sms_text"] = out.body
        log.info("sms.would_send", **fields)
        return SendOutcome(ok=True, provider_id=f"LOG{out.idempotency_key[:28]}")
