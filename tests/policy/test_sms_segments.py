"""Segment counting: what a caseworker sees as "2 SMS" before pressing send."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SMS_BODY,
    SmsBodyError,
    check_outbound_body,
    count_segments,
    split_segments,
)

SEGMENT_TABLE = [
    # (id, body, encoding, units, count, per_segment)
    ("empty", "", "GSM-7", 0, 0, 160),
    (
        "norwegian letters are GSM-7",
        "Hei! Kan vi møtes på tirsdag? Hilsen Åse Ærø",
        "GSM-7",
        44,
        1,
        160,
    ),
    ("swedish letters are GSM-7", "Hej, vi ses på mötet i nästa vecka. Tack!", "GSM-7", 41, 1, 160),
    ("160 GSM-7 characters", "a" * 160, "GSM-7", 160, 1, 160),
    ("161 GSM-7 characters", "a" * 161, "GSM-7", 161, 2, 153),
    ("306 GSM-7 characters", "a" * 306, "GSM-7", 306, 2, 153),
    ("307 GSM-7 characters", "a" * 307, "GSM-7", 307, 3, 153),
    ("euro counts twice", "Det koster 50 €", "GSM-7", 16, 1, 160),
    ("80 euro signs fill one SMS", "€" * 80, "GSM-7", 160, 1, 160),
    ("81 euro signs need two", "€" * 81, "GSM-7", 162, 2, 153),
    ("every extension character counts twice", "^{}\\[~]|€", "GSM-7", 18, 1, 160),
    ("one emoji makes it UCS-2", "Takk for sist 😊", "UCS-2", 16, 1, 70),
    ("curly quotes make it UCS-2", "Han sa “nei” til møtet", "UCS-2", 22, 1, 70),
    ("curly apostrophe makes it UCS-2", "Det er Åse’s sak", "UCS-2", 16, 1, 70),
    ("en dash makes it UCS-2", "man–fre", "UCS-2", 7, 1, 70),
    ("70 UCS-2 units", "’" + "a" * 69, "UCS-2", 70, 1, 70),
    ("71 UCS-2 units", "’" + "a" * 70, "UCS-2", 71, 2, 67),
    ("134 UCS-2 units", "’" + "a" * 133, "UCS-2", 134, 2, 67),
    ("135 UCS-2 units", "’" + "a" * 134, "UCS-2", 135, 3, 67),
    ("35 emoji are 70 units", "😊" * 35, "UCS-2", 70, 1, 70),
    ("36 emoji are 72 units", "😊" * 36, "UCS-2", 72, 2, 67),
    # 306 septets would be 2 SMS if the escape could be cut; it cannot, so 3.
    ("escape never cut across segments", "a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, 153),
    # 134 units would be 2 SMS if the surrogate pair could be cut; it cannot, so 3.
    ("surrogate pair never cut", "a" * 66 + "😊" + "a" * 66, "UCS-2", 134, 3, 67),
]


@pytest.mark.parametrize(
    ("body", "encoding", "units", "count", "per_segment"),
    [row[1:] for row in SEGMENT_TABLE],
    ids=[row[0] for row in SEGMENT_TABLE],
)
def test_count_segments(body: str, encoding: str, units: int, count: int, per_segment: int) -> None:
    segments = count_segments(body)
    assert (segments.encoding, segments.units, segments.count, segments.per_segment) == (
        encoding,
        units,
        count,
        per_segment,
    )


def test_split_keeps_the_euro_escape_whole() -> None:
    parts = split_segments("a" * 152 + "€" + "a" * 152)
    assert [len(p) for p in parts] == [152, 152, 1]
    assert parts[1].startswith("€")


def test_split_keeps_the_emoji_whole() -> None:
    parts = split_segments("a" * 66 + "😊" + "a" * 66)
    assert parts[0] == "a" * 66
    assert parts[1] == "😊" + "a" * 65


def _units(text: str, gsm: bool) -> int:
    if gsm:
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION)), st.characters(codec="utf-8")
    ),
    max_size=400,
)


@given(st.one_of(GSM_TEXT, ANY_TEXT))
def test_split_is_lossless_and_each_part_fits(body: str) -> None:
    segments = count_segments(body)
    parts = split_segments(body)
    gsm = segments.encoding == "GSM-7"
    assert "".join(parts) == body
    assert len(parts) == segments.count
    assert segments.units == _units(body, gsm)
    assert all(_units(part, gsm) <= segments.per_segment for part in parts)
    if segments.count > 1:
        assert segments.count >= math.ceil(segments.units / segments.per_segment)


@given(GSM_TEXT)
def test_gsm_alphabet_never_becomes_ucs2(body: str) -> None:
    assert count_segments(body).encoding == "GSM-7"


@pytest.mark.parametrize(
    ("body", "count"),
    [("Vi ses i morgen kl. 10.", 1), ("a" * MAX_SMS_BODY, 11), ("😊" * 800, 25)],
    ids=["short", "1600 characters", "800 emoji"],
)
def test_check_outbound_body_accepts(body: str, count: int) -> None:
    assert check_outbound_body(body).count == count


@pytest.mark.parametrize(
    ("body", "words"),
    [("", "empty"), ("   \n", "empty"), ("a" * (MAX_SMS_BODY + 1), "1601 characters")],
    ids=["empty", "whitespace", "1601 characters"],
)
def test_check_outbound_body_refuses(body: str, words: str) -> None:
    with pytest.raises(SmsBodyError, match=words):
        check_outbound_body(body)
