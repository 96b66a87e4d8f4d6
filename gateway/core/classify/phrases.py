"""Phrase rules for risk signals: threats, self-harm, a child at risk now, harassment of staff.

A phrase from ``risk_rules`` is only a candidate. It is dropped when, in its own clause,
it is negated ("jeg kommer ikke til å skade meg"), hypothetical ("hvis han slår henne"),
about fiction, news or a topic ("vi så en film om selvmord"), or part of an idiom
("I could kill for a coffee"). A risk only ever raises priority, so when in doubt the
phrase stands: a false alarm costs a duty worker a minute, a miss costs far more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .folding import lower_in_place
from .model import Risk
from .prefilter import Gate
from .risk_rules import RULES, RiskRule
from .scope import (
    CLAUSE_BREAK,
    NOT_REAL_MATCHES,
    SENTENCE_BREAK,
    breaks,
    inside_idiom,
    is_hypothetical,
    is_negated,
    joking_quote,
    start_of,
)
from .word_index import WordStartIndex

# Only the rules whose trigger words occur in a message are run on it.
_TRIGGERS = WordStartIndex.build((t, i) for i, rule in enumerate(RULES) for t in rule.triggers)


# And only when the message also holds one of the strings the pattern cannot match without.
# (The rules ignore case; their gates read the lower-cased message, see ``Gate``.)
_GATES = tuple(Gate([rule.pattern], words=True) for rule in RULES)


def _rules_triggered(lower: str) -> list[RiskRule]:
    return [RULES[i] for i in sorted(_TRIGGERS.found(lower))]


def _candidates(text: str, lower: str) -> Iterator[tuple[RiskRule, re.Match[str]]]:
    for i in sorted(_TRIGGERS.found(lower)):
        if _GATES[i].open(lower):
            rule = RULES[i]
            for m in rule.pattern.finditer(text):
                yield rule, m


def phrase_risks(text: str, lower: str | None = None) -> list[Risk]:
    """Risk phrases in ``text``, each with its rule, confidence and evidence span."""
    # The modifier patterns are lower case and read the lower-cased text; the rules keep
    # the original because a capitalised word after "slo" is likely a child's name.
    lower = lower_in_place(text) if lower is None else lower
    candidates = list(_candidates(text, lower))
    if not candidates:
        return []
    clause_breaks = breaks(CLAUSE_BREAK, lower)
    sentence_breaks = breaks(SENTENCE_BREAK, text)
    found: dict[str, Risk] = {}
    for rule, m in candidates:
        start, end = m.start(), m.end()
        if inside_idiom(lower, start, end) or joking_quote(text, lower, start, end):
            continue
        clause_start = start_of(clause_breaks, start)
        if not rule.negated_by_design and is_negated(text, clause_start, start, end):
            continue
        if is_hypothetical(lower, clause_start, start):
            continue
        sentence_start = start_of(sentence_breaks, start)
        sentence_end = next((b for b in sentence_breaks if b > end), len(text))
        if NOT_REAL_MATCHES.search(lower, sentence_start, sentence_end):
            continue
        best = found.get(rule.type)
        if best is None or rule.confidence > best.confidence:
            found[rule.type] = Risk(rule.type, rule.name, rule.confidence, start, end)
    return sorted(found.values(), key=lambda r: (r.start, r.type))
