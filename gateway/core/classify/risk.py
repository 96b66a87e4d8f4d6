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
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from .concepts import CONTEXT_CONCEPTS
from .features import Analysis, analyse
from .model import Risk

RISK_TYPES = ("THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT")
MODEL_FILE = "risk_model.json"
# Types for which a frame alone raises the flag, and the least confidence it needs.
FRAME_RAISES = {"SELF_HARM": 0.85, "CHILD_AT_RISK": 0.9, "THREAT": 0.9}


@dataclass(frozen=True)
class RiskModel:
    """Per-type bias, feature weights and decision threshold."""

    types: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    thresholds: dict[str, float]
    frame_raises: dict[str, float]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskModel:
        """The model from its JSON form (see ``scripts/train_risk_model.py``)."""
        return cls(
            types=tuple(str(t) for t in data["types"]),
            bias=tuple(float(b) for b in data["bias"]),
            weights={f: tuple(float(x) for x in w) for f, w in data["features"].items()},
            thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
            frame_raises={
                str(k): float(v) for k, v in data.get("frame_raises", FRAME_RAISES).items()
            },
        )

    def probabilities(
        self, features: frozenset[str]
    ) -> tuple[list[float], list[tuple[str, tuple[float, ...]]]]:
        """Each type's probability, and the weighted features present (for explanations)."""
        # Most of a message's features carry no weight; the set intersection and the
        # column sums run in C.
        names = list(features & self._names)
        rows = list(map(self.weights.__getitem__, names))
        sums = list(map(sum, zip(*rows, strict=True))) if rows else [0.0] * len(self.bias)
        out = [
            1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, bias + total))))
            for bias, total in zip(self.bias, sums, strict=True)
        ]
        return out, list(zip(names, rows, strict=True))

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self.weights)

    @staticmethod
    def top(present: list[tuple[str, tuple[float, ...]]], i: int, n: int = 4) -> list[str]:
        """The ``n`` features that pushed type ``i`` up most."""
        ranked = sorted(((w[i], f) for f, w in present if w[i] > 0), reverse=True)
        return [f for _, f in ranked[:n]]


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
    cues = [h for h in analysis.concepts if h.concept not in CONTEXT_CONCEPTS]
    return not cues or any(not h.blocked for h in cues)


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
    evidence = has_evidence(analysis)
    probabilities, present = model.probabilities(analysis.features)
    for i, (type_, p) in enumerate(zip(model.types, probabilities, strict=True)):
        if evidence and p >= model.thresholds.get(type_, 0.5):
            top = model.top(present, i)
            start, end = _evidence(analysis, type_, top)
            why = tuple(top)
            found[type_] = Risk(type_, _rule(analysis, type_), round(p, 3), start, end, why)
            continue
        phrase = next((r for r in analysis.phrases if r.type == type_), None)
        if phrase is not None:
            # The phrase rules were written for these exact wordings; they stand.
            found[type_] = Risk(
                type_,
                phrase.rule,
                phrase.confidence,
                phrase.start,
                phrase.end,
                (f"model p={p:.2f}",),
            )
            continue
        floor = model.frame_raises.get(type_)
        if floor is None:
            continue
        raised = next(
            (h for h in analysis.frames if h.frame.type == type_ and h.frame.confidence >= floor),
            None,
        )
        if raised is not None:
            found[type_] = Risk(
                type_,
                "frame." + raised.frame.name,
                round(max(p, 0.5), 3),
                raised.start,
                raised.end,
                (f"model p={p:.2f} below threshold; frame raises {type_}",),
            )
    return sorted(found.values(), key=lambda r: (r.start, r.type))


def find_risks(text: str) -> list[Risk]:
    """Risk signals in ``text``, each with its rule (why), confidence and evidence span."""
    return decide(analyse(text), load_model())
