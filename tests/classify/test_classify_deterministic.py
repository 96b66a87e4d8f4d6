"""A message gets the same risks, with the same evidence, in every process.

The evidence span of a frame once depended on the order of a frozenset, which follows
Python's per-process string hash seed: two gateway processes could show a caseworker
different words as the reason for the same flag.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from gateway.core.classify import classify
out = []
for line in open(sys.argv[1], encoding="utf-8"):
    result = classify(json.loads(line)["text"])
    out.append([[r.type, r.rule, r.start, r.end] for r in result.risks])
print(json.dumps(out))
"""


def _risks_with_seed(corpus: Path, seed: str) -> list[list[list[object]]]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(corpus)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(done.stdout))


def test_evidence_does_not_depend_on_the_hash_seed() -> None:
    corpus = ROOT / "bench" / "eval" / "dev.jsonl"
    first = _risks_with_seed(corpus, "1")
    assert any(first), "the dev corpus raises risks"
    for seed in ("2", "3"):
        assert _risks_with_seed(corpus, seed) == first
