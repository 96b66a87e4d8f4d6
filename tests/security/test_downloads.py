"""Attachments are offered safely: names cannot add header parameters, only allowlisted
pictures keep their type, ids in names are redacted, videos are seen only through reveal."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage
from urllib.parse import unquote

import aiohttp
import pytest
from sqlalchemy import select

from gateway.attachments import AttachmentUnavailable, attachment_for_display
from gateway.core.email.attachment_policy import (
    content_disposition,
    redact_filename,
    sanitize_filename,
    served_content_type,
)
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Attachment
from tests.email.conftest import AUTHSERV, SERVICE, deliver, smtp_port
from tests.email.test_attachment_display import jpeg_with_gps
from tests.helpers import PARENT_EMAIL, processed, seed_case

HOSTILE_NAME = 'notes.html"; x=".txt'
HTML_PAGE = (
    b'<html><body><form action="https://evil.example/login"><input name=pw></form></body></html>'
)
VALID_FNR = "15076500565"


_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def disposition_params(value: str) -> dict[str, str]:
    """How a browser splits the header into parameters (RFC 6266 grammar: token or quoted)."""
    found: dict[str, str] = {}
    for name, raw in _PARAM.findall(value):
        assert name.lower() not in found, f"parameter {name} twice in {value!r}"
        found[name.lower()] = raw[1:-1] if raw.startswith('"') else raw.strip()
    return found


@pytest.mark.parametrize(
    "name",
    [HOSTILE_NAME, "a\";filename*=UTF-8''evil.html", "brev æøå.pdf", "x\\y.pdf", "%22.pdf", ""],
)
def test_content_disposition_has_exactly_two_parameters(name: str) -> None:
    safe = sanitize_filename(name, 1, "application/pdf")
    value = content_disposition(safe)
    params = disposition_params(value)
    assert set(params) == {"filename", "filename*"}
    assert unquote(params["filename*"].split("''", 1)[1]) == safe
    assert '"' not in params["filename"] and ";" not in params["filename"]


def test_hostile_name_keeps_its_real_last_extension() -> None:
    safe = sanitize_filename(HOSTILE_NAME, 1, "text/html")
    assert safe.endswith(".txt") and '"' not in safe and ";" not in safe
    assert disposition_params(content_disposition(safe))["filename"].endswith(".txt")


def test_only_allowlisted_pictures_keep_their_type() -> None:
    assert served_content_type("image/jpeg") == "image/jpeg"
    for other in ("text/html", "image/svg+xml", "application/pdf", "text/plain", "video/mp4"):
        assert served_content_type(other) == "application/octet-stream"


def test_ids_in_attachment_names_are_redacted() -> None:
    assert VALID_FNR not in redact_filename(f"pass_{VALID_FNR}_kari.jpg")
    assert redact_filename(f"pass_{VALID_FNR}_kari.jpg").endswith("_kari.jpg")
    assert "91234567" not in redact_filename("ring meg 91234567.pdf")
    assert redact_filename("rommet.jpg") == "rommet.jpg"


async def test_hostile_attachment_over_smtp_is_served_as_opaque_bytes(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    m = EmailMessage()
    m["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
    m["To"] = SERVICE
    m["Subject"] = "Vedlegg"
    m["Message-ID"] = "<hostile-name@example.org>"
    m["Authentication-Results"] = f"{AUTHSERV}; dmarc=pass header.from=example.org"
    m.set_content("Se vedlegg.")
    m.add_attachment(HTML_PAGE, maintype="text", subtype="plain", filename=HOSTILE_NAME)
    m.add_attachment(b"%PDF-1.4\n%%EOF\n", "application", "pdf", filename=f"pass_{VALID_FNR}.pdf")
    m.add_attachment(jpeg_with_gps(), "image", "jpeg", filename="rommet.jpg")
    m.add_attachment(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video", "mp4", filename="v.mp4")
    assert (
        await asyncio.to_thread(deliver, smtp_port(gateway), m.as_bytes(), sender=PARENT_EMAIL)
        == {}
    )
    await processed(gateway)
    async with runtime.db.read() as s:
        rows = (await s.execute(select(Attachment).order_by(Attachment.id))).scalars().all()
    names = [a.filename for a in rows]
    assert all(VALID_FNR not in n for n in names), names
    hostile, pdf, photo, video = rows
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        base = f"http://127.0.0.1:{gateway.web_port}/api/v1/attachments"
        async with http.get(f"{base}/{hostile.id}") as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"] == "application/octet-stream"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            params = disposition_params(resp.headers["Content-Disposition"])
            assert set(params) == {"filename", "filename*"}
            assert params["filename"].endswith(".txt") and "x" not in set(params)
        async with http.get(f"{base}/{pdf.id}") as resp:
            assert resp.headers["Content-Type"] == "application/octet-stream"
            assert VALID_FNR not in resp.headers["Content-Disposition"]
        async with http.get(f"{base}/{photo.id}") as resp:
            assert resp.headers["Content-Type"] == "image/jpeg"
        async with http.get(f"{base}/{video.id}") as resp:
            answer = await resp.json()
            assert (resp.status, answer["error"]["code"]) == (422, "reveal_only")
    with pytest.raises(AttachmentUnavailable) as caught:
        await attachment_for_display(runtime.db, runtime.keyring, video.id)
    assert caught.value.code == "reveal_only"
