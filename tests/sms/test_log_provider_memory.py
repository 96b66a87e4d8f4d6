"""The `log` SMS provider (the default without Twilio credentials) keeps nothing it sent.

Every text a family sends is answered with a receipt, so a provider that held on to what it
sent would grow with every message for the life of the process.
"""

from __future__ import annotations

import gc
import weakref

from connectors.base import OutboundEnvelope
from connectors.log_sms import LogSmsSender


async def test_a_sent_reply_is_not_kept_by_the_log_provider() -> None:
    sender = LogSmsSender()
    envelope = OutboundEnvelope(
        message_id=7,
        channel="sms",
        to="+4791234567",
        body="Takk for meldingen. Vi svarer innen to virkedager.",
        idempotency_key="k" * 40,
    )
    gone = weakref.ref(envelope)
    outcome = await sender.send(envelope)
    assert outcome.ok
    del envelope
    gc.collect()
    assert gone() is None  # nothing in the sender (or the log call) holds the reply
