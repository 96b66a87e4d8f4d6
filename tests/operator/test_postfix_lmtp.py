"""A real Postfix (Debian's packages) in front of the gateway, configured with deploy/postfix.

Mail goes in over SMTP to a private Postfix instance on 127.0.0.1, through the snippets as an
operator installs them (recipient table, header checks, transport), and over LMTP — TCP or the
unix socket — into the gateway, where it is stored once. Forged Authentication-Results with our
authserv-id, in every form RFC 8601 allows, never reach the gateway.
"""

from __future__ import annotations

import asyncio
import grp
import re
import shutil
import smtplib
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.runtime import build_runtime
from gateway.sealing import SealedBlob, new_key_line, parse_keys
from gateway.server import start_gateway
from gateway.storage.models import Message, SealedOriginal
from tests.conftest import make_settings, unavailable
from tests.operator.cli_process import free_port
from tests.operator.postfix_instance import DEPLOY, PostfixInstance, postfix_available

TRUSTED = "mx.barnevern.example.no"
FORGED = [
    f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=example.no",
    "authentication-results: MX.Barnevern.Example.NO; dkim=pass header.d=example.no",
    f"Authentication-Results: {TRUSTED} 1; dmarc=pass header.from=example.no",
    f"Authentication-Results: (checked here) {TRUSTED} (our MX); spf=pass",
    f"Authentication-Results: {TRUSTED};\r\n\tdmarc=pass header.from=example.no",
    f"Authentication-Results: {TRUSTED}; none",
]
KEPT = [
    f"Authentication-Results: {TRUSTED}.evil.example; dmarc=pass",
    "Authentication-Results: mx.other.example; dmarc=fail",
]


def _header_rule() -> re.Pattern[str]:
    for line in (DEPLOY / "case-gateway-header-checks.pcre").read_text().splitlines():
        if line.startswith("/"):
            m = re.match(r"^/(.*)/(i?)\s+IGNORE\s*$", line)
            assert m and not m.group(2), "the i flag would make Postfix match case-sensitively"
            return re.compile(m.group(1), re.I)  # Postfix PCRE: case-insensitive by default
    raise AssertionError("no header rule")


@pytest.mark.parametrize("header", FORGED + KEPT)
def test_header_checks_remove_every_form_of_a_forged_result(header: str) -> None:
    unfolded = header.replace("\r\n", "\n")  # Postfix matches the whole logical header
    assert bool(_header_rule().search(unfolded)) == (header in FORGED)


def test_the_snippets_do_not_let_all_of_loopback_relay() -> None:
    text = (DEPLOY / "main.cf.snippet").read_text()
    networks = re.search(r"(?m)^mynetworks\s*=\s*(.*)$", text)
    assert networks and "127.0.0.0/8" not in networks.group(1)
    assert "postfix-pcre" in text and "postfix-pcre" in (DEPLOY / "README.md").read_text()


@pytest.fixture
def postfix_root() -> Iterator[Path]:
    why = postfix_available()
    if why:
        unavailable("Postfix", why)
    # Short: the LMTP socket's path must fit in a unix socket address (108 bytes).
    root = Path(tempfile.mkdtemp(prefix="pf", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _message(i: int) -> bytes:
    headers = "\r\n".join(FORGED + KEPT)
    return (
        f"From: Kari Nordmann <kari@example.no>\r\nTo: post@barnevern.example.no\r\n"
        f"Subject: Hei {i}\r\nMessage-ID: <postfix-{i}@example.no>\r\n{headers}\r\n\r\n"
        f"Hei, vi kommer på møtet. ({i})\r\n"
    ).encode()


def _send(port: int, data: bytes, to: list[str]) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        return smtp.sendmail("kari@example.no", to, data)


@pytest.mark.parametrize("transport", ["tcp", "unix"])
async def test_postfix_delivers_over_lmtp_end_to_end(
    postfix_root: Path, tmp_path: Path, transport: str
) -> None:
    lmtp: dict[str, object] = {"enabled": True, "host": "127.0.0.1", "port": free_port()}
    if transport == "unix":
        sock_dir = postfix_root / "spool" / "case-gateway"
        sock_dir.mkdir(parents=True)
        shutil.chown(sock_dir, group="postfix")
        sock_dir.chmod(0o750)
        lmtp |= {"socket": str(sock_dir / "lmtp.sock"), "socket_group": "postfix"}
        route = "lmtp:unix:case-gateway/lmtp.sock"  # as in deploy/postfix/case-gateway-transport
    else:
        route = f"lmtp:inet:127.0.0.1:{lmtp['port']}"
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
        lmtp=lmtp,
        smtp={"enabled": False},
        email={"trusted_authserv_id": TRUSTED},
    )
    keyring = parse_keys(new_key_line("pf"))
    runtime = build_runtime(settings, senders={}, keyring=keyring)
    await runtime.db.migrate()
    gateway = await start_gateway(runtime, relay=False)
    postfix = PostfixInstance(postfix_root, free_port(), route)
    try:
        if transport == "unix":
            st = Path(str(lmtp["socket"])).stat()
            assert stat.S_IMODE(st.st_mode) == 0o660
            assert st.st_gid == grp.getgrnam("postfix").gr_gid
        await asyncio.to_thread(postfix.start)
        refused = await asyncio.to_thread(
            _send,
            postfix.smtp_port,
            _message(0),
            ["post@barnevern.example.no", "nobody@barnevern.example.no"],
        )
        assert refused["nobody@barnevern.example.no"][0] == 550  # Postfix's recipient table
        stored: list[Message] = []
        for _ in range(600):
            async with runtime.db.read() as s:
                stored = list((await s.execute(select(Message))).scalars())
            if stored:
                break
            await asyncio.sleep(0.1)
        assert len(stored) == 1, postfix.log()[-3000:]
        assert "status=sent" in postfix.log() and "250 2.0.0" in postfix.log()
        async with runtime.db.read() as s:
            row = await s.get(SealedOriginal, stored[0].sealed_id)
        assert row is not None
        raw = keyring.open(SealedBlob(row.key_id, row.nonce, row.ciphertext), b"original")
        assert b"Hei, vi kommer p" in raw
        received = raw.decode("utf-8", "replace").lower()
        for header in KEPT:
            assert header.split(": ", 1)[1].lower() in received
        # Only the two results with other ids are left; every forged one was removed.
        assert received.count("authentication-results:") == len(KEPT), received[:2000]
        assert stored[0].channel == "email" and stored[0].case_id is None  # unknown: triage
    finally:
        await asyncio.to_thread(postfix.stop)
        await gateway.stop()
