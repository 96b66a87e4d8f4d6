"""The pages of `case-gateway` run as real processes, signed in through the browser:
`serve` in its production shape (a password set with `users set-password` on stdin), and
`demo --serve`, which keeps the demo gateway running for a newcomer."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pages.support import PASSWORD

pytestmark = pytest.mark.browser

CLI = [sys.executable, "-m", "gateway.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    for _ in range(300):
        assert proc.poll() is None, "the gateway exited early"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def sign_in(browser: Any, url: str, email: str, password: str) -> Any:
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(url + "/login")
    page.get_by_label("E-postadresse på jobb").fill(email)
    page.get_by_label("Passord").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Logg inn").click()
    return page


def test_serve_as_a_process_and_sign_in_through_the_browser(tmp_path: Path, browser: Any) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
            "CASE_GATEWAY_WEB_PORT": str(port),
            "CASE_GATEWAY_WEB_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CASE_GATEWAY_SMTP_PORT": str(free_port()),
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
            "CASE_GATEWAY_LOG_FORMAT": "json",
        }
    )
    (tmp_path / "none.toml").write_text("")
    cli = [*CLI, "--config", str(tmp_path / "none.toml")]

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
        )

    assert run("keys", "generate", "--file", str(tmp_path / "keys")).returncode == 0
    assert run("migrate").returncode == 0
    email = "ola@barnevern.example.no"
    added = run(
        "users",
        "add",
        "--email",
        email,
        "--name",
        "Ola",
        "--role",
        "caseworker",
        "--team",
        "Team Nord",
    )
    assert added.returncode == 0, added.stderr
    short = run("users", "set-password", email, stdin="kort\n")
    assert short.returncode == 2
    assert len(short.stderr.strip().splitlines()) == 1 and "Traceback" not in short.stderr
    done = run("users", "set-password", email, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    proc = subprocess.Popen(
        [*cli, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_listening(port, proc)
        page = sign_in(browser, f"http://127.0.0.1:{port}", email, PASSWORD)
        assert page.url.endswith("/queue")
        assert page.get_by_role("heading", name="Min kø").is_visible()
        page.context.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert PASSWORD not in out


def test_demo_serve_prints_the_sign_ins_and_keeps_running(
    tmp_path: Path, browser: Any, screenshots: Path
) -> None:
    proc = subprocess.Popen(
        [*CLI, "demo", "--serve", "--dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        url = re.search(r"(http://127\.0\.0\.1:\d+)/login", text)
        lead = re.search(r"team lead\s+(\S+)\s+password: (\S+)", text)
        assert url and lead, text
        page = sign_in(browser, url.group(1), lead.group(1), lead.group(2))
        page.goto(url.group(1) + "/duty")
        assert "Haster" in page.inner_text("#queue-rows")  # the urgent SMS of the journey
        page.screenshot(path=str(screenshots / "demo-duty.png"), full_page=True)
        page.goto(url.group(1) + "/cases/2026-0412")
        assert "Takk for beskjed, Kari." in page.inner_text("main")
        page.context.close()
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
