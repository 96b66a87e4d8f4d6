"""`case-gateway serve`: web, SMTP/LMTP and the relay on one event loop, stopped cleanly.

On SIGTERM: stop accepting new connections, let in-flight requests and SMTP sessions finish
(each writes in one transaction, so nothing is half-written), stop the relay after its current
job, close the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from connectors.email_in import ServiceMailHandler, drain_mail_servers, start_mail_servers
from gateway.audit import AuditSequencer
from gateway.core.classify import classify
from gateway.receipts import ReceiptWorker
from gateway.runtime import Runtime
from gateway.sdnotify import feed_watchdog, notify, watchdog_seconds
from gateway.web.app import AccessLog, make_app, make_metrics_app

log = structlog.get_logger("gateway.server")


@dataclass
class RunningGateway:
    runtime: Runtime
    runner: web.AppRunner
    web_port: int
    mail_servers: list[asyncio.Server]
    relay_task: asyncio.Task[None] | None
    stop_relay: asyncio.Event = field(default_factory=asyncio.Event)
    media_task: asyncio.Task[None] | None = None
    notifier_task: asyncio.Task[None] | None = None
    mail_handler: ServiceMailHandler | None = None
    sequencer_task: asyncio.Task[None] | None = None
    stop_sequencer: asyncio.Event = field(default_factory=asyncio.Event)
    metrics_runner: web.AppRunner | None = None
    metrics_port: int | None = None
    receipts: ReceiptWorker | None = None  # files SMS and mail committed as received
    receipts_task: asyncio.Task[None] | None = None
    stop_receipts: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def smtp_port(self) -> int | None:
        return (
            _port(self.mail_servers[0])
            if self.runtime.settings.smtp.enabled and self.mail_servers
            else None
        )

    @property
    def lmtp_port(self) -> int | None:
        if not self.runtime.settings.lmtp.enabled or self.runtime.settings.lmtp.socket:
            return None
        return _port(self.mail_servers[-1])

    async def stop(self) -> None:
        # Refuse new mail; let sessions in a transaction finish and get their 250.
        await drain_mail_servers(self.mail_servers, self.runtime.settings.smtp.drain_seconds)
        # Refuse new requests; in-flight webhooks get their receipt committed and their 200.
        await self.runner.cleanup()  # waits for in-flight requests (shutdown_timeout)
        # Take no more receipts; what is being processed may finish, the rest is handed back.
        self.stop_receipts.set()
        if self.receipts_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.receipts_task, timeout=60)
        if self.mail_handler is not None:
            self.mail_handler.close()  # the parser's worker processes
        if self.metrics_runner is not None:
            await self.metrics_runner.cleanup()
        self.stop_relay.set()
        if self.relay_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.relay_task, timeout=30)
        if self.media_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.media_task, timeout=30)
        if self.notifier_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.notifier_task, timeout=30)
        self.stop_sequencer.set()
        if self.sequencer_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sequencer_task, timeout=10)
        await self.runtime.close()
        log.info("gateway.stopped")


def _port(server: Any) -> int:
    # Any loop's server (asyncio's or uvloop's, which is no asyncio.Server) lists its sockets.
    return int(server.sockets[0].getsockname()[1])


async def start_gateway(runtime: Runtime, *, relay: bool = True) -> RunningGateway:
    """Start every part of the gateway on the running loop (ports 0 pick free ports)."""
    settings = runtime.settings
    runner = web.AppRunner(
        make_app(runtime),
        shutdown_timeout=15,
        access_log_class=AccessLog,
        access_log=logging.getLogger("aiohttp.access"),
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    await site.start()
    server = site._server  # aiohttp keeps the listening server here; we need its real port
    assert server is not None
    web_port = _port(server)
    handler = ServiceMailHandler(runtime.intake, settings)
    receipts = runtime.receipts  # the SMS webhook's; mail is committed and filed by it too
    receipts.processors["email"] = handler.process_receipt
    handler.receipts = receipts
    mail_servers = await start_mail_servers(handler, settings)
    gateway = RunningGateway(runtime, runner, web_port, mail_servers, None)
    gateway.mail_handler = handler
    gateway.receipts = receipts
    if settings.metrics.enabled:
        gateway.metrics_runner, gateway.metrics_port = await _start_metrics(runtime)
    # Every worker started here is supervised and reports to this gateway's /readyz.
    with runtime.workers.adopting():
        gateway.sequencer_task = asyncio.create_task(
            AuditSequencer(runtime.db).run(gateway.stop_sequencer), name="audit-sequencer"
        )
        # Also where no mail port is open: any instance finishes what a stopped one left.
        gateway.receipts_task = asyncio.create_task(
            receipts.run(gateway.stop_receipts, settings.smtp.drain_seconds), name="receipts"
        )
        if relay:
            gateway.relay_task = asyncio.create_task(
                runtime.relay.run(gateway.stop_relay), name="relay"
            )
            if runtime.media is not None:
                gateway.media_task = asyncio.create_task(
                    runtime.media.run(gateway.stop_relay), name="media"
                )
            if runtime.notifier is not None:
                gateway.notifier_task = asyncio.create_task(
                    runtime.notifier.run(gateway.stop_relay), name="notifier"
                )
    log.info(
        "gateway.started",
        web_port=web_port,
        smtp_port=gateway.smtp_port,
        lmtp_port=gateway.lmtp_port,
        metrics_port=gateway.metrics_port,
        event_loop=event_loop_name(),
    )
    return gateway


def settle_startup_objects() -> None:
    """Exempt what start-up built from the garbage collector's full passes.

    Start-up leaves some 130,000 objects that live as long as the process (the classifier's
    tables, the models, compiled statements). A full collection walks every one of them, and
    under load it held the event loop for 150-250 ms at a time while requests waited; frozen
    (``gc.freeze``), they are skipped and a full pass walks only what serving has made since.
    Garbage from start-up is collected first, so nothing that is garbage stays frozen.

    The classifier loads its risk model on first use: one message classified here loads it
    (and warms its caches) before any request waits, instead of while the first message is
    filed (it held the loop for ~350 ms), and it is frozen with the rest.
    """
    classify("Hei, kan vi flytte møtet til tirsdag?")
    gc.collect()
    gc.freeze()


def event_loop_name() -> str:
    """Which event loop runs the gateway ("uvloop" or "asyncio"), for the start-up log line."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


async def _start_metrics(runtime: Runtime) -> tuple[web.AppRunner, int]:
    metrics = runtime.settings.metrics
    runner = web.AppRunner(make_metrics_app(runtime), shutdown_timeout=5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, metrics.host, metrics.port)
    await site.start()
    server = site._server
    assert server is not None
    return runner, _port(server)


async def serve(runtime: Runtime) -> int:
    ok, detail = await runtime.db.ready()
    if not ok:
        log.error("gateway.not_ready", detail=detail)
        print(f"case-gateway: {detail}")
        await runtime.close()
        return 1
    settle_startup_objects()  # before anything listens: no request waits for it
    # A port taken by another process propagates: the command prints one line naming the setting.
    gateway = await start_gateway(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    notify(f"READY=1\nSTATUS=serving on port {gateway.web_port}")
    interval = watchdog_seconds() if runtime.settings.workers.watchdog else None
    watchdog = (
        asyncio.create_task(feed_watchdog(interval, stop), name="watchdog") if interval else None
    )
    await stop.wait()
    log.info("gateway.stopping")
    notify("STOPPING=1")
    if watchdog is not None:
        await watchdog
    await gateway.stop()
    return 0
