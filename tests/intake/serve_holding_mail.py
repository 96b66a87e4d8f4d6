"""`case-gateway serve` whose mail parser holds a marked message (``X-Test-Hold: /path``).

Everything else is the real command, in a process of its own: a test can answer a message
250, know that its processing has not finished, and kill the process right there.

    python -m tests.intake.serve_holding_mail --config FILE serve
"""

from __future__ import annotations

import functools
import sys

import connectors.email_in
from connectors.email_parsing import ParserPool
from gateway.cli import main
from tests.security.holding_parser import held_parse

if __name__ == "__main__":
    connectors.email_in.ParserPool = functools.partial(ParserPool, parse=held_parse)  # type: ignore[misc]
    sys.exit(main())
