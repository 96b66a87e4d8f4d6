"""Frames: who intends or does what, to whom, and when, built from concept hits.

A frame fires when every one of its slots is filled by a concept in the same sentence
("kommer på kontoret med hagla i morgen": STAFF + WEAPON + NOW). The anchor concept (the
first slot) must not be negated ("jeg har aldri slått ungene"), hypothetical ("hvis han
slår henne"), about fiction or a game, or part of an idiom ("tar livet av meg altså,
denne vinteren"). Frames are both signals of their own and features of the trained model.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .concepts import CONTEXT_CONCEPTS, INDEX, NEGATION_IS_THE_POINT
from .normalise import Token, tokens
from .scope import Scope

# Sentence breaks: a run of ".!?" and line breaks, or a dash between spaces
# ("[.!?\n]+|\s[-–]\s"), written to begin with one set of characters so that the
# engine skips straight to the next candidate instead of trying every position.
_SENTENCE = re.compile(r"[.!?\s](?:(?<=[.!?\n])[.!?\n]*|[-–]\s)")


@dataclass(frozen=True)
class Frame:
    """Concept slots that together signal one risk type."""

    type: str
    name: str
    slots: tuple[frozenset[str], ...]
    confidence: float
    scope: str = "sentence"  # or "message": the slots may sit in different sentences
    # The slots' concepts in the order they are written, so the evidence a frame shows is
    # the same in every process (a frozenset's order depends on the string hash seed).
    ordered: tuple[tuple[str, ...], ...] = ()


def _frame(type_: str, name: str, slots: str, confidence: float, scope: str = "sentence") -> Frame:
    ordered = tuple(tuple(s.split("|")) for s in slots.split())
    return Frame(type_, name, tuple(frozenset(s) for s in ordered), confidence, scope, ordered)


FRAMES: tuple[Frame, ...] = (
    # THREAT: intent or weapon aimed at a worker, the office or "you".
    _frame(
        "THREAT", "threat.intent+violence+target", "KILL|HURT|WEAPON|FIRE INTENT YOU|STAFF", 0.9
    ),
    _frame("THREAT", "threat.weapon+target", "WEAPON STAFF|YOU|LIVES", 0.9),
    _frame("THREAT", "threat.weapon+intent+when", "WEAPON INTENT|NOW", 0.85),
    _frame("THREAT", "threat.kill+you", "KILL YOU", 0.85),
    _frame("THREAT", "threat.knows_where_you_live", "LIVES YOU|STAFF|INTENT|WEAPON", 0.85),
    _frame("THREAT", "threat.arson+target", "FIRE STAFF|INTENT", 0.85),
    _frame("THREAT", "threat.reported", "THREATEN KILL|HURT|WEAPON", 0.85),
    _frame("THREAT", "threat.veiled", "VEILED YOU|STAFF|LIVES|NOW|MEET|WEAPON", 0.8, "message"),
    _frame("THREAT", "threat.got_something", "ACQUIRE STAFF|MEET|YOU|WEAPON", 0.8, "message"),
    # SELF_HARM: a method with intake, a high place, death wishes and farewells.
    _frame("SELF_HARM", "self_harm.took_method", "INTAKE METHOD|INTOX", 0.9),
    _frame(
        "SELF_HARM",
        "self_harm.high_place",
        "HEIGHT DESPAIR|DEATH|INTENT|NOW|METHOD|FAREWELL",
        0.85,
        "message",
    ),
    _frame("SELF_HARM", "self_harm.standing_at_height", "HEIGHT POSITION", 0.85),
    _frame(
        "SELF_HARM",
        "self_harm.farewell_note",
        "FAREWELL FAREWELL|DESPAIR|METHOD|INTAKE|WEAPON|HEIGHT",
        0.85,
        "message",
    ),
    _frame("SELF_HARM", "self_harm.method+self", "METHOD SELF|INTENT|NOW|DEATH|DESPAIR", 0.85),
    _frame("SELF_HARM", "self_harm.death+self", "DEATH SELF|INTENT|DESPAIR", 0.8),
    _frame("SELF_HARM", "self_harm.farewell", "DESPAIR DEATH|METHOD|DESPAIR", 0.8, "message"),
    # CHILD_AT_RISK: a child hit, abused, neglected or alone, or a carer intoxicated.
    _frame("CHILD_AT_RISK", "child.hit", "HIT CHILD|FAMILY|SELF|FEAR|INJURY", 0.9),
    _frame("CHILD_AT_RISK", "child.injury", "INJURY CHILD|HIT|FEAR", 0.85),
    _frame("CHILD_AT_RISK", "child.sexual", "SEXUAL CHILD|SELF", 0.9),
    _frame("CHILD_AT_RISK", "child.neglect", "NEGLECT CHILD|INTOX|NOW", 0.85),
    _frame("CHILD_AT_RISK", "child.intoxicated_carer", "INTOX CHILD|NEGLECT|HIT", 0.85, "message"),
    _frame("CHILD_AT_RISK", "child.weapon_at_home", "WEAPON CHILD|FEAR|HIT", 0.9, "message"),
    _frame("CHILD_AT_RISK", "child.afraid", "FEAR HIT|INTOX|WEAPON|THREATEN", 0.85, "message"),
    _frame("CHILD_AT_RISK", "child.alarm", "ALARM HIT|WEAPON|CHILD|INJURY", 0.85, "message"),
    _frame("CHILD_AT_RISK", "child.missing", "MISSING CHILD|NOW|FEAR|INTOX", 0.8, "message"),
    _frame("CHILD_AT_RISK", "child.confined", "CONFINE SELF|CHILD|FEAR|ALARM", 0.85, "message"),
    # HARASSMENT: exposing, following or abusing a worker (features for the model).
    _frame("HARASSMENT", "harass.expose", "EXPOSE YOU|STAFF|STALK", 0.85, "message"),
    _frame("HARASSMENT", "harass.watching", "STALK YOU|STAFF|LIVES", 0.8, "message"),
    _frame("HARASSMENT", "harass.abuse", "INSULT YOU|STAFF", 0.8),
)


@dataclass(frozen=True)
class ConceptHit:
    """A concept found in the message, with the sentence it sits in and its scope."""

    concept: str
    start: int
    end: int
    sentence: int
    blocked: bool  # negated, hypothetical, fiction or idiom
    quoted: bool = False  # inside quotation marks: someone's words, reported


@dataclass(frozen=True)
class FrameHit:
    """A frame that fired, with the span of its evidence."""

    frame: Frame
    start: int
    end: int


def concept_hits(text: str, lower: str, toks: list[Token] | None = None) -> list[ConceptHit]:
    """Every concept in the message, each with its sentence number and scope."""
    toks = tokens(lower) if toks is None else toks
    raw = INDEX.hits(toks)
    if not raw:
        return []
    breaks = [m.end() for m in _SENTENCE.finditer(lower)]
    scope = Scope(text, lower)
    hits = []
    for concept, first, after in raw:
        start, end = toks[first].start, toks[after - 1].end
        sentence = bisect.bisect_right(breaks, start)
        # Only words that carry a risk need their scope judged; "you", "a child" or
        # "now" add to a frame whatever their clause says.
        blocked = concept not in CONTEXT_CONCEPTS and scope.blocked(
            start, end, negation=concept not in NEGATION_IS_THE_POINT
        )
        quoted = bool(scope.quotes) and scope.quoted(start, end)
        hits.append(ConceptHit(concept, start, end, sentence, blocked, quoted))
    return hits


def fired_frames(hits: list[ConceptHit]) -> list[FrameHit]:
    """The frames whose slots the concept hits fill."""
    fired: list[FrameHit] = []
    by_concept: dict[str, list[ConceptHit]] = {}
    for hit in hits:
        by_concept.setdefault(hit.concept, []).append(hit)
    for frame in FRAMES:
        if frame.slots[0].isdisjoint(by_concept):
            continue
        anchors = [h for c in frame.ordered[0] for h in by_concept.get(c, ()) if not h.blocked]
        for anchor in anchors:
            evidence = [anchor]
            for slot in frame.ordered[1:]:
                filler = next(
                    (
                        h
                        for c in slot
                        for h in by_concept.get(c, ())
                        if h is not anchor
                        and (frame.scope == "message" or h.sentence == anchor.sentence)
                        and not (h.concept == anchor.concept and h.start == anchor.start)
                    ),
                    None,
                )
                if filler is None:
                    break
                evidence.append(filler)
            else:
                fired.append(
                    FrameHit(frame, min(h.start for h in evidence), max(h.end for h in evidence))
                )
                break
    return fired
