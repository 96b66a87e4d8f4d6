"""Running `case-gateway` as an operator does: a process of its own, with its own environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Operator:
    """A configuration file, a key file and a database under one directory, and the command."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.config = home / "case-gateway.toml"
        self.config.write_text("")
        self.db_path = home / "var" / "gateway.db"
        self.keys = home / "keys"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CASE_GATEWAY_")} | {
            "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{self.db_path}",
            "CASE_GATEWAY_CRYPTO_KEY_FILE": str(self.keys),
            "CASE_GATEWAY_WEB_PORT": str(free_port()),
            "CASE_GATEWAY_SMTP_PORT": str(free_port()),
            "CASE_GATEWAY_LOG_FORMAT": "json",
        }

    def run(self, *args: str, env: dict[str, str] | None = None, config: bool = True) -> Result:
        cli = [sys.executable, "-m", "gateway.cli"]
        if config:
            cli += ["--config", str(self.config)]
        proc = subprocess.run(
            [*cli, *args],
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.home,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = self.run(*args, env=env)
        assert result.code == 0, (args, result)
        return result


def assert_one_line(result: Result, *fragments: str) -> str:
    """A failed command: non-zero, no traceback, exactly one line naming the problem."""
    assert result.code != 0, result
    assert "Traceback" not in result.err + result.out, result.err
    assert len(result.lines) == 1, result.err
    line = result.lines[0]
    assert line.startswith("case-gateway: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
