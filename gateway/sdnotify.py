"""systemd's notify protocol (sd_notify) without libsystemd: one datagram per state change.

With ``Type=notify`` systemd waits for ``READY=1`` before it counts the service as started,
and with ``WatchdogSec=`` it restarts the service when ``WATCHDOG=1`` stops arriving: the
pings come from the event loop itself, so a stalled loop is a dead service.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger("gateway.sdnotify")


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``READY=1``) to $NOTIFY_SOCKET; False when not run by systemd."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("sdnotify.failed", error=exc.__class__.__name__)
        return False
    return True


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog interval systemd asked this process for (WatchdogSec=), if any."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for another process (our parent, say)
    return int(usec) / 1_000_000


async def feed_watchdog(
    interval: float, stop: asyncio.Event, environ: Mapping[str, str] | None = None
) -> None:
    """Ping ``WATCHDOG=1`` at half the interval until ``stop`` is set."""
    while not stop.is_set():
        notify("WATCHDOG=1", environ)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval / 2)
        except TimeoutError:
            pass
