"""Word gates and split alternations must find exactly what the whole patterns find."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.classify import health, scope
from gateway.core.classify.alternatives import Alternatives, split_alternatives
from gateway.core.classify.folding import lower_in_place
from gateway.core.classify.prefilter import Gate
from gateway.core.classify.risk_rules import RULES
from gateway.core.classify.word_gates import WordGates, word_starts

from .test_classify_prefilter import _corpus_texts

# Patterns matched on the lower-cased message behind a word gate or split into alternatives.
WORD_GATED = [
    scope._IDIOMS,
    scope.NOT_REAL,
    scope._PAST_HANDLED,
    scope._HYPOTHETICAL_PHRASES,
    health.HEALTH_WORDS,
    *(pattern for _, pattern in scope.MESSAGE_CONTEXT),
]
_SPLIT = [(p, Gate([p], words=True), Alternatives(p)) for p in WORD_GATED]


def test_word_starts_reads_whole_words_and_beginnings() -> None:
    whole, beginnings = word_starts(re.compile(r"\b(?:film\w*|i retten|tv-?en)\b")) or ((), ())
    # "i retten" needs a word beginning "retten" (rarer than "i"); "tv-en" the word "tv".
    assert set(whole) == {"tv"}
    assert set(beginnings) == {"film", "retten", "tven"}


def test_word_starts_takes_the_rarest_word_of_a_phrase() -> None:
    words = word_starts(re.compile(r"(?<![\w\-])(?:p-piller|dø av latter)(?![\w])"))
    assert words == (frozenset(), frozenset({"piller", "latter"}))


def test_a_phrase_is_not_gated_on_a_word_most_messages_hold() -> None:
    assert word_starts(re.compile(r"\b(?:for fun)\b")) == (frozenset(), frozenset({"fun"}))
    years = word_starts(re.compile(r"\b(?:(?:i|in|fra) (?:19|20)\d\d)\b"))
    assert years == (frozenset(), frozenset({"19", "20"}))


def test_a_word_after_a_skippable_word_still_starts_a_word() -> None:
    words = word_starts(re.compile(r"\w+ (?:\w+ )?(?:years|months) ago"))
    assert words is not None
    assert "years" in words[0] | words[1]


@pytest.mark.parametrize(
    "pattern",
    [r"haha|lol\b", r"\w+ing", r"\b(?i:kill)\b", r"[a-z]+(?:itis|osis)\b", r"(?:a|)b"],
)
def test_patterns_that_can_match_inside_a_word_get_no_word_gate(pattern: str) -> None:
    assert word_starts(re.compile(pattern)) is None


def test_word_gates_answer_for_every_gate_at_once() -> None:
    gates = WordGates()
    film = gates.add((frozenset(), frozenset({"film"})))
    court = gates.add((frozenset({"retten"}), frozenset()))
    assert gates.bits("vi så filmen i går") == film
    assert gates.bits("vi møttes i retten") == court
    assert gates.bits("retten og filmatiseringen") == film | court
    assert gates.bits("ingen av delene") == 0


def test_no_word_gate_hides_a_match_in_the_corpora() -> None:
    gates = [gate for _, gate, _ in _SPLIT]
    assert all(gate.bits for gate in gates[:5])
    matched = 0
    for text in _corpus_texts():
        lower = lower_in_place(text)
        for pattern, gate in zip(WORD_GATED, gates, strict=True):
            if pattern.search(lower):
                matched += 1
                assert gate.open(lower), (pattern.pattern[:60], text)
    assert matched > 500


def test_a_case_blind_word_gate_reads_the_lower_cased_message() -> None:
    pattern = re.compile(r"(?<![\w])(?:Slå (?:deg|dere) i ?hjel)(?![\w])", re.I)
    gate = Gate([pattern], words=True)
    assert gate.bits
    for text in ["JEG SKAL SLÅ DEG IHJEL", "jeg skal slå dere i hjel", "ſlå deg ihjel"]:
        assert pattern.search(text)
        assert gate.open(lower_in_place(text)), text
    assert not gate.open(lower_in_place("vi slo leir ved vannet"))


def test_no_phrase_rule_gate_hides_a_match_in_the_corpora() -> None:
    gates = [Gate([rule.pattern], words=True) for rule in RULES]
    assert all(gate.bits for gate in gates)
    matched = 0
    for text in _corpus_texts():
        lower = lower_in_place(text)
        for rule, gate in zip(RULES, gates, strict=True):
            if rule.pattern.search(text):
                matched += 1
                assert gate.open(lower), (rule.name, text)
    assert matched > 100


def test_split_alternatives_keep_each_alternative_whole() -> None:
    assert split_alternatives(re.compile(r"a(?:b|c)|[|]d|e\|f")) == ["a(?:b|c)", "[|]d", r"e\|f"]
    assert split_alternatives(re.compile(r"\b(?:film|tv(?:-serie)?)\b")) == [
        r"\b(?:film)\b",
        r"\b(?:tv(?:-serie)?)\b",
    ]
    assert split_alternatives(re.compile(r"(a)|\1")) is None
    assert split_alternatives(re.compile(r"\b(?:a)|(?:b)\b")) == [r"\b(?:a)", r"(?:b)\b"]


def _same_matches(pattern: re.Pattern[str], alternatives: Alternatives, text: str) -> None:
    assert [m.span() for m in alternatives.finditer(text)] == [
        m.span() for m in pattern.finditer(text)
    ]
    for pos, endpos in ((len(text) // 3, len(text) - 5),):
        if 0 <= pos <= endpos:
            expected = [m.span() for m in pattern.finditer(text, pos, endpos)]
            assert [m.span() for m in alternatives.finditer(text, pos, endpos)] == expected
            found = alternatives.search(text, pos, endpos)
            first = pattern.search(text, pos, endpos)
            assert (found.span() if found else None) == (first.span() if first else None)


def test_split_alternations_find_what_the_whole_pattern_finds_in_the_corpora() -> None:
    assert _SPLIT[0][2]._alternatives  # the idioms are matched alternative by alternative
    for text in _corpus_texts():
        lower = lower_in_place(text)
        for pattern, _, alternatives in _SPLIT:
            _same_matches(pattern, alternatives, lower)


def test_the_first_alternative_wins_at_one_position_as_in_the_engine() -> None:
    pattern = re.compile(r"\b(?:dø av|dø av latter|av latter)\b")
    alternatives = Alternatives(pattern)
    assert alternatives._alternatives
    _same_matches(pattern, alternatives, "jeg holdt på å dø av latter av latter")


@pytest.mark.parametrize(
    "text",
    [
        "slapå lek og på lek",
        "på_lek, 2på lek, på lek",
        "for fun|for funny|unfor fun",
        "på lekplassen på lek",
        "",
    ],
)
def test_an_alternative_that_begins_at_a_word_boundary_is_found_where_the_engine_finds_it(
    text: str,
) -> None:
    pattern = re.compile(r"\b(?:på lek)\b|\b(?:for fun)|(?<![\w])lek\b")
    alternatives = Alternatives(pattern)
    # Looked for by its letters, then kept only where the boundary stands.
    assert alternatives._alternatives[0].finder is not None
    assert alternatives._alternatives[2].finder is None
    _same_matches(pattern, alternatives, text)
    for pos in range(len(text) + 1):
        for endpos in (pos, (pos + len(text)) // 2, len(text)):
            expected = [m.span() for m in pattern.finditer(text, pos, endpos)]
            assert [m.span() for m in alternatives.finditer(text, pos, endpos)] == expected


_PIECES = sorted(
    {w for p in WORD_GATED for part in (word_starts(p) or ((), ())) for w in part}
    | {"av ", "om ", "i ", "ikke ", "the ", "-", "'"}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_PIECES, " ", ". ", "jeg ", "1", "x"]), max_size=14))
def test_gates_and_alternatives_hold_on_spliced_text(parts: list[str]) -> None:
    text = "".join(parts)
    for pattern, gate, alternatives in _SPLIT:
        if pattern.search(text):
            assert gate.open(text)
        _same_matches(pattern, alternatives, text)


_RULE_GATES = [(rule.pattern, Gate([rule.pattern], words=True)) for rule in RULES]
_RULE_PIECES = sorted(
    {w for rule in RULES for part in (word_starts(rule.pattern) or ((), ())) for w in part}
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*_RULE_PIECES, " ", "deg ", "you ", "meg ", "ſ", "ı", "İ", "-", "1"]),
        max_size=10,
    ),
    st.booleans(),
)
def test_phrase_rule_gates_hold_on_spliced_text(parts: list[str], upper: bool) -> None:
    text = "".join(parts)
    text = text.upper() if upper else text
    lower = lower_in_place(text)
    for pattern, gate in _RULE_GATES:
        if pattern.search(text):
            assert gate.open(lower), (pattern.pattern[:60], text)
