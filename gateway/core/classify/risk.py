"""Risk signals: threats, self-harm, a child at risk now, harassment of staff.

A small logistic model reads the features of ``features.py`` (words, letter groups,
concepts, frames and phrase rules) and gives each risk type a probability. Its weights
ship with the package as ``risk_model.json`` (trained by ``scripts/train_risk_model.py``,
no scikit-learn needed here) with one threshold per type, set on the development split
for recall on the messages that must never be missed. Every flag records why: the frame
or phrase that fired and the features that weighed most.

A risk only ever raises priority. A phrase rule that fires (in scope) raises its type, and
for SELF_HARM, CHILD_AT_RISK and THREAT so does a confident frame, even when the model is
unsure: a false alarm costs a duty worker a minute, a miss costs far more.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from itertools import islice
from operator import methodcaller
from typing import Any

from .concepts import CONTEXT_CONCEPTS
from .features import Analysis, analyse
from .model import Risk

RISK_TYPES = ("THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT")
MODEL_FILE = "risk_model.json"
# Types for which a frame alone raises the flag, and the least confidence it needs.
FRAME_RAISES = {"SELF_HARM": 0.85, "CHILD_AT_RISK": 0.9, "THREAT": 0.9}
# The high-severity types: when in doubt, raise. The hard-negative gate never vetoes a
# confident frame of these types, and the model may raise them even when every risk word
# is out of scope (a fire "not real" because a television is smashed, a child "playing"
# next to a loaded gun), when it is sure enough (``Thresholds.out_of_scope``).
HIGH_SEVERITY = frozenset({"SELF_HARM", "CHILD_AT_RISK"})
NEVER = 2.0  # a threshold above any probability


@dataclass(frozen=True)
class Thresholds:
    """When one type is raised: its model probability against what backs it up.

    ``risk_word``: a risk-bearing concept stands in scope (not negated, hypothetical,
    fictional or an idiom). ``no_risk_word``: the message names no risk word at all (an
    indirect threat, a worried teacher), so the words alone must convince the model.
    ``rule``: a confident frame fired; the model can then only veto when it is very sure.
    ``out_of_scope``: every risk word is negated, hypothetical, fiction or idiom; only the
    high-severity types may then be raised by the model alone, and only above this (the
    other types keep ``NEVER``: a frame or a phrase rule must raise them). A phrase rule
    that fires in scope always raises its type.
    """

    risk_word: float
    no_risk_word: float
    rule: float
    out_of_scope: float = NEVER


@dataclass(frozen=True)
class RiskModel:
    """Per-type bias, feature weights and decision thresholds, and the hard-negative gate.

    A feature's weights are one per type and, when the model has one, a last weight for
    the hard-negative ("trap") model: how much the feature says the message only sounds
    risky (a game, an idiom, a settled past event, a reassuring doctor).
    """

    types: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    thresholds: dict[str, float]
    frame_raises: dict[str, float]
    decisions: dict[str, Thresholds] = field(default_factory=dict)
    trap_bias: float | None = None
    trap_gate: float = 2.0  # above 1: the gate never closes

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskModel:
        """The model from its JSON form (see ``scripts/train_risk_model.py``)."""
        thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
        no_word = data.get("thresholds_no_risk_word", {})
        rule = data.get("rule_floor", {})
        out_of_scope = data.get("thresholds_out_of_scope", {})
        trap = data.get("trap")
        return cls(
            types=tuple(str(t) for t in data["types"]),
            bias=tuple(float(b) for b in data["bias"]),
            weights={f: tuple(float(x) for x in w) for f, w in data["features"].items()},
            thresholds=thresholds,
            frame_raises={
                str(k): float(v) for k, v in data.get("frame_raises", FRAME_RAISES).items()
            },
            decisions={
                t: Thresholds(
                    v,
                    float(no_word.get(t, v)),
                    float(rule.get(t, 0.0)),
                    float(out_of_scope.get(t, NEVER)) if t in HIGH_SEVERITY else NEVER,
                )
                for t, v in thresholds.items()
            },
            trap_bias=float(trap["bias"]) if trap else None,
            trap_gate=float(trap["gate"]) if trap else 2.0,
        )

    def probabilities(self, features: frozenset[str]) -> list[float]:
        """Each type's probability, then the trap model's when there is one."""
        # Most of a message's features carry no weight: one look-up each (``map`` runs
        # in C) finds the rows of those that do, and the column sums run in C too.
        rows = list(filter(None, map(self.weights.get, features)))
        biases = self._biases
        if not rows:
            return [_sigmoid(bias) for bias in biases]
        sums = map(sum, zip(*rows, strict=True))
        return [_sigmoid(bias + total) for bias, total in zip(biases, sums, strict=True)]

    def weighted(self, features: frozenset[str]) -> list[tuple[str, tuple[float, ...]]]:
        """The features that carry weight, with their weights (to explain a flag)."""
        get = self.weights.get
        return [(f, w) for f in features if (w := get(f)) is not None]

    @cached_property
    def _biases(self) -> tuple[float, ...]:
        return self.bias if self.trap_bias is None else (*self.bias, self.trap_bias)

    @staticmethod
    def top(present: list[tuple[str, tuple[float, ...]]], i: int, n: int = 4) -> list[str]:
        """The ``n`` features that pushed type ``i`` up most."""
        ranked = sorted(((w[i], f) for f, w in present if w[i] > 0), reverse=True)
        return [f for _, f in ranked[:n]]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


@lru_cache(maxsize=1)
def load_model() -> RiskModel | None:
    """The shipped model, or None when it has not been trained yet."""
    try:
        raw = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return RiskModel.from_json(json.loads(raw))


def _evidence(analysis: Analysis, type_: str, top: list[str]) -> tuple[int, int]:
    """Where in the message the signal sits: its frame, phrase or strongest concept."""
    for risk in analysis.phrases:
        if risk.type == type_:
            return risk.start, risk.end
    for frame_hit in analysis.frames:
        if frame_hit.frame.type == type_:
            return frame_hit.start, frame_hit.end
    names = {f[2:] for f in top if f.startswith("k:")}
    for hit in analysis.concepts:
        if hit.concept in names and not hit.blocked:
            return hit.start, hit.end
    return 0, 0


# Concepts that only add to a risk ("a child", "you", "now"). When every other concept in
# a message is negated, hypothetical, fictional or an idiom ("hvis han slår henne igjen
# ringer jeg politiet"), the model's word weights would mislead it, so it may not flag.


def has_evidence(analysis: Analysis) -> bool:
    """False only when every risk-bearing concept is negated, hypothetical or an idiom."""
    return risk_words(analysis) != "out_of_scope"


def risk_words(analysis: Analysis) -> str:
    """``in_scope`` when a risk-bearing concept stands, ``none`` when the message names no
    risk word, ``out_of_scope`` when every one is negated, hypothetical, fiction or idiom,
    ``too_short`` when it names no risk word and is too short, and addressed to nobody, for
    the model to judge by its words alone."""
    cues = [h for h in analysis.concepts if h.concept not in CONTEXT_CONCEPTS]
    if not cues:
        if _too_short_to_judge(analysis):
            return "too_short"
        return "none"
    return "in_scope" if any(not h.blocked for h in cues) else "out_of_scope"


# With no risk word, the model judges a message by its words alone. A short message that
# names nobody ("STOP", "same message, sent several times") gives it too little to go on:
# its few words then weigh as much as a whole e-mail's, and a keyword or a plain remark
# would reach the duty desk. Such a message raises a risk only through a rule or a frame.
SHORT_MESSAGE_WORDS = 8
TARGET_CONCEPTS = frozenset({"YOU", "STAFF"})
_IS_WORD = methodcaller("startswith", "w:")


def _too_short_to_judge(analysis: Analysis) -> bool:
    if any(h.concept in TARGET_CONCEPTS for h in analysis.concepts):
        return False
    # Its words are the ``w:`` features; counting stops once there are enough.
    words = islice(filter(_IS_WORD, analysis.features), SHORT_MESSAGE_WORDS)
    return len(list(words)) < SHORT_MESSAGE_WORDS


def phrase_backs(analysis: Analysis, type_: str) -> str | None:
    """The phrase rule that raises ``type_`` in scope, if any: these stand."""
    return next((r.rule for r in analysis.phrases if r.type == type_), None)


def frame_backs(analysis: Analysis, type_: str, frame_raises: dict[str, float]) -> str | None:
    """The confident frame that backs ``type_``, if any."""
    floor = frame_raises.get(type_)
    if floor is None:
        return None
    for frame_hit in analysis.frames:
        if frame_hit.frame.type == type_ and frame_hit.frame.confidence >= floor:
            return "frame." + frame_hit.frame.name
    return None


def raises(p: float, words: str, framed: bool, t: Thresholds) -> bool:
    """Whether the model and a frame raise a type with probability ``p`` (see
    ``Thresholds``); a phrase rule in scope raises its type whatever they say."""
    if framed and p >= t.rule:
        return True
    if words == "in_scope":
        return p >= t.risk_word
    if words == "out_of_scope":
        return p >= t.out_of_scope
    return words == "none" and p >= t.no_risk_word


def vetoed(gated: bool, type_: str, framed: bool) -> bool:
    """Whether the hard-negative gate silences ``type_``: never a confident frame of a
    high-severity type (a method with first-person intent and immediacy, a child with
    abuse or no care now), whatever the message otherwise sounds like."""
    return gated and not (framed and type_ in HIGH_SEVERITY)


def _rule(analysis: Analysis, type_: str) -> str:
    """The most readable reason for a flag: a phrase rule, else a frame, else the model."""
    for risk in analysis.phrases:
        if risk.type == type_:
            return risk.rule
    for frame_hit in analysis.frames:
        if frame_hit.frame.type == type_:
            return "frame." + frame_hit.frame.name
    return "model." + type_.lower()


def decide(analysis: Analysis, model: RiskModel | None) -> list[Risk]:
    """The risk signals for one analysed message."""
    found: dict[str, Risk] = {}
    if model is None:
        # Before a model is trained: frames and phrase rules decide alone.
        for frame_hit in analysis.frames:
            f = frame_hit.frame
            if f.type not in found:
                found[f.type] = Risk(f.type, f.name, f.confidence, frame_hit.start, frame_hit.end)
        for risk in analysis.phrases:
            found.setdefault(risk.type, risk)
        return sorted(found.values(), key=lambda r: (r.start, r.type))
    probabilities = model.probabilities(analysis.features)
    present: list[tuple[str, tuple[float, ...]]] | None = None  # read once a type is raised
    # A message that only sounds risky (a game, an idiom, a settled past event, a
    # reassuring doctor) raises nothing unless a phrase rule fires in scope.
    gated = model.trap_bias is not None and probabilities[len(model.types)] >= model.trap_gate
    words = risk_words(analysis)
    for i, (type_, p) in enumerate(zip(model.types, probabilities, strict=False)):
        decision = model.decisions.get(type_) or Thresholds(0.5, 0.5, 0.0)
        phrase = phrase_backs(analysis, type_)
        frame = frame_backs(analysis, type_, model.frame_raises)
        framed = frame is not None
        if phrase is None and (
            vetoed(gated, type_, framed) or not raises(p, words, framed, decision)
        ):
            continue
        if present is None:
            present = model.weighted(analysis.features)
        top = model.top(present, i)
        start, end = _evidence(analysis, type_, top)
        backing = phrase or frame
        if backing is not None and p < min(decision.risk_word, decision.no_risk_word):
            # The rule raised it: the model alone was unsure.
            why: tuple[str, ...] = (f"model p={p:.2f}; {backing} raises {type_}",)
            confidence = max(p, 0.5)
        else:
            why, confidence = tuple(top), p
        found[type_] = Risk(type_, _rule(analysis, type_), round(confidence, 3), start, end, why)
    return sorted(found.values(), key=lambda r: (r.start, r.type))


def find_risks(text: str) -> list[Risk]:
    """Risk signals in ``text``, each with its rule (why), confidence and evidence span."""
    return decide(analyse(text), load_model())
