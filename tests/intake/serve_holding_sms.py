"""`case-gateway serve` that answers SMS but never files them (the second phase waits forever).

Everything else is the real command, in a process of its own: a test can have an SMS answered
200, know that it is not filed, and kill the process right there.

    python -m tests.intake.serve_holding_sms --config FILE serve
"""

from __future__ import annotations

import asyncio
import sys

import connectors.twilio_sms
from gateway.cli import main
from gateway.intake import IntakeFinish, IntakeResult
from gateway.receipts import HeldReceipt


async def never_filed(self: object, held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


if __name__ == "__main__":
    connectors.twilio_sms.SmsFiling.process_receipt = never_filed  # type: ignore[method-assign,assignment]
    sys.exit(main())
