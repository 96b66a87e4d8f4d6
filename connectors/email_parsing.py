"""Parsing inbound mail off the event loop, with a time budget per message.

The one event loop serves the API, the webhooks, the relay and every SMTP session, so no
message may hold it: the raw bytes go to a small pool of worker processes (started lazily,
a fixed number of them) which run the core's parser. A message that takes longer than
``email.parse_timeout_seconds`` has its worker process killed and replaced; the message is
still accepted, stored sealed as received and marked "unparsed — original kept", so the
family's words are never lost and nobody else waits for them.

Each worker slot is its own single-process executor: killing the process that holds a
hostile message never disturbs the messages other slots are parsing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import structlog

from gateway.core.email import (
    AttachmentInfo,
    EmailLimits,
    ParsedEmail,
    attachment_payloads,
    parse_email,
)

log = structlog.get_logger("connectors.email_parsing")

UNPARSED_LABEL = "unparsed — original kept"


@dataclass(frozen=True)
class ParseOutcome:
    """What the worker found, or why it found nothing (``unparsed`` is then the reason)."""

    parsed: ParsedEmail | None
    attachments: tuple[tuple[AttachmentInfo, bytes], ...] = ()
    unparsed: str | None = None


def parse_for_intake(raw: bytes, limits: EmailLimits, trusted: str | None) -> ParseOutcome:
    """Runs in a worker process: the parsed message and its attachments' bytes."""
    parsed = parse_email(raw, limits=limits, trusted_authserv_id=trusted)
    attachments: tuple[tuple[AttachmentInfo, bytes], ...] = ()
    if not parsed.over_limits:
        attachments = tuple(attachment_payloads(raw, limits))
    return ParseOutcome(parsed, attachments)


def _ready() -> bool:
    return True


class _Slot:
    """One worker process, created on first use and replaced after it is killed."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self.context = context
        self.executor: ProcessPoolExecutor | None = None

    async def started(self) -> ProcessPoolExecutor:
        if self.executor is None:
            executor = ProcessPoolExecutor(max_workers=1, mp_context=self.context)
            # Starting a process and importing the parser is not the message's time.
            await asyncio.wrap_future(executor.submit(_ready))
            self.executor = executor
        return self.executor

    def kill(self) -> None:
        executor, self.executor = self.executor, None
        if executor is None:
            return
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)


ParseFunction = Callable[[bytes, EmailLimits, "str | None"], ParseOutcome]


class ParserPool:
    """A fixed number of worker processes; each message gets one for at most ``timeout``.

    ``parse`` runs in the worker and must be importable there (a module-level function).
    """

    def __init__(
        self, workers: int, timeout: float, parse: ParseFunction = parse_for_intake
    ) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.parse_function = parse
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(self._context) for _ in range(self.workers)]
        self._free: asyncio.Queue[_Slot] | None = None
        self.recycled = 0
        weakref.finalize(self, _kill_all, self._slots)

    def _queue(self) -> asyncio.Queue[_Slot]:
        if self._free is None:
            self._free = asyncio.Queue()
            for slot in self._slots:
                self._free.put_nowait(slot)
        return self._free

    async def parse(self, raw: bytes, limits: EmailLimits, trusted: str | None) -> ParseOutcome:
        """The parsed message, or an outcome with ``unparsed`` set; never raises for the bytes."""
        free = self._queue()
        slot = await free.get()
        try:
            executor = await slot.started()
            future = asyncio.wrap_future(executor.submit(self.parse_function, raw, limits, trusted))
            try:
                return await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                slot.kill()
                self.recycled += 1
                log.warning("email.parse_over_budget", seconds=self.timeout, size=len(raw))
                return ParseOutcome(None, (), f"parsing took longer than {self.timeout:g} s")
            except BrokenProcessPool:
                # The worker died (out of memory, a crash in a C library): the message stays.
                slot.kill()
                self.recycled += 1
                log.warning("email.parse_worker_died", size=len(raw))
                return ParseOutcome(None, (), "the parser stopped on this message")
        except asyncio.CancelledError:
            # The session went away mid-parse: the worker must not keep chewing on it.
            slot.kill()
            raise
        finally:
            free.put_nowait(slot)

    def close(self) -> None:
        """Stop every worker process now (the gateway is stopping)."""
        _kill_all(self._slots)


def _kill_all(slots: list[_Slot]) -> None:
    for slot in slots:
        slot.kill()
