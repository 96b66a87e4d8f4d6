"""Risk signals: threats, self-harm, a child at risk now, harassment of staff.

A phrase from ``risk_rules`` is only a candidate. It is dropped when, in its own clause,
it is negated ("jeg kommer ikke til å skade meg"), hypothetical ("hvis han slår henne"),
about fiction, news or a topic ("vi så en film om selvmord"), or part of an idiom
("I could kill for a coffee"). A risk only ever raises priority, so when in doubt the
phrase stands: a false alarm costs a duty worker a minute, a miss costs far more.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from .folding import lower_in_place
from .model import Risk
from .risk_rules import RULES, RiskRule
from .word_index import WordStartIndex

# Clause boundaries: punctuation, line breaks and the word "but" in every language.
_CLAUSE_BREAK = re.compile(r"[.!?;:\n]+|,|\s(?:men|but|fast|though|although|mens)\s")
_SENTENCE_BREAK = re.compile(r"[.!?\n]+")
_WORD = re.compile(r"[\w'’]+")

_NEGATIONS = frozenset(
    """ikke ikkje ikk ik itte inte int ej aldri aldrig aldrei never not no nei ingen inga inget
    ingenting nobody nothing dont don't don’t won't wont didn't didnt doesn't doesnt isn't isnt
    wasn't wasnt can't cant cannot hasn't hasnt haven't havent wouldn't wouldnt couldn't
    couldnt shouldn't shouldnt ain't aint nope""".split()
)
_SUBJECTS = frozenset(
    "jeg eg je æ jæ jag i du han hun ho hon vi me de dei dom he she we they".split()
)
_HYPOTHETICAL = frozenset("hvis viss dersom ifall if suppose supposing unless".split())
_HYPOTHETICAL_PHRASES = re.compile(
    r"\b(?:hva om|kva om|tenk om|tenk deg om|tänk om|vad om|hvad hvis|hvad nu hvis|what if|"
    r"i tilfelle|i fall|in case|just in case|what happens if|hva skjer hvis|hva gjør (?:jeg|vi|man) hvis)\b",
)
# Fiction, news and "talking about" a topic make the phrase not about this family now.
_NOT_REAL = re.compile(
    r"\b(?:film\w*|movie\w*|serie\w*|series|netflix|tv|tv-serie\w*|boka|boken|bogen|boka|book|novel|"
    r"roman\w*|spill|spillet|spelet|game|gaming|fortnite|minecraft|sang\w*|låt\w*|song\w*|lyrics|"
    r"nyhet\w*|nyheder\w*|news|avis\w*|tidning\w*|newspaper|artikkel\w*|artikel\w*|article|"
    r"podcast\w*|youtube|tiktok-video|video\w*|"
    r"snakke\w* om|snakka om|prata\w* om|pratet om|talte om|talade om|snakket om|diskut\w* om|"
    r"lærte om|lærer om|lært om|undervisning om|tema\w*|temaet|talk(?:ed|ing)? about|learn(?:ed|ing|t)? about|"
    r"lesson about|read about|leste om|läste om|læste om|opplæring|kurs om|course about|"
    r"spøk\w*|tuller|tulla|tøys\w*|skämt\w*|joking|just kidding|jk|lol|haha\w*)\b",
)
_IDIOMS = re.compile(
    r"(?:could|would|i'd|id) kill for|kill(?:ing)? (?:for a|time)|killing (?:me|it)|killed it|"
    r"dying (?:to|for|of)|die (?:of|from) (?:laughing|laughter|embarrassment|boredom)|bored to death|"
    r"scared to death|dead (?:tired|funny|good|easy)|drop dead gorgeous|over my dead body|"
    r"i'?m (?:so )?dead lol|hit (?:me|us|him|her) up|hits? (?:me|us) (?:that|with)|beat (?:me|us|them|him|her) (?:at|to|in)|"
    r"slår (?:meg|oss) at|slo (?:meg|oss) at|slår (?:meg|mig) som|slog (?:mig|mig som)|"
    r"sl(?:å|år|o|ått|og) (?:meg|mig|oss|os|seg|sig) (?:til ro|ned|sammen|løs|opp|igjennom|igennem)|"
    r"(?:drepe|dræbe|döda) for en|dør av latter|døde av latter|dø av (?:latter|skam|kjedsomhet)|"
    r"dø af grin|dö av skratt|döde av skratt|kjeder meg (?:i ?hjel|i hel)|kjeda meg i hel|"
    r"keder mig ihjel|tråkar ihjäl|frøs (?:meg )?(?:i ?hjel|i hel)|fryser (?:i ?hjel|i hel)|"
    r"(?:du|dere|det|denne|dette|den|han|hun|ungene|barna|jobben|skolen|this|that|you|the kids) "
    r"(?:tar|tek) livet av meg|(?:you|this|that|it|the kids|work)(?:'re| are| is)? killing me|"
    r"slå i ?hjel tiden|slå ihjel tiden|slå ihjäl tiden|kill two birds|shoot (?:myself|yourself) in the foot|"
    r"skyte (?:meg|seg) (?:selv )?i foten",
)


def _breaks(pattern: re.Pattern[str], text: str) -> list[int]:
    return [m.end() for m in pattern.finditer(text)]


def _start_of(breaks: list[int], position: int) -> int:
    i = bisect.bisect_right(breaks, position) - 1
    return breaks[i] if i >= 0 else 0


def _inside_idiom(text: str, start: int, end: int) -> bool:
    """Whether an idiom overlaps the phrase; idioms are short, so look only nearby."""
    window_start = max(0, start - 30)
    for m in _IDIOMS.finditer(text, window_start, min(len(text), end + 30)):
        if m.start() < end and start < m.end():
            return True
    return False


def _is_negated(text: str, clause_start: int, start: int, end: int) -> bool:
    """A negation inside the phrase, or among the four words before it in the same clause.

    A subject pronoun after the negation starts a new clause even without punctuation:
    in "orkar ikkje meir eg vil ta livet mitt" the "ikkje" belongs to "orkar".
    """
    words = [w.lower() for w in _WORD.findall(text[clause_start:start])[-4:]]
    words += [w.lower() for w in _WORD.findall(text[start:end])]
    negated = False
    for word in words:
        if word in _NEGATIONS:
            negated = True
        elif word in _SUBJECTS:
            negated = False
    return negated


def _is_hypothetical(text: str, clause_start: int, start: int) -> bool:
    """An "if" three words or fewer before the phrase ("if he hits her"), in the same clause.

    Further away it is usually a conditional threat ("if you take my kids I'll kill you"),
    which stays a threat.
    """
    before = _WORD.findall(text[clause_start:start])
    if any(w.lower() in _HYPOTHETICAL for w in before[-4:]):
        return True
    # "om" is "if" at the head of a clause (sv, nb, da) and "about" elsewhere.
    if before and before[0].lower() == "om" and len(before) <= 4:
        return True
    return bool(_HYPOTHETICAL_PHRASES.search(text, clause_start, start))


# Only the rules whose trigger words occur in a message are run on it.
_TRIGGERS = WordStartIndex.build((t, i) for i, rule in enumerate(RULES) for t in rule.triggers)


def _rules_triggered(lower: str) -> list[RiskRule]:
    return [RULES[i] for i in sorted({i for _, i in _TRIGGERS.hits(lower)})]


def _candidates(text: str, lower: str) -> Iterator[tuple[RiskRule, re.Match[str]]]:
    for rule in _rules_triggered(lower):
        for m in rule.pattern.finditer(text):
            yield rule, m


def find_risks(text: str) -> list[Risk]:
    """Risk signals in ``text``, each with its rule, confidence and evidence span."""
    # The modifier patterns are lower case and read the lower-cased text; the rules keep
    # the original because a capitalised word after "slo" is likely a child's name.
    lower = lower_in_place(text)
    candidates = list(_candidates(text, lower))
    if not candidates:
        return []
    clause_breaks = _breaks(_CLAUSE_BREAK, lower)
    sentence_breaks = _breaks(_SENTENCE_BREAK, text)
    found: dict[str, Risk] = {}
    for rule, m in candidates:
        start, end = m.start(), m.end()
        if _inside_idiom(lower, start, end):
            continue
        clause_start = _start_of(clause_breaks, start)
        if not rule.negated_by_design and _is_negated(text, clause_start, start, end):
            continue
        if _is_hypothetical(lower, clause_start, start):
            continue
        sentence_start = _start_of(sentence_breaks, start)
        sentence_end = next((b for b in sentence_breaks if b > end), len(text))
        if _NOT_REAL.search(lower, sentence_start, sentence_end):
            continue
        best = found.get(rule.type)
        if best is None or rule.confidence > best.confidence:
            found[rule.type] = Risk(rule.type, rule.name, rule.confidence, start, end)
    return sorted(found.values(), key=lambda r: (r.start, r.type))
