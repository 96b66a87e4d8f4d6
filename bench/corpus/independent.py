"""Load the independent evaluation corpus (``bench/eval/{train,dev,test}.jsonl``).

The corpus is written by people who never see the classifier's rules and is split by
author, so a figure on ``test`` says how the classifier does on wording it was not built
from. ``bench/eval/build.py`` turns the authors' sources into the three splits; when a
split file is missing it is built first.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.corpus.generate import Message

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"
SPLITS = ("train", "dev", "test")


def _builder() -> ModuleType | None:
    """``bench/eval/build.py``, which knows the split by author and the entity markup."""
    path = EVAL_DIR / "build.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_eval_build", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records(split: str) -> list[dict[str, Any]]:
    """The lines of one split, built in memory from the sources of that split's authors.

    Only the files of the split's own authors are read, and nothing is written: the
    corpus files belong to its writers.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    build = _builder()
    if build is None:
        path = EVAL_DIR / f"{split}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    rows: list[dict[str, Any]] = []
    for source in sorted((EVAL_DIR / "src").glob("*.jsonl")):
        if build.split_of(source.stem) != split:
            continue
        for line in source.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            clean, entities, problems = build.strip_markup(obj["text"])
            if problems or build.split_of(obj["author"]) != split:
                continue
            rows.append({**obj, "text": clean, "entities": entities})
    return rows


def message_from_record(record: dict[str, object], split: str) -> Message:
    """One corpus line as the bench's ``Message``."""
    entities = [
        (int(e["start"]), int(e["end"]), str(e["type"]))  # type: ignore[index]
        for e in record.get("entities", [])  # type: ignore[union-attr]
    ]
    risks = [str(r) for r in record.get("risks", [])]  # type: ignore[union-attr]
    severity = record.get("severity")
    return Message(
        id=str(record["id"]),
        language=str(record.get("language", "?")),
        split=split,
        template=str(record.get("author", "")),
        style=str(record.get("channel", "")),
        text=str(record["text"]),
        names=[],
        entities=entities,
        risks=risks,
        must_catch=severity == "high",
        severity=str(severity) if severity else None,
        trap=bool(record.get("trap", False)),
        author=str(record.get("author", "")),
    )


def load_split(split: str) -> list[Message]:
    """Every message of one split; an empty list when the corpus is not there yet."""
    return [message_from_record(record, split) for record in records(split)]
