"""The jsonl contract of ``case-gateway classify`` and the log and preview helpers."""

from __future__ import annotations

import io
import json

from gateway.classify_cli import run_jsonl
from gateway.core.classify import mask_for_log, preview


def run(lines: list[str], **options: object) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = run_jsonl(io.StringIO("\n".join(lines) + "\n"), out, **options)  # type: ignore[arg-type]
    return status, out.getvalue().splitlines()


def test_each_line_gives_one_classification() -> None:
    status, lines = run(
        [
            json.dumps({"id": "m1", "text": "Emma sin fnr er 01010750160", "names": ["Emma Berg"]}),
            json.dumps({"id": 2, "text": "pappa slår meg"}),
        ]
    )
    assert status == 0
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "id": "m1",
        "entities": [
            {
                "start": 0,
                "end": 4,
                "type": "PERSON_NAME",
                "rule": "person_name.case_record",
                "confidence": 0.95,
            },
            {
                "start": 16,
                "end": 27,
                "type": "NO_FNR",
                "rule": "no_fnr.date+mod11",
                "confidence": 0.99,
            },
        ],
        "risks": [],
        "redacted": "[NAVN] sin fnr er [FØDSELSNUMMER]",
    }
    assert second["id"] == 2
    assert [(r["type"], r["rule"]) for r in second["risks"]] == [("CHILD_AT_RISK", "child.nb.hit")]


def test_offsets_are_python_string_indices() -> None:
    text = "Hei 👋 ring 91234567"
    _, lines = run([json.dumps({"id": "x", "text": text})])
    (entity,) = json.loads(lines[0])["entities"]
    assert text[entity["start"] : entity["end"]] == "91234567"


def test_bad_lines_are_reported_and_processing_continues() -> None:
    status, lines = run(
        [
            "not json",
            json.dumps(["a", "list"]),
            json.dumps({"text": "no id"}),
            json.dumps({"id": "t", "text": 42}),
            json.dumps({"id": "n", "text": "hei", "names": "Emma"}),
            json.dumps({"id": "ok", "text": "tlf 91234567"}),
        ]
    )
    assert status == 1
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [None, None, None, None, None, "ok"]
    assert all("error" in r for r in records[:5])
    assert records[5]["redacted"] == "tlf [TELEFON]"


def test_blank_lines_are_skipped() -> None:
    status, lines = run(["", json.dumps({"id": 1, "text": "hei"}), "  "])
    assert status == 0 and len(lines) == 1


def test_language_chooses_placeholders() -> None:
    _, lines = run([json.dumps({"id": 1, "text": "fnr 01010750160"})], language="en")
    assert json.loads(lines[0])["redacted"] == "fnr [NATIONAL ID]"


def test_explain_names_rule_span_and_confidence() -> None:
    status, lines = run(
        [json.dumps({"id": "e", "text": "jeg vil dø, ring 91234567"})], explain=True
    )
    text = "\n".join(lines)
    assert status == 0
    assert "message e: URGENT" in text
    assert (
        "PHONE" in text
        and "'91234567'" in text
        and "rule=phone.NO" in text
        and "confidence=0.93" in text
    )
    assert "RISK SELF_HARM" in text and "evidence='jeg vil dø'" in text


def test_mask_for_log_hides_numbers_and_addresses() -> None:
    line = "from +47 912 34 567 <kari.nordmann@example.no> fnr 01010750160 sak 12"
    masked = mask_for_log(line)
    assert masked == "from ***67 <k***@example.no> fnr ***60 sak 12"


def test_preview_is_redacted_flat_and_short() -> None:
    text = "Hei!\n\nEmma sin fnr er 01010750160 og " + "vi trenger hjelp " * 20
    shown = preview(text, known_names=["Emma"], limit=60)
    assert len(shown) <= 60
    assert shown.startswith("Hei! [NAVN] sin fnr er [FØDSELSNUMMER] og")
    assert shown.endswith("…") and "\n" not in shown


def test_preview_never_cuts_a_placeholder() -> None:
    shown = preview("ring 91234567 nå", limit=10)
    assert shown == "ring…"
