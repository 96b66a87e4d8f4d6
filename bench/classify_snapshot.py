"""Record what the classifier answers for every corpus message, and check it has not changed.

Speed work on the classifier must not change a single answer a caseworker sees. This
script runs ``classify()`` over every message of the independent corpus
(``bench/eval/{train,dev,test}.jsonl``), the generated corpus (``bench/corpus``) and the
risk training lines, and writes one line per message: the entities (start, end, type,
rule, confidence), the risks (type, rule, confidence, evidence span, why), the redacted
text in two service languages, and the risk model's feature set. ``--check`` compares a
new run with a recorded one and prints the first messages that differ.

The run uses a fixed string hash seed: which concept of a frame's slot is tried first
follows set order, so a risk's evidence span can differ between two processes.

    .venv/bin/python bench/classify_snapshot.py --write /tmp/classify-snapshot.jsonl
    .venv/bin/python bench/classify_snapshot.py --check /tmp/classify-snapshot.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus.generate import build_corpus
from gateway.core.classify import classify
from gateway.core.classify.features import analyse

ROOT = Path(__file__).resolve().parents[1]


def messages() -> Iterator[tuple[str, str, list[str]]]:
    """``(id, text, known names)`` for every message of every corpus, in a fixed order."""
    for split in ("train", "dev", "test"):
        path = ROOT / "bench" / "eval" / f"{split}.jsonl"
        for n, line in enumerate(path.read_text("utf-8").splitlines()):
            if line.strip():
                record = json.loads(line)
                yield f"eval.{split}.{n}", str(record["text"]), []
    for n, message in enumerate(build_corpus()):
        yield f"old.{n}", message.text, list(message.names)
    training = ROOT / "bench" / "corpus" / "risk_training.jsonl"
    if training.exists():
        for n, line in enumerate(training.read_text("utf-8").splitlines()):
            if line.strip():
                record = json.loads(line)
                yield f"risk_training.{n}", str(record["text"]), []


def answer(text: str, names: list[str]) -> dict[str, Any]:
    """Everything the classifier says about one message."""
    result = classify(text, known_names=names)
    english = classify(text, known_names=names, language="en")
    features = "\n".join(sorted(analyse(text).features))
    return {
        "entities": [[e.start, e.end, e.type, e.rule, e.confidence] for e in result.entities],
        "risks": [
            [r.type, r.rule, r.confidence, r.start, r.end, list(r.why)] for r in result.risks
        ],
        "redacted": result.redacted,
        "redacted_en": english.redacted,
        "features": hashlib.sha256(features.encode()).hexdigest(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="record the answers to this file")
    mode.add_argument("--check", type=Path, help="compare the answers with this recording")
    parser.add_argument("--show", type=int, default=5, help="differences to print (ids only)")
    args = parser.parse_args(argv)

    lines = [
        json.dumps({"id": mid, **answer(text, names)}, ensure_ascii=False, sort_keys=True)
        for mid, text, names in messages()
    ]
    if args.write:
        args.write.write_text("\n".join(lines) + "\n", "utf-8")
        print(f"{len(lines)} messages recorded in {args.write}")
        return 0
    recorded = args.check.read_text("utf-8").splitlines()
    if len(recorded) != len(lines):
        print(f"{len(lines)} messages now, {len(recorded)} recorded: the corpora changed")
        return 1
    differ = [json.loads(new)["id"] for old, new in zip(recorded, lines, strict=True) if old != new]
    for mid in differ[: args.show]:
        print(f"differs: {mid}")
    print(f"{len(lines)} messages, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
