"""Train the risk model shipped as ``gateway/core/classify/risk_model.json``.

Training data: the independent corpus's train and dev splits, the old generated corpus and the
extra messages in ``bench/corpus/risk_training.jsonl`` (written for training, never
taken from the test split), plus caseworker feedback exported with
``case-gateway classify export-feedback`` (``--feedback FILE``, repeatable). One logistic
regression per risk type over ``features.analyse``, and one for hard negatives (the corpus's
traps). Thresholds are set on out-of-fold probabilities: the train and dev authors are split
into folds, each fold scored by a model that never saw its authors. Each type's thresholds
(a risk word in scope, no risk word, a confident frame) and the hard-negative gate are
tuned together, first for out-of-fold high-severity recall (as many high-severity messages
caught as any setting whose precision stays at PRECISION_FLOOR or above), then for the
message-level F-beta of "any risk" (high-severity messages count HIGH_WEIGHT times, a flagged
trap TRAP_COST false alarms; a phrase rule in scope always raises). Precision is never
bought with a high-severity message. The test split is never read. scikit-learn is needed here only (the ``train``
extra); the gateway reads the JSON with no scikit-learn and no network.

    .venv/bin/python scripts/train_risk_model.py [--feedback feedback.jsonl] [--c 0.5]

``--holdout dev`` gives an honest development figure: the model is trained on the train
authors only (thresholds out-of-fold over them), written to ``--out`` (a temporary file by
default, never the shipped model), and the dev authors, whom it never saw, are scored with
it per language and per type, as ``bench/classify.py`` scores a split.

    .venv/bin/python scripts/train_risk_model.py --holdout dev [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus.generate import build_corpus  # noqa: E402
from bench.corpus.independent import load_split  # noqa: E402
from gateway.core.classify.features import analyse  # noqa: E402
from gateway.core.classify.risk import (  # noqa: E402
    FRAME_RAISES,
    HIGH_SEVERITY,
    MODEL_FILE,
    NEVER,
    RISK_TYPES,
    Thresholds,
    frame_backs,
    phrase_backs,
    raises,
    risk_words,
    vetoed,
)

EXTRA = ROOT / "bench" / "corpus" / "risk_training.jsonl"
OUT = ROOT / "gateway" / "core" / "classify" / MODEL_FILE
TRAP_COST = 3.0  # a flagged hard negative counts as this many false alarms
HIGH_WEIGHT = 10.0  # a high-severity message counts this many times: none may be missed
BETA = 2.5  # recall weighs BETA² times precision (--beta)
MIN_BETA = 2.0  # never lower: SELF_HARM and CHILD_AT_RISK are raised when in doubt
# High-severity recall comes first, among settings whose out-of-fold precision ("any
# risk") stays at this floor or above (the issue's target): without a floor, one more
# high-severity message would justify raising every message.
PRECISION_FLOOR = 0.80
TYPE_WEIGHT = 0.3  # share of the mean per-type F1 in the objective (--type-weight)
# A flag raised on every message that brushes a risk word stops meaning anything (a THREAT
# flag sends the duty desk after a person). Each type's out-of-fold precision must stay at
# its floor (--threat-precision, --self-harm-precision), as "any risk" must stay at
# PRECISION_FLOOR. The floors are set low enough that they cost no high-severity message
# out of fold (a THREAT floor of 0.70 cost one); check that figure after changing them.
TYPE_PRECISION_FLOOR = {"THREAT": 0.60, "SELF_HARM": 0.50}
# When in doubt for SELF_HARM and CHILD_AT_RISK, raise: a confident frame of these types
# can be vetoed by the model only when it is all but certain.
FRAME_FLOOR_CAP = {"SELF_HARM": 0.02, "CHILD_AT_RISK": 0.02}
TRAP = "TRAP"  # the hard-negative model: the message only sounds risky


@dataclass(frozen=True)
class Row:
    """One training message."""

    text: str
    risks: list[str]
    weight: float
    author: str = ""  # independent corpus only: folds are split by author
    high: bool = False
    trap: bool = False
    language: str = ""


def _jsonl(path: Path, weight: float) -> list[Row]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            rows.append(Row(record["text"], list(record.get("risks", [])), weight))
    return rows


def training_rows(
    feedback: Sequence[Path], weight: float, old_weight: float, splits: Sequence[str]
) -> list[Row]:
    """Independently written messages weigh ``weight`` times a generated one."""
    rows = [
        Row(m.text, m.risks, weight, m.author, m.must_catch, m.trap, m.language)
        for split in splits
        for m in load_split(split)
    ]
    rows += [Row(m.text, m.risks, old_weight) for m in build_corpus()]
    if EXTRA.exists():
        rows += _jsonl(EXTRA, weight)
    for path in feedback:
        rows += _jsonl(path, weight)
    return rows


@dataclass
class Scored:
    """One held-out message as the tuner sees it: out-of-fold probabilities and evidence."""

    p: dict[str, float]  # per risk type, and "TRAP"
    words: str  # risk_words(): in_scope, none, out_of_scope
    phrase: dict[str, bool]  # a phrase rule raises the type in scope: it stands
    framed: dict[str, bool]  # a confident frame backs the type
    gold: frozenset[str]
    high: bool
    trap: bool


def flags(m: Scored, decisions: dict[str, Thresholds], gate: float) -> set[str]:
    """The types raised for ``m`` under ``decisions`` (the same rule as ``risk.decide``)."""
    gated = m.p.get(TRAP, 0.0) >= gate
    return {
        t
        for t, d in decisions.items()
        if m.phrase[t]
        or (not vetoed(gated, t, m.framed[t]) and raises(m.p[t], m.words, m.framed[t], d))
    }


class Arrays:
    """The scored messages as arrays, so that the tuner can try many thresholds quickly."""

    def __init__(
        self,
        messages: Sequence[Scored],
        high_weight: float = HIGH_WEIGHT,
        trap_cost: float = TRAP_COST,
        type_floor: dict[str, float] | None = None,
    ) -> None:
        import numpy as np

        self.np = np
        self.p = np.array([[m.p[t] for t in RISK_TYPES] for m in messages])
        self.trap_p = np.array([m.p.get(TRAP, 0.0) for m in messages])
        self.in_scope = np.array([m.words == "in_scope" for m in messages])[:, None]
        self.none = np.array([m.words == "none" for m in messages])[:, None]
        self.out_of_scope = np.array([m.words == "out_of_scope" for m in messages])[:, None]
        self.high_type = np.array([t in HIGH_SEVERITY for t in RISK_TYPES])[None, :]
        self.high = np.array([m.high for m in messages])
        self.phrase = np.array([[m.phrase[t] for t in RISK_TYPES] for m in messages])
        self.framed = np.array([[m.framed[t] for t in RISK_TYPES] for m in messages])
        self.gold = np.array([[t in m.gold for t in RISK_TYPES] for m in messages])
        self.any_gold = self.gold.any(axis=1)
        self.weight = np.where([m.high for m in messages], high_weight, 1.0)
        self.fp_cost = np.where([m.trap for m in messages], trap_cost, 1.0)
        floors = TYPE_PRECISION_FLOOR if type_floor is None else type_floor
        self.type_floor = [(RISK_TYPES.index(t), f) for t, f in floors.items() if f > 0]


def objective(
    arrays: Arrays,
    decisions: dict[str, Thresholds],
    gate: float,
    beta: float = BETA,
    type_weight: float = TYPE_WEIGHT,
) -> tuple[bool, int, float]:
    """What the tuner maximises, in order: precision ("any risk") at PRECISION_FLOOR or
    above and each type of TYPE_PRECISION_FLOOR at its floor; the number of high-severity
    messages caught; then the message-level F-beta
    (recall weighs beta² times precision) over "any risk", with high-severity messages
    counting HIGH_WEIGHT times and a flagged trap TRAP_COST false alarms, plus a small
    share of per-type F1 so that each type keeps its meaning. The same decision as
    ``flags``, on arrays."""
    np = arrays.np
    d = [decisions[t] for t in RISK_TYPES]
    rule = np.array([x.rule for x in d])
    risk_word = np.array([x.risk_word for x in d])
    no_risk_word = np.array([x.no_risk_word for x in d])
    out_of_scope = np.array([x.out_of_scope for x in d])
    p = arrays.p
    model = (
        (arrays.framed & (p >= rule))
        | (arrays.in_scope & (p >= risk_word))
        | (arrays.none & (p >= no_risk_word))
        | (arrays.out_of_scope & (p >= out_of_scope))
    )
    # The gate never vetoes a confident frame of a high-severity type (``risk.vetoed``).
    open_ = (arrays.trap_p < gate)[:, None] | (arrays.framed & arrays.high_type)
    raised = arrays.phrase | (model & open_)
    got = raised.any(axis=1)
    tp = float(arrays.weight[got & arrays.any_gold].sum())
    fn = float(arrays.weight[~got & arrays.any_gold].sum())
    fp = float(arrays.fp_cost[got & ~arrays.any_gold].sum())
    b2 = beta * beta
    score = (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0
    a = (raised & arrays.gold).sum(axis=0)
    wrong = (raised ^ arrays.gold).sum(axis=0)
    f1 = np.where(a > 0, 2 * a / np.maximum(1, 2 * a + wrong), 0.0)
    n_got = int(got.sum())
    precise = n_got == 0 or (got & arrays.any_gold).sum() / n_got >= PRECISION_FLOOR
    for j, floor in arrays.type_floor:
        n_raised = int(raised[:, j].sum())
        precise = precise and (n_raised == 0 or a[j] / n_raised >= floor)
    high_caught = int((got & arrays.high).sum())
    return bool(precise), high_caught, score + type_weight * float(f1.mean())


GRID = (0.0, 0.02, 0.05, *(round(0.025 * k, 3) for k in range(3, 37)))
# The hard-negative gate may only close when that model is sure.
GATES = (*(round(0.05 * k, 2) for k in range(16, 20)), 2.0)
# With every risk word out of scope, the model alone raises a high-severity type only when
# it is sure.
OUT_OF_SCOPE_GRID = tuple(round(0.05 * k, 2) for k in range(10, 20))


def tune(
    messages: Sequence[Scored],
    with_gate: bool,
    beta: float = BETA,
    high_weight: float = HIGH_WEIGHT,
    type_weight: float = TYPE_WEIGHT,
    trap_cost: float = TRAP_COST,
    type_floor: dict[str, float] | None = None,
) -> tuple[dict[str, Thresholds], float]:
    """Per-type thresholds and the trap gate, by coordinate ascent on ``objective``."""
    arrays = Arrays(messages, high_weight, trap_cost, type_floor)
    decisions = {t: Thresholds(0.3, 0.5, 0.0) for t in RISK_TYPES}

    def better(a: tuple[bool, int, float], b: tuple[bool, int, float]) -> bool:
        return a[:2] > b[:2] or (a[:2] == b[:2] and a[2] > b[2] + 1e-9)

    gate = 2.0
    best = objective(arrays, decisions, gate, beta, type_weight)
    for _ in range(3):
        if with_gate:
            for g in GATES:
                score = objective(arrays, decisions, g, beta, type_weight)
                if better(score, best):
                    best, gate = score, g
        for t in RISK_TYPES:
            slots = ["risk_word", "no_risk_word", "rule"]
            if t in HIGH_SEVERITY:
                slots.append("out_of_scope")
            for slot in slots:
                grid = (*OUT_OF_SCOPE_GRID, NEVER) if slot == "out_of_scope" else GRID
                for value in grid:
                    if slot == "rule" and value > FRAME_FLOOR_CAP.get(t, 1.0):
                        continue
                    trial = {**decisions, t: replace(decisions[t], **{slot: value})}
                    score = objective(arrays, trial, gate, beta, type_weight)
                    if better(score, best):
                        best, decisions = score, trial
    return decisions, gate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feedback", type=Path, action="append", default=[])
    parser.add_argument("--c", type=float, default=0.5, help="inverse regularisation strength")
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--weight", type=float, default=4.0, help="weight of written messages")
    parser.add_argument("--old-weight", type=float, default=0.3, help="weight of generated ones")
    parser.add_argument("--prune", type=float, default=0.02, help="drop smaller weights")
    parser.add_argument("--folds", type=int, default=5, help="folds by author over train+dev")
    parser.add_argument("--show", action="store_true", help="print out-of-fold misses and traps")
    parser.add_argument(
        "--holdout",
        choices=("dev",),
        help="train without this split's authors and score them (an honest figure)",
    )
    parser.add_argument("--out", type=Path, help="where to write the model")
    parser.add_argument(
        "--beta", type=float, default=BETA, help="recall weighs beta² times precision"
    )
    parser.add_argument(
        "--high-weight", type=float, default=HIGH_WEIGHT, help="weight of a high-severity message"
    )
    parser.add_argument(
        "--type-weight",
        type=float,
        default=TYPE_WEIGHT,
        help="share of the mean per-type F1 in the objective (each type keeps its meaning)",
    )
    parser.add_argument(
        "--trap-cost",
        type=float,
        default=TRAP_COST,
        help="how many false alarms a flagged hard negative counts as",
    )
    parser.add_argument(
        "--threat-precision",
        type=float,
        default=TYPE_PRECISION_FLOOR["THREAT"],
        help="out-of-fold precision THREAT must keep (0: no floor)",
    )
    parser.add_argument(
        "--self-harm-precision",
        type=float,
        default=TYPE_PRECISION_FLOOR["SELF_HARM"],
        help="out-of-fold precision SELF_HARM must keep (0: no floor)",
    )
    parser.add_argument(
        "--no-trap-gate", action="store_true", help="never let the hard-negative model veto"
    )
    args = parser.parse_args(argv)
    if args.beta < MIN_BETA:
        print(f"--beta below {MIN_BETA} would trade high-severity recall away", file=sys.stderr)
        return 2
    if args.holdout and args.out is not None and args.out.resolve() == OUT.resolve():
        print(
            "--holdout trains a model for measuring only: give --out another path", file=sys.stderr
        )
        return 2
    out = args.out or (
        Path(tempfile.gettempdir()) / f"risk_model.without-{args.holdout}.json"
        if args.holdout
        else OUT
    )
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("scikit-learn is needed to train: pip install -e '.[train]'", file=sys.stderr)
        return 1

    splits = ("train",) if args.holdout else ("train", "dev")
    rows = training_rows(args.feedback, args.weight, args.old_weight, splits)
    analyses = [analyse(r.text) for r in rows]
    df: dict[str, int] = {}
    for a in analyses:
        for f in a.features:
            df[f] = df.get(f, 0) + 1
    keep = {f for f, n in df.items() if n >= args.min_df}
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([{f: 1 for f in a.features if f in keep} for a in analyses])
    names = vectorizer.get_feature_names_out()
    weights = [r.weight for r in rows]
    authors = sorted({r.author for r in rows if r.author})
    fold_of = {author: i % args.folds for i, author in enumerate(authors)}
    scored = [i for i, r in enumerate(rows) if r.author]

    def label(type_: str, i: int) -> bool:
        return rows[i].trap if type_ == TRAP else type_ in rows[i].risks

    def fit(type_: str, train_index: Sequence[int]) -> LogisticRegression:
        clf = LogisticRegression(C=args.c, class_weight="balanced", max_iter=5000)
        clf.fit(
            x[list(train_index)],
            [label(type_, i) for i in train_index],
            sample_weight=[weights[i] for i in train_index],
        )
        return clf

    bias: list[float] = []
    columns: list[list[float]] = []
    oof: dict[str, dict[int, float]] = {}
    for type_ in (*RISK_TYPES, TRAP):
        # Out-of-fold probabilities: each author scored by a model that never saw them.
        oof[type_] = {}
        for fold in range(args.folds):
            held = [i for i in scored if fold_of[rows[i].author] == fold]
            if not held:
                continue
            held_set = set(held)
            clf = fit(type_, [i for i in range(len(rows)) if i not in held_set])
            for i, p in zip(held, clf.predict_proba(x[held])[:, 1], strict=True):
                oof[type_][i] = float(p)
        clf = fit(type_, range(len(rows)))
        bias.append(float(clf.intercept_[0]))
        columns.append([float(w) for w in clf.coef_[0]])
    messages = [
        Scored(
            p={t: oof[t][i] for t in (*RISK_TYPES, TRAP)},
            words=risk_words(analyses[i]),
            phrase={t: phrase_backs(analyses[i], t) is not None for t in RISK_TYPES},
            framed={t: frame_backs(analyses[i], t, FRAME_RAISES) is not None for t in RISK_TYPES},
            gold=frozenset(rows[i].risks),
            high=rows[i].high,
            trap=rows[i].trap,
        )
        for i in scored
    ]
    decisions, gate = tune(
        messages,
        with_gate=not args.no_trap_gate,
        beta=args.beta,
        high_weight=args.high_weight,
        type_weight=args.type_weight,
        trap_cost=args.trap_cost,
        type_floor={"THREAT": args.threat_precision, "SELF_HARM": args.self_harm_precision},
    )
    flagged = {i: flags(m, decisions, gate) for i, m in zip(scored, messages, strict=True)}
    for type_, d in decisions.items():
        gold = [type_ in m.gold for m in messages]
        got = [type_ in flagged[i] for i in scored]
        tp = sum(g and f for g, f in zip(gold, got, strict=True))
        fp = sum(f and not g for g, f in zip(gold, got, strict=True))
        pos = sum(gold)
        print(
            f"{type_:<14} thresholds: risk word {d.risk_word:.3f}, no risk word "
            f"{d.no_risk_word:.3f}, rule {d.rule:.3f}, out of scope "
            f"{'never' if d.out_of_scope > 1 else f'{d.out_of_scope:.2f}'}; out-of-fold recall "
            f"{tp / pos if pos else 1:.3f} precision {tp / (tp + fp) if tp + fp else 1:.3f} (n={pos})"
        )
    print(f"hard-negative gate: {'off' if gate > 1 else f'{gate:.2f}'}")
    _summary(rows, scored, flagged)
    if args.show:
        for i in scored:
            r = rows[i]
            if (r.high and not flagged[i]) or (r.trap and flagged[i]):
                kind = "HIGH-MISS" if r.high else "TRAP-FLAG"
                print(f"  {kind} {r.author} {sorted(flagged[i])}: {' '.join(r.text.split())[:220]}")

    features: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        w = [round(col[j], 4) for col in columns]
        if max(abs(v) for v in w) >= args.prune:
            features[str(name)] = w
    model = {
        "types": list(RISK_TYPES),
        "bias": [round(b, 4) for b in bias[: len(RISK_TYPES)]],
        "thresholds": {t: d.risk_word for t, d in decisions.items()},
        "thresholds_no_risk_word": {t: d.no_risk_word for t, d in decisions.items()},
        "rule_floor": {t: d.rule for t, d in decisions.items()},
        "thresholds_out_of_scope": {
            t: d.out_of_scope for t, d in decisions.items() if d.out_of_scope <= 1
        },
        "trap": {"bias": round(bias[-1], 4), "gate": gate},
        "frame_raises": FRAME_RAISES,
        "features": dict(sorted(features.items())),
        "trained_on": {"messages": len(rows), "authors": len(authors), "c": args.c},
    }
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {out}: {len(features)} features, {out.stat().st_size} bytes")
    if args.holdout:
        from bench.classify import risk_report
        from gateway.core.classify.risk import RiskModel, decide

        held_out = RiskModel.from_json(model)
        messages = load_split(args.holdout)
        print(
            f"\n##### {args.holdout} authors scored by a model trained without them "
            f"({len(messages)} messages)"
        )
        risk_report(
            messages,
            show=args.show,
            risks_of=lambda text: decide(analyse(text), held_out),
        )
    return 0


def _summary(rows: Sequence[Row], scored: Sequence[int], flagged: dict[int, set[str]]) -> None:
    """Out-of-fold figures at the chosen thresholds, message level."""
    tp = fp = fn = high = high_caught = traps = traps_flagged = 0
    for i in scored:
        gold, got = bool(rows[i].risks), bool(flagged[i])
        tp += gold and got
        fp += got and not gold
        fn += gold and not got
        if rows[i].high:
            high += 1
            high_caught += got
        if rows[i].trap:
            traps += 1
            traps_flagged += got
    print(
        f"out-of-fold, any risk: recall {tp / max(1, tp + fn):.3f} precision "
        f"{tp / max(1, tp + fp):.3f}; high severity {high_caught}/{high}; "
        f"traps flagged {traps_flagged}/{traps}"
    )
    missed: dict[tuple[str, str], int] = {}
    for i in scored:
        if rows[i].high and not flagged[i]:
            for type_ in rows[i].risks or ["?"]:
                key = (type_, rows[i].language)
                missed[key] = missed.get(key, 0) + 1
    print(
        "out-of-fold high-severity misses by type and language: "
        + (", ".join(f"{t} {lang} {n}" for (t, lang), n in sorted(missed.items())) or "none")
    )


if __name__ == "__main__":
    raise SystemExit(main())
