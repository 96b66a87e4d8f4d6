"""`serve` runs on uvloop; the short commands keep asyncio's own loop.

uvloop costs less CPU per request, connection and statement; every test that starts
`case-gateway serve` as a process runs the whole gateway on it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from gateway import cli
from tests.operator.cli_process import Operator


async def _loop_module() -> int:
    return 1 if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else 0


def test_serving_commands_run_on_uvloop_and_the_others_on_asyncio() -> None:
    assert cli._run(_loop_module(), serving=True) == 1
    assert cli._run(_loop_module()) == 0


def test_serve_reports_uvloop_when_it_starts_and_stops_cleanly(tmp_path: Path) -> None:
    op = Operator(tmp_path)
    assert op.run("keys", "generate", "--file", str(op.keys)).code == 0
    assert op.run("migrate").code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--config", str(op.config), "serve"],
        env=op.env | {"CASE_GATEWAY_METRICS_PORT": "0"},
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stderr is not None
        started = None
        for line in proc.stderr:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "gateway.started":
                started = entry
                break
        assert started is not None, "serve exited before it started"
        assert started["event_loop"] == "uvloop"
        # Answered only once serve has gone past installing its signal handlers (no await
        # between the start-up line and them), so SIGTERM then means a clean stop.
        port = op.env["CASE_GATEWAY_WEB_PORT"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
