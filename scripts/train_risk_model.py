"""Train the risk model shipped as ``gateway/core/classify/risk_model.json``.

Training data: the independent corpus's train split, the old generated corpus and the
extra messages in ``bench/corpus/risk_training.jsonl`` (written for training, never
taken from the test split), plus caseworker feedback exported with
``case-gateway classify export-feedback`` (``--feedback FILE``, repeatable). One logistic
regression per risk type over ``features.analyse``; thresholds are then set on the dev
split for the best recall-weighted F2, high-severity messages counting three times. scikit-learn is needed here only (the
``bench`` extra); the gateway reads the JSON with no scikit-learn and no network.

    .venv/bin/python scripts/train_risk_model.py [--feedback feedback.jsonl] [--c 0.5]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus.generate import build_corpus  # noqa: E402
from bench.corpus.independent import load_split  # noqa: E402
from gateway.core.classify.features import analyse  # noqa: E402
from gateway.core.classify.risk import MODEL_FILE, RISK_TYPES  # noqa: E402

EXTRA = ROOT / "bench" / "corpus" / "risk_training.jsonl"
OUT = ROOT / "gateway" / "core" / "classify" / MODEL_FILE
RECALL_TARGET = 0.95
MAX_THRESHOLD = 0.5
MIN_THRESHOLD = 0.1


Row = tuple[str, list[str], float]  # text, risk types, sample weight


def _jsonl(path: Path, weight: float) -> list[Row]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            rows.append((record["text"], list(record.get("risks", [])), weight))
    return rows


def training_rows(feedback: Sequence[Path], weight: float, old_weight: float) -> list[Row]:
    """Independently written messages weigh ``weight`` times a generated one."""
    rows = [(m.text, m.risks, weight) for m in load_split("train")]
    rows += [(m.text, m.risks, old_weight) for m in build_corpus()]
    if EXTRA.exists():
        rows += _jsonl(EXTRA, weight)
    for path in feedback:
        rows += _jsonl(path, weight)
    return rows


def threshold_for(
    probabilities: Sequence[float], gold: Sequence[bool], high: Sequence[bool]
) -> float:
    """The dev threshold with the best F2 (recall counts four times precision).

    High-severity messages count three times, so a threshold that misses one of them
    pays for it. Bounded to [MIN_THRESHOLD, MAX_THRESHOLD] so a small dev split cannot
    push the model to flag everything or almost nothing.
    """
    best, best_score = MAX_THRESHOLD, -1.0
    candidates = sorted({round(p, 4) for p in probabilities} | {MIN_THRESHOLD, MAX_THRESHOLD})
    for t in candidates:
        if not MIN_THRESHOLD <= t <= MAX_THRESHOLD:
            continue
        tp = fp = fn = 0.0
        for p, g, h in zip(probabilities, gold, high, strict=True):
            weight = 3.0 if h else 1.0
            if p >= t and g:
                tp += weight
            elif p >= t:
                fp += 1
            elif g:
                fn += weight
        score = 5 * tp / (5 * tp + 4 * fn + fp) if tp else 0.0
        if score > best_score:
            best, best_score = t, score
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feedback", type=Path, action="append", default=[])
    parser.add_argument("--c", type=float, default=0.5, help="inverse regularisation strength")
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--weight", type=float, default=4.0, help="weight of written messages")
    parser.add_argument("--old-weight", type=float, default=0.5, help="weight of generated ones")
    parser.add_argument("--prune", type=float, default=0.02, help="drop smaller weights")
    args = parser.parse_args(argv)
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("scikit-learn is needed to train: pip install -e '.[bench]'", file=sys.stderr)
        return 1

    rows = training_rows(args.feedback, args.weight, args.old_weight)
    feats = [analyse(text).features for text, _, _ in rows]
    df: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            df[f] = df.get(f, 0) + 1
    keep = {f for f, n in df.items() if n >= args.min_df}
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([{f: 1 for f in fs if f in keep} for fs in feats])
    names = vectorizer.get_feature_names_out()
    dev = load_split("dev")
    dev_x = vectorizer.transform([{f: 1 for f in analyse(m.text).features} for m in dev])

    bias: list[float] = []
    columns: list[list[float]] = []
    thresholds: dict[str, float] = {}
    for type_ in RISK_TYPES:
        y = [type_ in risks for _, risks, _ in rows]
        clf = LogisticRegression(C=args.c, class_weight="balanced", max_iter=5000)
        clf.fit(x, y, sample_weight=[w for _, _, w in rows])
        bias.append(float(clf.intercept_[0]))
        columns.append([float(w) for w in clf.coef_[0]])
        if dev:
            probs = clf.predict_proba(dev_x)[:, 1]
            thresholds[type_] = round(
                threshold_for(
                    list(probs), [type_ in m.risks for m in dev], [m.must_catch for m in dev]
                ),
                4,
            )
        else:
            thresholds[type_] = MAX_THRESHOLD
        print(f"{type_:<14} positives {sum(y):>5}/{len(y)}  dev threshold {thresholds[type_]:.3f}")

    features: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        w = [round(col[j], 4) for col in columns]
        if max(abs(v) for v in w) >= args.prune:
            features[str(name)] = w
    model = {
        "types": list(RISK_TYPES),
        "bias": [round(b, 4) for b in bias],
        "thresholds": thresholds,
        "features": dict(sorted(features.items())),
        "trained_on": {"messages": len(rows), "dev_messages": len(dev), "c": args.c},
    }
    OUT.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(features)} features, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
