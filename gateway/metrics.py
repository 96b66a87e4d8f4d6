"""Prometheus metrics, defined once (served by the metrics listener, see gateway/backlog.py).

Names follow Prometheus conventions: counters end in ``_total``, durations are ``_seconds``
histograms, timestamps are ``_timestamp_seconds``. Labels never carry personal data.
"""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from prometheus_client import Counter, Gauge, Histogram, Info

from gateway.version import version

HTTP_REQUESTS = Counter(
    "case_gateway_http_requests_total", "HTTP requests answered", ["route", "status"]
)
HTTP_REQUEST_SECONDS = Histogram(
    "case_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern",
    ["route", "method"],
)
MESSAGES_IN = Counter(
    "case_gateway_messages_received_total", "Inbound messages by outcome", ["channel", "outcome"]
)
INTAKE_SECONDS = Histogram(
    "case_gateway_intake_duration_seconds",
    "Time from receiving an inbound message to its commit (what the sender waits for)",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
MESSAGES_OUT = Counter(
    "case_gateway_messages_sent_total", "Outbound messages the provider accepted", ["channel"]
)
SEND_ATTEMPTS = Counter(
    "case_gateway_send_attempts_total",
    "Outbound send attempts by outcome (sent, retry, dead)",
    ["channel", "outcome"],
)
WORKER_LAST_SUCCESS = Gauge(
    "case_gateway_worker_last_success_timestamp_seconds",
    "Unix time of the last completed pass of each background worker",
    ["worker"],
)
WORKER_RESTARTS = Counter(
    "case_gateway_worker_restarts_total",
    "Background worker restarts after an unexpected error",
    ["worker"],
)
OUTBOX_DUE = Gauge(
    "case_gateway_outbox_due", "Outbox jobs due now and not yet done, by kind", ["kind"]
)
OUTBOX_DEAD = Gauge(
    "case_gateway_outbox_dead", "Outbox jobs given up on (dead letters), by kind", ["kind"]
)
QUEUE_OLDEST_SECONDS = Gauge(
    "case_gateway_queue_oldest_unclaimed_age_seconds",
    "Age of the oldest new (unclaimed) queue item, by team (duty and triage by their own name)",
    ["team"],
)
MEDIA_PENDING = Gauge(
    "case_gateway_media_pending", "MMS media not yet fetched and sealed (pending or in progress)"
)
NOTIFICATIONS_PENDING = Gauge(
    "case_gateway_notifications_pending", "Staff notifications waiting to be sent"
)
RECEIPTS_WAITING = Gauge(
    "case_gateway_receipts_waiting",
    "Inbound messages committed and answered but not yet processed (all instances), by channel",
    ["channel"],
)
RECEIPTS_OLDEST_SECONDS = Gauge(
    "case_gateway_receipts_oldest_age_seconds",
    "Age of the oldest inbound message committed but not yet processed (0 when none)",
)
RECEIPTS_IN_FLIGHT = Gauge(
    "case_gateway_receipts_in_flight", "Inbound messages this instance is processing now"
)
RECEIPT_SECONDS = Histogram(
    "case_gateway_receipt_processing_seconds",
    "Time from committing an inbound message as received to storing it processed",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
BUILD_INFO = Info("case_gateway_build", "The running version of Case Gateway")


BUILD_INFO.info({"version": version(), "python": platform.python_version()})


_Accept = TypeVar("_Accept", bound=Callable[..., Awaitable[Any]])


def observe_intake(accept: _Accept) -> _Accept:
    """Decorate ``accept(self, msg)``: its duration goes to the intake histogram by channel."""

    @functools.wraps(accept)
    async def timed(self: Any, msg: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await accept(self, msg, *args, **kwargs)
        finally:
            INTAKE_SECONDS.labels(msg.channel).observe(time.perf_counter() - started)

    return cast(_Accept, timed)
