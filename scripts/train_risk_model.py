"""Train the risk model shipped as ``gateway/core/classify/risk_model.json``.

Training data: the independent corpus's train and dev splits, the old generated corpus and the
extra messages in ``bench/corpus/risk_training.jsonl`` (written for training, never
taken from the test split), plus caseworker feedback exported with
``case-gateway classify export-feedback`` (``--feedback FILE``, repeatable). One logistic
regression per risk type over ``features.analyse``. Thresholds are set on out-of-fold
probabilities: the train and dev authors are split into folds, each fold scored by a
model that never saw its authors, and each type's threshold is the one with the best
recall-weighted F2 there (high-severity messages count three times; a message the phrase
rules or a confident frame already raise counts as caught). The test split is never read. scikit-learn is needed here only (the
``bench`` extra); the gateway reads the JSON with no scikit-learn and no network.

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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus.generate import build_corpus  # noqa: E402
from bench.corpus.independent import load_split  # noqa: E402
from gateway.core.classify.features import Analysis, analyse  # noqa: E402
from gateway.core.classify.risk import (  # noqa: E402
    FRAME_RAISES,
    MODEL_FILE,
    RISK_TYPES,
    has_evidence,
)

EXTRA = ROOT / "bench" / "corpus" / "risk_training.jsonl"
OUT = ROOT / "gateway" / "core" / "classify" / MODEL_FILE
TRAP_COST = 3.0
MAX_THRESHOLD = 0.7
MIN_THRESHOLD = 0.1


@dataclass(frozen=True)
class Row:
    """One training message."""

    text: str
    risks: list[str]
    weight: float
    author: str = ""  # independent corpus only: folds are split by author
    high: bool = False
    trap: bool = False


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
        Row(m.text, m.risks, weight, m.author, m.must_catch, m.trap)
        for split in splits
        for m in load_split(split)
    ]
    rows += [Row(m.text, m.risks, old_weight) for m in build_corpus()]
    if EXTRA.exists():
        rows += _jsonl(EXTRA, weight)
    for path in feedback:
        rows += _jsonl(path, weight)
    return rows


def threshold_for(
    probabilities: Sequence[float],
    gold: Sequence[bool],
    high: Sequence[bool],
    trap: Sequence[bool],
) -> float:
    """The dev threshold with the best F2 (recall counts four times precision).

    High-severity messages count three times, so a threshold that misses one of them
    pays for it; a flagged trap (a hard negative) counts as TRAP_COST false alarms. Bounded to [MIN_THRESHOLD, MAX_THRESHOLD] so a small dev split cannot
    push the model to flag everything or almost nothing.
    """
    best, best_score = MAX_THRESHOLD, -1.0
    candidates = sorted({round(p, 4) for p in probabilities} | {MIN_THRESHOLD, MAX_THRESHOLD})
    for t in candidates:
        if not MIN_THRESHOLD <= t <= MAX_THRESHOLD:
            continue
        tp = fp = fn = 0.0
        for p, g, h, hard in zip(probabilities, gold, high, trap, strict=True):
            weight = 3.0 if h else 1.0
            if p >= t and g:
                tp += weight
            elif p >= t:
                fp += TRAP_COST if hard else 1.0
            elif g:
                fn += weight
        score = 5 * tp / (5 * tp + 4 * fn + fp) if tp else 0.0
        if score > best_score:
            best, best_score = t, score
    return best


def raised_by_rules(analysis: Analysis, type_: str) -> bool:
    """Whether the phrase rules or a confident frame raise ``type_`` whatever the model says."""
    if any(r.type == type_ for r in analysis.phrases):
        return True
    floor = FRAME_RAISES.get(type_)
    return floor is not None and any(
        h.frame.type == type_ and h.frame.confidence >= floor for h in analysis.frames
    )


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
    args = parser.parse_args(argv)
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
        print("scikit-learn is needed to train: pip install -e '.[bench]'", file=sys.stderr)
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

    def fit(type_: str, train_index: Sequence[int]) -> LogisticRegression:
        clf = LogisticRegression(C=args.c, class_weight="balanced", max_iter=5000)
        clf.fit(
            x[list(train_index)],
            [type_ in rows[i].risks for i in train_index],
            sample_weight=[weights[i] for i in train_index],
        )
        return clf

    bias: list[float] = []
    columns: list[list[float]] = []
    thresholds: dict[str, float] = {}
    flagged: dict[int, set[str]] = {i: set() for i in scored}
    for type_ in RISK_TYPES:
        # Out-of-fold probabilities: each author scored by a model that never saw them.
        oof: dict[int, float] = {}
        for fold in range(args.folds):
            held = [i for i in scored if fold_of[rows[i].author] == fold]
            if not held:
                continue
            held_set = set(held)
            clf = fit(type_, [i for i in range(len(rows)) if i not in held_set])
            for i, p in zip(held, clf.predict_proba(x[held])[:, 1], strict=True):
                oof[i] = float(p)
        effective = [
            1.0
            if raised_by_rules(analyses[i], type_)
            else (oof[i] if has_evidence(analyses[i]) else 0.0)
            for i in scored
        ]
        gold = [type_ in rows[i].risks for i in scored]
        thresholds[type_] = round(
            threshold_for(
                effective, gold, [rows[i].high for i in scored], [rows[i].trap for i in scored]
            ),
            4,
        )
        for i, p in zip(scored, effective, strict=True):
            if p >= thresholds[type_]:
                flagged[i].add(type_)
        tp = sum(1 for p, g in zip(effective, gold, strict=True) if g and p >= thresholds[type_])
        fp = sum(
            1 for p, g in zip(effective, gold, strict=True) if not g and p >= thresholds[type_]
        )
        pos = sum(gold)
        print(
            f"{type_:<14} threshold {thresholds[type_]:.3f}  out-of-fold recall "
            f"{tp / pos if pos else 1:.3f} precision {tp / (tp + fp) if tp + fp else 1:.3f} (n={pos})"
        )
        clf = fit(type_, range(len(rows)))
        bias.append(float(clf.intercept_[0]))
        columns.append([float(w) for w in clf.coef_[0]])
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
        "bias": [round(b, 4) for b in bias],
        "thresholds": thresholds,
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


if __name__ == "__main__":
    raise SystemExit(main())
