"""The systemd unit and the notify protocol: the unit verifies, scores at most 2.0 exposure in
`systemd-analyze security`, hands secrets over as credentials the settings really read, and the
gateway speaks sd_notify (READY, WATCHDOG, STOPPING) over a real unix datagram socket."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from gateway.sdnotify import feed_watchdog, notify, watchdog_seconds
from gateway.sealing import generate_key_file, load_keyring
from gateway.settings import load_settings
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "case-gateway.service"
INSTALLED = "/opt/case-gateway/venv/bin/case-gateway"


def unit_lines(key: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in UNIT.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        unavailable("systemd", "systemd-analyze is not installed (Debian package systemd)")
    assert tool is not None
    return tool


def test_the_unit_verifies(tmp_path: Path) -> None:
    tool = systemd_analyze()
    # verify insists that ExecStart exists: point it at this checkout's installed command.
    unit = tmp_path / "case-gateway.service"
    here = shutil.which("case-gateway") or str(Path(sys.executable).parent / "case-gateway")
    unit.write_text(UNIT.read_text().replace(INSTALLED, here))
    out = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "case-gateway.service" not in out.stderr, out.stderr


def test_the_unit_scores_at_most_2_in_systemd_analyze_security() -> None:
    tool = systemd_analyze()
    out = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for case-gateway.service: (\d+\.\d+)", out.stdout)
    assert found, out.stdout + out.stderr
    assert float(found[1]) <= 2.0, out.stdout


def test_the_unit_has_the_required_shape() -> None:
    assert unit_lines("Type") == ["notify"]
    assert unit_lines("WatchdogSec")
    assert unit_lines("User") == ["case-gateway"] or unit_lines("DynamicUser") == ["yes"]
    assert unit_lines("StateDirectory") == ["case-gateway"]
    assert unit_lines("RuntimeDirectory") == ["case-gateway"]
    assert unit_lines("UMask") == ["0077"]
    assert unit_lines("CapabilityBoundingSet") == [""]
    assert "@system-service" in unit_lines("SystemCallFilter")
    assert unit_lines("ProtectSystem") == ["strict"]
    names = [c.split(":", 1)[0] for c in unit_lines("LoadCredential")]
    assert names == ["sealing-keys", "twilio-auth-token"]
    # Nothing the service must write lies outside its own directories.
    assert not unit_lines("ReadWritePaths")


def test_credentials_reach_the_settings_they_name(tmp_path: Path) -> None:
    """What systemd puts in $CREDENTIALS_DIRECTORY (%d) is what the gateway reads."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    generate_key_file(str(creds / "sealing-keys"))
    (creds / "twilio-auth-token").write_text("token-from-credential\n")
    environ = {"CASE_GATEWAY_SMS_PROVIDER": "twilio"}
    environ.update(
        {
            "CASE_GATEWAY_TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
            "CASE_GATEWAY_TWILIO_FROM_NUMBER": "+4759440000",
        }
    )
    for value in unit_lines("Environment"):
        key, _, setting = value.partition("=")
        environ[key] = setting.replace("%d", str(creds))
    (tmp_path / "none.toml").write_text("")
    settings = load_settings(tmp_path / "none.toml", environ)
    assert settings.twilio.auth_token == "token-from-credential"
    assert load_keyring(settings.crypto.key, settings.crypto.key_file).active_id


def test_notify_sends_one_datagram_to_the_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        assert notify("READY=1\nSTATUS=serving", {"NOTIFY_SOCKET": str(path)})
        assert server.recv(4096) == b"READY=1\nSTATUS=serving"
    assert notify("READY=1", {}) is False  # not under systemd: nothing to do


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"case-gateway-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert server.recv(4096) == b"WATCHDOG=1"


def test_watchdog_interval_is_for_this_process_only() -> None:
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 30
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({}) is None


async def test_watchdog_pings_until_stopped(tmp_path: Path) -> None:
    path = tmp_path / "wd.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.setblocking(False)
    stop = asyncio.Event()
    task = asyncio.create_task(feed_watchdog(0.05, stop, {"NOTIFY_SOCKET": str(path)}))
    loop = asyncio.get_running_loop()
    got = [await asyncio.wait_for(loop.sock_recv(server, 64), 30) for _ in range(3)]
    stop.set()
    await asyncio.wait_for(task, 30)
    server.close()
    assert got == [b"WATCHDOG=1"] * 3


async def test_serve_tells_systemd_ready_feeds_the_watchdog_and_says_stopping(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.setblocking(False)
    env = dict(os.environ)
    env.update(
        {
            "NOTIFY_SOCKET": str(path),
            "WATCHDOG_USEC": "200000",
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
            "CASE_GATEWAY_WEB_PORT": "0",
            "CASE_GATEWAY_SMTP_PORT": "0",
            "CASE_GATEWAY_METRICS_PORT": "0",
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
            "CASE_GATEWAY_LOG_FORMAT": "json",
        }
    )
    env.pop("WATCHDOG_PID", None)
    generate_key_file(str(tmp_path / "keys"))
    (tmp_path / "none.toml").write_text("")
    cli = [sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "none.toml")]
    migrate = await asyncio.create_subprocess_exec(*cli, "migrate", env=env)
    assert await migrate.wait() == 0
    proc = await asyncio.create_subprocess_exec(
        *cli, "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    loop = asyncio.get_running_loop()
    states: list[str] = []
    try:
        while states.count("WATCHDOG=1") < 2:
            states.append((await asyncio.wait_for(loop.sock_recv(server, 4096), 60)).decode())
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in states:
            states.append((await asyncio.wait_for(loop.sock_recv(server, 4096), 60)).decode())
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        server.close()
    assert states[0].startswith("READY=1\nSTATUS=serving on port ")
    assert states[-1] == "STOPPING=1"
    assert proc.stderr is not None
    assert "Traceback" not in (await proc.stderr.read()).decode()


async def test_serve_with_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            **os.environ,
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
            "CASE_GATEWAY_WEB_PORT": "0",
            "CASE_GATEWAY_SMTP_PORT": "0",
            "CASE_GATEWAY_METRICS_PORT": str(taken.getsockname()[1]),
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(tmp_path / "keys"),
        }
        generate_key_file(str(tmp_path / "keys"))
        (tmp_path / "none.toml").write_text("")
        cli = [sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "none.toml")]
        migrate = await asyncio.create_subprocess_exec(*cli, "migrate", env=env)
        assert await migrate.wait() == 0
        proc = await asyncio.create_subprocess_exec(
            *cli, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    lines = [line for line in err.decode().splitlines() if line.startswith("case-gateway:")]
    assert len(lines) == 1 and "metrics.port" in lines[0]
    assert "Traceback" not in err.decode()
