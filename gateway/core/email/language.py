"""A rough guess at the language a family wrote in, for choosing reply templates."""

from __future__ import annotations

import re

# Short, frequent words that tell the Scandinavian languages and English apart.
_MARKERS: dict[str, frozenset[str]] = {
    "nb": frozenset(
        "ikke jeg hva hvordan hvorfor hvem noe hvis også dere deres hun henne bare fra hjem "
        "komme kommer mye sammen hilsen takk hei vennlig dessverre uken møte møtet skal".split()
    ),
    "nn": frozenset(
        "ikkje eg kva korleis kvifor kven noko viss òg dykk dykkar ho henne berre frå heim "
        "kome kjem mykje saman helsing takk hei venleg dessverre veka møte skal".split()
    ),
    "da": frozenset(
        "ikke jeg hvad hvordan hvorfor hvem noget hvis også jer jeres hun hende bare fra hjem "
        "komme kommer meget sammen hilsen tak hej venlig desværre ugen møde mødet skal".split()
    ),
    "sv": frozenset(
        "inte jag vad hur varför vem något också ni hon henne bara från hem "
        "komma kommer mycket tillsammans hälsningar tack hej vänliga tyvärr veckan möte ska "
        "vill gärna båda två är och".split()
    ),
    "en": frozenset(
        "not i what how why who something if also you your she her only from home "
        "come coming much together regards thanks the and is".split()
    ),
}
_WORD = re.compile(r"[a-zæøåäöò]+")


def language_hint(text: str) -> str | None:
    """ "nb", "nn", "da", "sv" or "en" when the words say so clearly; None otherwise."""
    words = _WORD.findall(text.lower()[:5000])
    if len(words) < 3:
        return None
    scores = {lang: sum(1 for w in words if w in markers) for lang, markers in _MARKERS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score < 2 or best_score == second_score:
        return None
    return best
