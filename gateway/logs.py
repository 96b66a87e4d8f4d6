"""Logging: structlog, JSON in production and console in a terminal, nothing personal.

Invariant 7: message bodies are never logged and phone numbers and e-mail addresses are masked.
The masking processor runs last before rendering, on every event, so a careless call site
cannot leak what it was handed.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway.core.classify import mask_for_log

# Keys whose values are message content: replaced, never rendered.
CONTENT_KEYS = frozenset(
    {
        "body",
        "text",
        "raw",
        "content",
        "subject",
        "html",
        "new_text",
        "redacted",
        "preview",
        "payload",
    }
)
# Values under these keys are identifiers we chose (case refs, route names), never personal data.
SAFE_KEYS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "case_ref",
        "case",
        "route",
        "path",
        "idempotency_key",
        "message_sid",
        "encoding",
        "channel",
        "rule",
        "triage",
        "detail",
        "queue",
        "state",
    }
)


# API tokens and Authorization values, however they reach a log line (a library quoting a
# malformed header, a URL, a repr). The token's first characters are never kept.
_SECRET = re.compile(
    r"(?i)(\bbearer\s+|\bbasic\s+|authorization\s*[:=]\s*(?:b?['\"])?(?:(?:bearer|basic|token)\s+)?|\bcgw_|"
    r"\bx-twilio-signature\s*[:=]\s*)[^\s'\",;]+"
)
# "kari hansen"@example.org: a quoted local part may hold spaces the address rules stop at.
_QUOTED_LOCAL = re.compile(r'"[^"\r\n]{1,64}"\s*@\s*[A-Za-z0-9.-]+')


def mask_secrets(value: str) -> str:
    """Tokens and credentials in free text replaced by ``[secret]``."""
    return _SECRET.sub(lambda m: m.group(1) + "[secret]", value)


def mask_address(value: str) -> str:
    """Mask phone numbers, e-mail addresses and national ids in free text (the classifier's rules)."""
    value = _QUOTED_LOCAL.sub("[email]", mask_secrets(value))
    return mask_for_log(value)


class MaskLibraryRecords(logging.Filter):
    """Rewrites a library's log record so no token or address in it is written.

    aiohttp logs a malformed request with its exception, whose text quotes the raw header
    line (an Authorization value included); the traceback is replaced by its first line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            lines = str(exc).strip().splitlines()
            message = f"{message}: {type(exc).__name__}: {lines[0] if lines else ''}"
            record.exc_info = None
            record.exc_text = None
        record.msg = mask_address(message)
        record.args = ()
        return True


_LIBRARY_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.internal")


def guard_library_loggers() -> None:
    """Put the masking filter on the web server's own loggers (once)."""
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskLibraryRecords) for f in logger.filters):
            logger.addFilter(MaskLibraryRecords())


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_address(value)
    if isinstance(value, dict):
        return {k: ("[omitted]" if k in CONTENT_KEYS else _mask_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


def scrub_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop content fields, mask addresses everywhere else."""
    for key in list(event_dict):
        if key in CONTENT_KEYS:
            event_dict[key] = "[omitted]"
        elif key not in SAFE_KEYS:
            event_dict[key] = _mask_value(event_dict[key])
    return event_dict


class _StderrLogger:
    """Writes to whatever sys.stderr is at the time (tests and daemons swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


_STDERR_LOGGER = _StderrLogger()  # holds nothing: one serves every logger


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _STDERR_LOGGER


# Library loggers never go below these levels: below them aiosmtpd logs every line of DATA
# (message bodies) and SQLAlchemy every statement; what they log at or above is masked.
LIBRARY_FLOORS = {
    "mail.log": logging.INFO,  # aiosmtpd
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
    "aiohttp": logging.INFO,
    "alembic": logging.WARNING,  # its INFO is start-up chatter ("Context impl ...") on every command
    "twilio": logging.WARNING,  # the Twilio client logs request parameters at INFO
}


class StructlogHandler(logging.Handler):
    """Hands every standard-library log record to structlog, through the same processors.

    The record's text is masked here as well, because structlog treats the event text as ours
    (``event`` is a safe key) while a library's text may quote an address or a number.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = mask_address(record.getMessage())
            fields: dict[str, Any] = {"logger": record.name}
            if record.exc_info:
                fields["exc_info"] = record.exc_info
            structlog.get_logger(record.name).log(record.levelno, event, **fields)
        except Exception:
            self.handleError(record)


def route_library_logs(level: int) -> None:
    """Route every standard-library logger (aiosmtpd, aiohttp, asyncio, SQLAlchemy, ...)
    through structlog: one handler on the root logger, none of the libraries' own."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StructlogHandler) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)  # configured twice, or a library's basicConfig
    root.addHandler(StructlogHandler())
    root.setLevel(level)
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(level, floor))
    logging.captureWarnings(True)


def restore_library_logs() -> None:
    """Undo ``route_library_logs`` (for tests and for programs that embed the gateway)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StructlogHandler):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for name in LIBRARY_FLOORS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.captureWarnings(False)


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Set up structlog; ``fmt`` is json, console or auto (console in a terminal)."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    route_library_logs(logging.getLevelNamesMapping()[level.upper()])
