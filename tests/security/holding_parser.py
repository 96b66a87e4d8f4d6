"""A parse function for the parser's worker processes that holds a marked message.

A message with an ``X-Test-Hold: /path`` header is held in the worker until that file
exists (or forever), then parsed as usual. Tests use it to keep a hostile message in flight
for as long as they need, without any timing in the test itself.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from connectors.email_parsing import ParseOutcome, parse_for_intake
from gateway.core.email import EmailLimits

_HOLD = re.compile(rb"(?m)^X-Test-Hold: (\S+)\r?$")


def held_parse(raw: bytes, limits: EmailLimits, trusted: str | None) -> ParseOutcome:
    match = _HOLD.search(raw[:4096])
    if match:
        release = Path(match.group(1).decode())
        while not release.exists():
            time.sleep(0.02)
    return parse_for_intake(raw, limits, trusted)
