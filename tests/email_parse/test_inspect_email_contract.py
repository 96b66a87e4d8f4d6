"""The ``inspect-email FILE --json`` contract: one JSON object with the documented fields,
exit 0; or ``{"error": ...}`` and exit 2 when nothing can be parsed, never a crash."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.inspect_email import inspect_email_main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"

REQUIRED: dict[str, type | tuple[type, ...]] = {
    "new_text": str,
    "quoted_text": str,
    "signature": str,
    "forwarded": bool,
    "attachments": list,
    "auto_submitted": bool,
    "bounce": bool,
    "in_reply_to": (str, type(None)),
    "references": list,
    "sender_auth": dict,
    "defects": list,
}
ATTACHMENT_FIELDS = {"filename", "content_type", "size", "verdict", "reason"}


def run(path: Path | str, trusted_authserv_id: str | None = None) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    status = inspect_email_main(str(path), out, trusted_authserv_id=trusted_authserv_id)
    text = out.getvalue()
    return status, json.loads(text)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_prints_the_contract(fixture: str) -> None:
    status, result = run(FIXTURES / fixture)
    assert status == 0
    for name, kind in REQUIRED.items():
        assert isinstance(result[name], kind), name
    assert set(result["sender_auth"]) == {"dkim", "spf", "dmarc"}
    for attachment in result["attachments"]:
        assert ATTACHMENT_FIELDS <= set(attachment)
        assert attachment["verdict"] in ("kept", "blocked")


def test_values_for_a_gmail_reply(tmp_path: Path) -> None:
    status, result = run(
        FIXTURES / "gmail_nb_reply.eml", trusted_authserv_id="mx.barnevern.example.no"
    )
    assert status == 0
    assert result["new_text"].startswith("Hei!")
    assert result["in_reply_to"] == "<Zx9q2Lr8Tn0aB@barnevern.example.no>"
    assert result["sender_auth"] == {"dkim": "pass", "spf": "pass", "dmarc": "pass"}


def test_blocked_attachment_appears_with_its_reason() -> None:
    status, result = run(FIXTURES / "exe_renamed_pdf.eml")
    assert status == 0
    first = result["attachments"][0]
    assert first["filename"] == "faktura.pdf"
    assert first["content_type"] == "application/x-msdownload"
    assert first["verdict"] == "blocked"
    assert "executable" in first["reason"]


@pytest.mark.parametrize(
    ("content", "error_words"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x00\x01\x02\xff\xfe binary garbage \x89PNG", "no header fields"),
        (b"just some words without any header\n", "no header fields"),
    ],
)
def test_unparseable_files_give_an_error_and_status_2(
    tmp_path: Path, content: bytes, error_words: str
) -> None:
    path = tmp_path / "input.eml"
    path.write_bytes(content)
    status, result = run(path)
    assert status == 2
    assert error_words in str(result["error"])


def test_missing_file_and_directory_give_an_error(tmp_path: Path) -> None:
    assert run(tmp_path / "nope.eml")[0] == 2
    status, result = run(tmp_path)
    assert status == 2
    assert "cannot read" in str(result["error"])


def test_garbage_with_a_header_line_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "odd.eml"
    path.write_bytes(b"X-Only: one\n\n\xff\xfe\x00\x01 binary")
    status, result = run(path)
    assert status == 0
    assert isinstance(result["new_text"], str)


def test_output_survives_a_terminal_that_cannot_show_utf8() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    status = inspect_email_main(str(FIXTURES / "android_nn.eml"), out)
    out.flush()
    assert status == 0
    assert "måndag" in json.loads(raw.getvalue().decode("ascii"))["new_text"]
