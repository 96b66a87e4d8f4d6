"""The smaller findings: a reused Message-ID is not dropped, the SQLite file is private,
quoted local parts and tokens are masked in logs."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from sqlalchemy import select
from structlog.testing import capture_logs

from gateway.logs import mask_address, scrub_personal_data
from gateway.storage.db import Database
from gateway.storage.models import Message
from tests.conftest import make_settings
from tests.email.conftest import SERVICE, crlf, deliver, mail_gateway, smtp_port
from tests.helpers import processed


def mail(body: str) -> bytes:
    return crlf(
        (
            "From: Kari <kari@example.org>\nTo: post@barnevern.example.no\nSubject: hei\n"
            f"Message-ID: <same-id@example.org>\n\n{body}\n"
        ).encode()
    )


async def test_different_message_reusing_a_message_id_is_stored_and_flagged(
    sqlite_url: str,
) -> None:
    first, second = mail("Første melding."), mail("En helt annen melding.")
    async with mail_gateway(make_settings(sqlite_url)) as (rt, gw):
        port = smtp_port(gw)
        for data in (first, second, second, first):  # the repeats are retries
            assert await asyncio.to_thread(deliver, port, data, sender="kari@example.org") == {}
            await processed(gw)
        async with rt.db.read() as s:
            rows = (await s.execute(select(Message).order_by(Message.id))).scalars().all()
    assert [m.redacted_text for m in rows] == ["Første melding.", "En helt annen melding."]
    assert rows[0].provider_id == f"<same-id@example.org>|{SERVICE}"
    assert rows[1].provider_id != rows[0].provider_id
    assert "message_id_reused" not in rows[0].flags
    assert rows[1].flags["message_id_reused"] is True


async def test_sqlite_file_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "gateway.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await db.close()
    finally:
        os.umask(old)
    for file in [path, *path.parent.glob("gateway.db-*")]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_quoted_local_parts_and_tokens_are_masked() -> None:
    for text, secret in (
        ('skrev "kari hansen"@example.com i går', "kari hansen"),
        ('fra "Kari.Hansen"@example.com', "Kari.Hansen"),
        ("Authorization: Bearer cgw_abcdefSECRET", "abcdefSECRET"),
        ("token=cgw_zzzSECRET", "zzzSECRET"),
    ):
        assert secret not in mask_address(text), text
    with capture_logs(processors=[scrub_personal_data]) as logs:
        import structlog

        structlog.get_logger("t").info("x", sender='"kari hansen"@example.com')
    assert "kari hansen" not in str(logs)
