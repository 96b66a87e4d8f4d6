"""The gates that let the classifier skip a costly pattern must never hide a match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.classify import contacts, hard_negatives, health, identifiers, phrases, scope
from gateway.core.classify.folding import lower_in_place
from gateway.core.classify.normalise import tokens
from gateway.core.classify.prefilter import Gate, required_strings
from gateway.core.classify.risk_rules import RULES

ROOT = Path(__file__).resolve().parents[2]


def test_required_strings_multiplies_out_short_alternatives() -> None:
    pattern = re.compile(r"(?<![\w])(?:dør|dö) (?:hvis|om)\b")
    assert required_strings(pattern) == {"dør hvis", "dør om", "dö hvis", "dö om"}


def test_required_strings_of_a_case_blind_pattern_are_lower_case() -> None:
    assert required_strings(re.compile(r"Kill\s+(?:You|Them)", re.I)) == {"kill"}


@pytest.mark.parametrize(
    "pattern",
    [r"\d+", r"(?:foo)?bar?", r"[a-z]+ing", r"(?i:foo)bar|\w+", r"(?:a|)b"],
)
def test_patterns_with_no_fixed_word_get_no_gate_or_a_sound_one(pattern: str) -> None:
    need = required_strings(re.compile(pattern))
    assert need is None or all(s for s in need)
    gate = Gate([re.compile(pattern)])
    for text in ["12", "ba", "singing", "FOObar", "xyz b"]:
        if re.search(pattern, text):
            assert gate.open(text)


def test_a_gate_closes_on_a_message_without_its_words() -> None:
    gate = Gate([re.compile(r"(?<!\w)(?:film|movie)\w*")])
    assert not gate.open("han slo henne i går")
    assert gate.open("vi så en filmatisering")


def test_a_case_blind_gate_opens_for_letters_that_lower_case_elsewhere() -> None:
    # "ı" and "ſ" match "i" and "s" when case is ignored, yet do not lower-case to them.
    pattern = re.compile(r"kill\s+us", re.I)
    gate = Gate([pattern])
    for text in ["I will KıLL US", "I will kill uſ", "I will KİLL US"]:
        if pattern.search(text):
            assert gate.open(lower_in_place(text)), text
    assert not gate.open(lower_in_place("see you tomorrow"))


# (pattern, whether it reads the lower-cased text)
GATED = [
    (scope._IDIOMS, True),
    (scope.NOT_REAL, True),
    (scope._PAST_HANDLED, True),
    (scope._HYPOTHETICAL_PHRASES, True),
    (health.HEALTH_COMPOUNDS, True),
    (health._LOWER_ACRONYMS, True),
    (health.HEALTH_ACRONYMS, False),
    (contacts._NORDIC, False),
    (contacts._EN, False),
    (hard_negatives._REFERENCE, True),
    (identifiers._SWEDISH_MARKERS, True),
    *((rule.pattern, True) for rule in RULES),
]


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for split in ("train", "dev"):
        path = ROOT / "bench" / "eval" / f"{split}.jsonl"
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()]
    from bench.corpus.generate import build_corpus

    texts += [m.text for m in build_corpus()]
    return texts


def test_no_gate_hides_a_match_in_the_corpora() -> None:
    texts = _corpus_texts()
    gates = [Gate([pattern]) for pattern, _ in GATED]
    matched = 0
    for text in texts:
        lower = lower_in_place(text)
        for (pattern, reads_lower), gate in zip(GATED, gates, strict=True):
            subject = lower if reads_lower else text
            if pattern.search(subject):
                matched += 1
                assert gate.open(subject), (pattern.pattern[:60], text)
    assert matched > 500  # the corpora exercise the gates


# Words the patterns need, spliced into noise: the gate must open whenever a match exists.
_PIECES = sorted({s for pattern, _ in GATED for s in (required_strings(pattern) or ())})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_PIECES, " ", "jeg ", "du ", "1", "ı", "İ"]), max_size=12))
def test_no_gate_hides_a_match_in_spliced_text(parts: list[str]) -> None:
    text = "".join(parts)
    lower = lower_in_place(text)
    for pattern, reads_lower in GATED:
        subject = lower if reads_lower else text
        if pattern.search(subject):
            assert Gate([pattern]).open(subject)


def test_phrase_gates_follow_the_rule_table() -> None:
    assert len(phrases._GATES) == len(RULES)


def test_tokens_keep_offsets_into_the_message() -> None:
    lower = lower_in_place("Hei__Rune, ring 412 33 905 – jeg’ll KOMME! Ærlig talt: x-ray²")
    for token in tokens(lower):
        assert lower[token.start : token.end]
        assert token.end - token.start == len(lower[token.start : token.end])
    words = [lower[t.start : t.end] for t in tokens(lower)]
    assert words == re.findall(r"[^\W\d_]+(?:['’][a-z]+)?|\d+", lower)
