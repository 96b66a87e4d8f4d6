"""SIGTERM lets a delivery in progress finish: its message is stored and gets its 250.

`case-gateway serve` runs as a process. One SMTP session is in a mail transaction (MAIL and
RCPT accepted) and another is idle when the process is told to stop. The listening port closes
at once, the idle session is told 421, the open transaction completes with 250 and its message
is in the database after the process has exited.
"""

from __future__ import annotations

import contextlib
import json
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.operator.cli_process import Operator


def _wait_for_log(proc: subprocess.Popen[str], event: str) -> list[str]:
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        try:
            if json.loads(line).get("event") == event:
                return seen
        except ValueError:
            continue
    raise AssertionError(f"no {event} in {seen}")


def test_sigterm_drains_an_smtp_delivery_in_progress(tmp_path: Path) -> None:
    op = Operator(tmp_path)
    op.ok("keys", "generate", "--file", str(op.keys))
    op.ok("migrate")
    port = int(op.env["CASE_GATEWAY_SMTP_PORT"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--config", str(op.config), "serve"],
        env=op.env | {"CASE_GATEWAY_SMTP_DRAIN_SECONDS": "120"},
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        _wait_for_log(proc, "gateway.started")
        busy = smtplib.SMTP("127.0.0.1", port, timeout=60)
        idle = smtplib.SMTP("127.0.0.1", port, timeout=60)
        assert idle.ehlo()[0] == 250
        assert busy.ehlo()[0] == 250
        assert busy.mail("kari@example.no")[0] == 250
        assert busy.rcpt("post@barnevern.example.no")[0] == 250

        proc.send_signal(signal.SIGTERM)
        _wait_for_log(proc, "gateway.stopping")
        # New connections are refused once the listener is closed.
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the SMTP port still accepts connections while stopping")
        # The idle session is told the service is going away.
        try:
            code = idle.noop()[0]
        except smtplib.SMTPServerDisconnected:
            code = 421  # closed right after its 421 line, before NOOP was read
        assert code == 421
        # The delivery in progress completes and is acknowledged.
        code, answer = busy.data(
            b"From: kari@example.no\r\nTo: post@barnevern.example.no\r\n"
            b"Subject: Midt i en omstart\r\nMessage-ID: <drain-1@example.no>\r\n\r\nHei.\r\n"
        )
        assert (code, answer[:5]) == (250, b"2.0.0")
        with contextlib.suppress(smtplib.SMTPException, OSError):
            busy.quit()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with sqlite3.connect(op.db_path) as db:
        rows = db.execute("SELECT subject FROM message WHERE direction = 'in'").fetchall()
    assert rows == [("Midt i en omstart",)]
