"""``case-gateway inspect-email FILE --json``: show what the gateway makes of one e-mail file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from gateway.core.email import EmailLimits, parse_email

# Larger files are not e-mail the gateway would ever accept; refuse before reading them whole.
MAX_FILE_BYTES = 100 * 1024 * 1024


def inspect_email_main(
    path: str,
    stdout: TextIO,
    *,
    limits: EmailLimits = EmailLimits(),  # noqa: B008 - frozen, so sharing it is safe
    trusted_authserv_id: str | None = None,
) -> int:
    """Print one JSON object describing the message in ``path``; return the exit status.

    0 with the parse result, or 2 with ``{"error": ...}`` when the file cannot be read or
    holds nothing recognisable as e-mail (empty, or no header fields at all).
    """
    try:
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            return _error(stdout, f"file is larger than {MAX_FILE_BYTES} bytes")
        raw = file.read_bytes()
    except (OSError, ValueError) as exc:
        return _error(
            stdout,
            f"cannot read file: {exc.strerror or type(exc).__name__}"
            if isinstance(exc, OSError)
            else f"cannot read file: {type(exc).__name__}",
        )
    if not raw.strip():
        return _error(stdout, "empty file: no e-mail message to parse")
    parsed = parse_email(raw, limits=limits, trusted_authserv_id=trusted_authserv_id)
    if parsed.header_count == 0:
        return _error(stdout, "not an e-mail message: no header fields found", parsed.defects)
    _write(stdout, parsed.to_inspect_json())
    return 0


def _error(stdout: TextIO, message: str, defects: tuple[str, ...] = ()) -> int:
    _write(stdout, {"error": message, "defects": list(defects)})
    return 2


def _write(stdout: TextIO, obj: dict[str, object]) -> None:
    try:
        stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
    except UnicodeEncodeError:
        # A terminal that cannot show æøå still gets every character, escaped.
        stdout.write(json.dumps(obj, ensure_ascii=True, indent=2) + "\n")
