"""Shell for ``case-gateway classify --jsonl``: JSON lines in, one classification per line out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gateway.core.classify import Classification, classify

if TYPE_CHECKING:
    from gateway.settings import Settings


class InputLineError(ValueError):
    """A line of input that is not a classifiable message."""


def _parse_line(line: str) -> tuple[Any, str, list[str]]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputLineError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(record, dict):
        raise InputLineError("expected a JSON object with 'id' and 'text'")
    if "id" not in record:
        raise InputLineError("missing 'id'")
    text = record.get("text")
    if not isinstance(text, str):
        raise InputLineError("'text' must be a string")
    names = record.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputLineError("'names' must be a list of strings")
    return record["id"], text, names


def classification_record(message_id: Any, result: Classification) -> dict[str, Any]:
    """The JSON object one output line carries."""
    return {
        "id": message_id,
        "entities": [
            {
                "start": e.start,
                "end": e.end,
                "type": e.type,
                "rule": e.rule,
                "confidence": e.confidence,
            }
            for e in result.entities
        ],
        "risks": [
            {
                "type": r.type,
                "rule": r.rule,
                "confidence": r.confidence,
                "start": r.start,
                "end": r.end,
                "why": list(r.why),
            }
            for r in result.risks
        ],
        "redacted": result.redacted,
    }


def explanation(message_id: Any, text: str, result: Classification) -> str:
    """A human-readable account of which rule fired on which span, with confidence."""
    lines = [f"message {message_id}: {'URGENT' if result.urgent else 'not urgent'}"]
    for e in result.entities:
        lines.append(
            f"  {e.type:<15} {e.start:>4}-{e.end:<4} {text[e.start : e.end]!r} "
            f"rule={e.rule} confidence={e.confidence:.2f}"
        )
    for r in result.risks:
        lines.append(
            f"  RISK {r.type:<15} {r.start:>4}-{r.end:<4} evidence={text[r.start : r.end]!r} "
            f"rule={r.rule} confidence={r.confidence:.2f}"
            + (f" why={','.join(r.why)}" if r.why else "")
        )
    if not result.entities and not result.risks:
        lines.append("  nothing sensitive found")
    lines.append(f"  redacted: {result.redacted}")
    return "\n".join(lines)


def run_jsonl(stdin: TextIO, stdout: TextIO, *, explain: bool = False, language: str = "nb") -> int:
    """Classify each ``{"id", "text", "names"?}`` line of ``stdin`` onto ``stdout``.

    A malformed line yields ``{"id": null, "error": ...}`` (or an explanation of the
    error) and processing continues. Returns 0 when every line was fine, else 1.
    """
    status = 0
    for raw in stdin:
        if not raw.strip():
            continue
        try:
            message_id, text, names = _parse_line(raw)
        except InputLineError as error:
            status = 1
            if explain:
                stdout.write(f"error: {error}\n")
            else:
                stdout.write(
                    json.dumps({"id": None, "error": str(error)}, ensure_ascii=False) + "\n"
                )
            continue
        result = classify(text, known_names=names, language=language)
        if explain:
            stdout.write(explanation(message_id, text, result) + "\n")
        else:
            record = classification_record(message_id, result)
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return status


async def export_feedback(settings: Settings, output: str, stdout: TextIO, stderr: TextIO) -> int:
    """Write every message caseworkers marked (latest verdict, redacted text) as JSON lines.

    The lines feed ``scripts/train_risk_model.py --feedback FILE``. A database that is missing,
    unreachable or not migrated is one line naming the fix (raised as a ``CommandError``).
    """
    from gateway.command_errors import open_database
    from gateway.risk_feedback import feedback_for_training

    db = await open_database(settings)
    lines: list[str] = []
    try:
        async for record in feedback_for_training(db):
            lines.append(json.dumps(record, ensure_ascii=False))
    finally:
        await db.close()
    text = "".join(line + "\n" for line in lines)
    if output == "-":
        stdout.write(text)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"case-gateway: cannot write {output}: {exc.strerror}", file=stderr)
            return 1
        print(f"wrote {len(lines)} marked message(s) to {output}", file=stderr)
    return 0
