"""Prometheus metrics, defined once (served at GET /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

HTTP_REQUESTS = Counter(
    "case_gateway_http_requests_total", "HTTP requests answered", ["route", "status"]
)
MESSAGES_IN = Counter(
    "case_gateway_messages_received_total", "Inbound messages by outcome", ["channel", "outcome"]
)
MESSAGES_OUT = Counter(
    "case_gateway_messages_sent_total", "Outbound send attempts by outcome", ["channel", "outcome"]
)
