"""What the risk model sees in a message: words, word beginnings, concepts and frames.

The same function builds the features when the model is trained (``scripts/``) and when
a message is classified, so the two can never drift apart. Word beginnings (the first
four and six letters of each folded word) carry inflections and compounds the lexicons
never listed; concepts, concept pairs in one sentence, frames and phrase rules carry meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .concepts import CONTEXT_CONCEPTS
from .folding import lower_in_place
from .frames import ConceptHit, FrameHit, concept_hits, fired_frames
from .model import Risk
from .normalise import fold, tokens
from .phrases import phrase_risks
from .scope import NEGATIONS, message_context


@dataclass(frozen=True)
class Analysis:
    """One message's features and the evidence behind them, for explanations."""

    features: frozenset[str]
    concepts: tuple[ConceptHit, ...]
    frames: tuple[FrameHit, ...]
    phrases: tuple[Risk, ...]


_WORD_FEATURES: dict[str, tuple[str, str, tuple[str, ...]]] = {}
# Negation words, folded as the tokens are; their scope ends at a clause break.
NEGATION_WORDS = frozenset(fold(w.replace("’", "'")) for w in NEGATIONS)
NEGATION_REACH = 4
_CLAUSE_END = re.compile(r"[.!?;:,\n]")


def _word_features(folded: str) -> tuple[str, str, tuple[str, ...]]:
    """The word as the model sees it (numbers as "0"), the start of a word pair that
    begins with it, and the word itself and its beginnings, which stand in for stems in
    any language."""
    if len(_WORD_FEATURES) > 200_000:
        _WORD_FEATURES.clear()
    word = "0" if folded.isdigit() else folded
    out = ["w:" + word]
    if len(word) > 4:
        out.append("p:" + word[:4])
        if len(word) > 6:
            out.append("p:" + word[:6])
    return word, "b:" + word + " ", tuple(out)


def analyse(text: str) -> Analysis:
    """Features of ``text`` for the risk model."""
    lower = lower_in_place(text)
    toks = tokens(lower)
    feats: set[str] = set()
    add, update, cache = feats.add, feats.update, _WORD_FEATURES
    pair = "b:^ "
    negated = 0  # words left in the scope of a negation ("I would never lay a finger on")
    last_end = 0
    for folded, start, end in toks:
        known = cache.get(folded)
        if known is None:
            known = cache[folded] = _word_features(folded)
        word, next_pair, own = known
        if negated and _CLAUSE_END.search(lower, last_end, start):
            negated = 0
        last_end = end
        if negated:
            # In a negation's scope the word says the opposite: a feature of its own.
            add("n:" + word)
            negated -= 1
        else:
            update(own)
        if word in NEGATION_WORDS:
            negated = NEGATION_REACH
        add(pair + word)
        pair = next_pair
    hits = concept_hits(text, lower, toks)
    by_sentence: dict[int, set[str]] = {}
    for hit in hits:
        if hit.quoted:
            feats.add("kq:" + hit.concept)
        if hit.blocked:
            feats.add("kx:" + hit.concept)
        else:
            feats.add("k:" + hit.concept)
            by_sentence.setdefault(hit.sentence, set()).add(hit.concept)
    for concepts in by_sentence.values():
        ordered = sorted(concepts)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                feats.add("kp:" + a + "+" + b)
    # What the message says about itself (a game, a settled past event, a reassuring
    # doctor, a correction of the record), and whether any risk word stands in scope.
    for name in message_context(lower):
        feats.add("c:" + name)
    cues = [hit for hit in hits if hit.concept not in CONTEXT_CONCEPTS]
    if not cues:
        feats.add("c:no_risk_word")
    elif all(hit.blocked for hit in cues):
        feats.add("c:risk_words_out_of_scope")
    frames = fired_frames(hits)
    for frame_hit in frames:
        feats.add("f:" + frame_hit.frame.name)
        feats.add("ft:" + frame_hit.frame.type)
    phrases = phrase_risks(text, lower)
    for risk in phrases:
        feats.add("r:" + risk.rule)
        feats.add("rt:" + risk.type)
    return Analysis(frozenset(feats), tuple(hits), tuple(frames), tuple(phrases))
