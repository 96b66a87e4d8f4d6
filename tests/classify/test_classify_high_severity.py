"""High-severity risks (self-harm, a child at risk now) are raised when in doubt: the
hard-negative gate never silences their confident frames, the model may raise them when
every risk word is out of scope, and the tuner never buys precision with one of them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gateway.core.classify.features import analyse
from gateway.core.classify.risk import (
    FRAME_RAISES,
    HIGH_SEVERITY,
    NEVER,
    RISK_TYPES,
    RiskModel,
    Thresholds,
    decide,
    frame_backs,
    raises,
    risk_words,
    vetoed,
)
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]


def test_out_of_scope_words_raise_only_above_their_own_threshold() -> None:
    t = Thresholds(risk_word=0.3, no_risk_word=0.6, rule=0.1, out_of_scope=0.9)
    assert raises(0.95, "out_of_scope", False, t)
    assert not raises(0.85, "out_of_scope", False, t)
    # The default: with every risk word out of scope the model alone never raises.
    assert not raises(1.0, "out_of_scope", False, Thresholds(0.3, 0.6, 0.1))


def test_only_high_severity_types_read_an_out_of_scope_threshold() -> None:
    data = {
        "types": list(RISK_TYPES),
        "bias": [0.0] * len(RISK_TYPES),
        "features": {},
        "thresholds": dict.fromkeys(RISK_TYPES, 0.5),
        "thresholds_out_of_scope": dict.fromkeys(RISK_TYPES, 0.9),
    }
    model = RiskModel.from_json(data)
    for type_ in RISK_TYPES:
        expected = 0.9 if type_ in HIGH_SEVERITY else NEVER
        assert model.decisions[type_].out_of_scope == expected
    # A model written before this threshold existed keeps its behaviour.
    del data["thresholds_out_of_scope"]
    old = RiskModel.from_json(data)
    assert all(d.out_of_scope == NEVER for d in old.decisions.values())


def test_the_gate_never_vetoes_a_confident_high_severity_frame() -> None:
    assert not vetoed(True, "SELF_HARM", framed=True)
    assert not vetoed(True, "CHILD_AT_RISK", framed=True)
    assert vetoed(True, "THREAT", framed=True)
    assert vetoed(True, "CHILD_AT_RISK", framed=False)
    assert not vetoed(False, "HARASSMENT", framed=False)


def _sure_it_is_a_trap(decisions: dict[str, Thresholds]) -> RiskModel:
    """A model whose hard-negative gate always closes and whose types are never sure."""
    return RiskModel(
        types=RISK_TYPES,
        bias=tuple(-10.0 for _ in RISK_TYPES),
        weights={},
        thresholds={t: d.risk_word for t, d in decisions.items()},
        frame_raises=FRAME_RAISES,
        decisions=decisions,
        trap_bias=10.0,
        trap_gate=0.5,
    )


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("jeg har tatt alle pillene mine nå", "SELF_HARM"),
        ("I've taken all my pills", "SELF_HARM"),
    ],
)
def test_a_confident_frame_is_raised_even_when_the_message_sounds_like_a_trap(
    text: str, type_: str
) -> None:
    analysis = analyse(text)
    assert frame_backs(analysis, type_, FRAME_RAISES) is not None
    decisions = {t: Thresholds(0.5, 0.5, 0.0) for t in RISK_TYPES}
    risks = decide(analysis, _sure_it_is_a_trap(decisions))
    assert type_ in {r.type for r in risks}


def _needs_training_tools() -> None:
    """The training script needs scikit-learn (the ``train`` extra), which CI installs."""
    if importlib.util.find_spec("sklearn") is None:
        unavailable("Risk model training", "pip install -e '.[train]' (scikit-learn)")


def _trainer() -> ModuleType:
    path = ROOT / "scripts" / "train_risk_model.py"
    spec = importlib.util.spec_from_file_location("train_risk_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_risk_model", module)
    spec.loader.exec_module(module)
    return module


def _scored(
    trainer: ModuleType, p: dict[str, float], gold: set[str], *, high: bool = False
) -> object:
    """One message as the tuner sees it: the model's probabilities, in scope, no rule fired."""
    probabilities = dict.fromkeys(RISK_TYPES, 0.0)
    probabilities.update(p)
    probabilities[trainer.TRAP] = 0.0
    return trainer.Scored(
        p=probabilities,
        words="in_scope",
        phrase=dict.fromkeys(RISK_TYPES, False),
        framed=dict.fromkeys(RISK_TYPES, False),
        gold=frozenset(gold),
        high=high,
        trap=not gold,
    )


def test_the_tuner_keeps_a_high_severity_message_at_the_cost_of_a_false_alarm() -> None:
    _needs_training_tools()
    trainer = _trainer()

    def scored(p: float, gold: set[str], *, high: bool = False) -> object:
        return _scored(trainer, {"SELF_HARM": p}, gold, high=high)

    # Twelve clear risks; one high-severity message the model is unsure of (0.15), below
    # three false alarms (0.2). Catching it costs three false alarms; precision stays
    # above the floor (13 of 16).
    messages = [scored(0.9, {"SELF_HARM"}) for _ in range(12)]
    messages += [scored(0.15, {"SELF_HARM"}, high=True)]
    messages += [scored(0.2, set()) for _ in range(3)]
    arrays = trainer.Arrays(messages, 1.0)
    low = {t: Thresholds(0.15, 0.5, 0.0) for t in RISK_TYPES}
    high = {t: Thresholds(0.5, 0.5, 0.0) for t in RISK_TYPES}
    # Without a high weight, F-beta alone would leave it.
    assert trainer.objective(arrays, low, 2.0)[2] < trainer.objective(arrays, high, 2.0)[2]
    decisions, gate = trainer.tune(messages, with_gate=False, beta=2.0, high_weight=1.0)
    # Any raised type takes it to the duty desk.
    assert trainer.flags(messages[12], decisions, gate)
    assert trainer.objective(arrays, decisions, gate)[:2] == (True, 1)


def test_the_tuner_holds_threat_to_its_precision_floor() -> None:
    _needs_training_tools()
    trainer = _trainer()

    def scored(threat: float, child: float, gold: set[str]) -> object:
        return _scored(trainer, {"THREAT": threat, "CHILD_AT_RISK": child}, gold)

    # Four clear threats and one unsure one; six messages about a child that the THREAT
    # model is as unsure of. Raising THREAT down to 0.35 catches one more message but makes
    # five of eleven THREAT flags wrong.
    messages = [scored(0.9, 0.0, {"THREAT"}) for _ in range(4)]
    messages += [scored(0.35, 0.0, {"THREAT"})]
    messages += [scored(0.35, 0.9, {"CHILD_AT_RISK"}) for _ in range(6)]
    floor = {"THREAT": 0.7}
    decisions, gate = trainer.tune(messages, with_gate=False, type_floor=floor)
    raised = [trainer.flags(m, decisions, gate) for m in messages]
    threat = [("THREAT" in r, "THREAT" in m.gold) for r, m in zip(raised, messages, strict=True)]
    right = sum(r and g for r, g in threat)
    assert right / sum(r for r, _ in threat) >= 0.7
    assert all("CHILD_AT_RISK" in r for r in raised[5:])
    arrays = trainer.Arrays(messages, type_floor=floor)
    assert trainer.objective(arrays, decisions, gate)[0]
    # Without the floor the same setting as the start, THREAT at 0.3, would have stood.
    loose = {t: Thresholds(0.3, 0.5, 0.0) for t in RISK_TYPES}
    assert not trainer.objective(arrays, loose, gate)[0]
    assert trainer.objective(trainer.Arrays(messages, type_floor={}), loose, gate)[0]


def test_the_tuner_refuses_a_beta_that_would_trade_recall_away() -> None:
    _needs_training_tools()
    assert _trainer().main(["--beta", "1.5"]) == 2


@pytest.mark.parametrize(
    "text",
    [
        "hun sier hun ikke vil leve lenger",
        "eg vil ikkje leve meir",
        "jeg vil ikke leve mere",
        "jag vill inte leva längre",
        "i dont want to live anymore",
    ],
)
def test_not_wanting_to_live_stands_in_scope_despite_its_negation(text: str) -> None:
    analysis = analyse(text)
    assert any(h.concept == "NOT_LIVE" and not h.blocked for h in analysis.concepts)
    assert risk_words(analysis) == "in_scope"


def test_danish_someone_is_not_read_as_naked() -> None:
    concepts = {h.concept for h in analyse("der var nogen der ringede på").concepts}
    assert "SEXUAL" not in concepts
