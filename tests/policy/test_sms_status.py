"""Delivery callbacks, Twilio error codes, retry decisions and backoff."""

from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.sms import (
    STATUS_RANK,
    classify_send_failure,
    explain_error,
    map_twilio_status,
    retry_delay,
    status_moves_forward,
)

STATUS_MAP = [
    ("accepted", "queued"),
    ("scheduled", "queued"),
    ("queued", "queued"),
    ("sending", "sending"),
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("undelivered", "undelivered"),
    ("failed", "failed"),
    ("read", "read"),
    ("canceled", "canceled"),
    ("Delivered", "delivered"),
    ("partially_delivered", "sent"),
]


@pytest.mark.parametrize(("twilio", "ours"), STATUS_MAP)
def test_map_twilio_status(twilio: str, ours: str) -> None:
    assert map_twilio_status(twilio) == ours


def test_unknown_twilio_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown Twilio message status"):
        map_twilio_status("teleported")


MOVES = [
    (None, "queued", True),
    (None, "delivered", True),
    ("queued", "sending", True),
    ("sending", "sent", True),
    ("sent", "delivered", True),
    ("delivered", "read", True),
    ("sent", "failed", True),
    ("sent", "undelivered", True),
    ("queued", "canceled", True),
    ("sent", "sent", False),
    ("delivered", "sent", False),
    ("delivered", "sending", False),
    ("delivered", "failed", False),
    ("read", "delivered", False),
    ("failed", "delivered", False),
    ("undelivered", "sent", False),
    ("undelivered", "delivered", False),
    ("canceled", "sent", False),
    ("failed", "read", False),
    ("undelivered", "read", False),
    ("canceled", "read", False),
]


@pytest.mark.parametrize(("current", "new", "forward"), MOVES)
def test_status_moves_forward(current: str | None, new: str, forward: bool) -> None:
    assert status_moves_forward(current, new) is forward


def _apply(callbacks: tuple[str, ...]) -> str | None:
    status: str | None = None
    for new in callbacks:
        if status_moves_forward(status, new):
            status = new
    return status


@pytest.mark.parametrize(
    ("callbacks", "final"),
    [
        (("queued", "sending", "sent", "delivered"), "delivered"),
        (("queued", "sent", "delivered", "read"), "read"),
        (("queued", "sending", "sent", "undelivered"), "undelivered"),
        (("queued", "sending", "failed"), "failed"),
    ],
)
def test_callbacks_in_any_order_end_in_the_same_status(
    callbacks: tuple[str, ...], final: str
) -> None:
    assert {_apply(order) for order in permutations(callbacks)} == {final}


@given(st.lists(st.sampled_from(sorted(STATUS_RANK)), min_size=1, max_size=8))
def test_status_rank_never_decreases(callbacks: list[str]) -> None:
    status: str | None = None
    for new in callbacks:
        before = status
        if status_moves_forward(status, new):
            status = new
        if before is not None:
            assert status is not None
            assert STATUS_RANK[status] >= STATUS_RANK[before]


ERRORS = [
    # code, permanent, opted_out, words the caseworker reads
    (30003, True, False, "could not be reached"),
    (30005, True, False, "unknown or no longer in use"),
    (30006, True, False, "landline"),
    (30007, True, False, "filtered"),
    (21610, True, True, "unsubscribed"),
    (21211, True, False, "not a valid number"),
    (21614, True, False, "not a mobile number"),
    (20429, False, False, "retried"),
    (30001, False, False, "retried"),
    (30008, False, False, "retried"),
    ("30005", True, False, "unknown or no longer in use"),
    ("21610", True, True, "STOP"),
    (99999, False, False, "error 99999"),
]


@pytest.mark.parametrize(("code", "permanent", "opted_out", "words"), ERRORS)
def test_explain_error(code: int | str, permanent: bool, opted_out: bool, words: str) -> None:
    explanation = explain_error(code)
    assert explanation.code == int(code)
    assert (explanation.permanent, explanation.opted_out) == (permanent, opted_out)
    assert words in explanation.text_for_caseworker


@pytest.mark.parametrize("code", [None, "", "  "])
def test_no_error_code(code: str | None) -> None:
    explanation = explain_error(code)
    assert explanation.code is None
    assert not explanation.permanent
    assert not explanation.opted_out


def test_non_numeric_error_code_is_explained_not_raised() -> None:
    assert "abc" in explain_error("abc").text_for_caseworker


FAILURES = [
    (None, None, "retry"),  # timeout or connection lost
    (429, None, "retry"),
    (429, 20429, "retry"),
    (500, None, "retry"),
    (502, None, "retry"),
    (503, 20503, "retry"),
    (408, None, "retry"),
    (400, 21211, "dead"),
    (400, 21610, "dead"),
    (400, 21614, "dead"),
    (400, None, "dead"),
    (404, None, "dead"),
    (None, 30001, "retry"),
    (400, 99999, "dead"),
]


@pytest.mark.parametrize(("http_status", "code", "verdict"), FAILURES)
def test_classify_send_failure(http_status: int | None, code: int | None, verdict: str) -> None:
    assert classify_send_failure(http_status, code) == verdict


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [
        (1, 0.0, 2.5),
        (1, 0.5, 3.75),
        (2, 0.5, 7.5),
        (3, 0.0, 10.0),
        (9, 0.5, 675.0),
        (200, 0.0, 450.0),
    ],
)
def test_retry_delay(attempt: int, jitter: float, delay: float) -> None:
    assert retry_delay(attempt, jitter=jitter) == pytest.approx(delay)


@given(st.integers(1, 10_000), st.floats(0.0, 0.999999))
def test_retry_delay_never_exceeds_cap(attempt: int, jitter: float) -> None:
    assert 0 < retry_delay(attempt, jitter=jitter, base=5.0, cap=900.0) <= 900.0


@given(st.integers(1, 60), st.floats(0.0, 0.999999))
def test_retry_delay_never_shrinks(attempt: int, jitter: float) -> None:
    assert retry_delay(attempt + 1, jitter=jitter) >= retry_delay(attempt, jitter=jitter)


@pytest.mark.parametrize(("attempt", "jitter"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_retry_delay_refuses_bad_input(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        retry_delay(attempt, jitter=jitter)
