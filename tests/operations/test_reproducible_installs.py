"""Installs are reproducible: hashed lock files that agree with pyproject.toml, floors that
are what the lowest lock really tests, and a version the command line reports."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from gateway.version import version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)", re.M)


def pins(lock: str) -> dict[str, Version]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(m[1]): Version(m[2]) for m in PIN.finditer(text)}


def direct(*extras: str) -> list[Requirement]:
    reqs = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"][extra]]
    return reqs


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))],
)
def test_lock_files_pin_every_dependency_within_its_range(
    lock: str, extras: tuple[str, ...]
) -> None:
    pinned = pins(lock)
    for req in direct(*extras):
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} missing from {lock}: run `make lock`"
        assert pinned[name] in req.specifier, f"{lock} pins {name}=={pinned[name]}, not {req}"


@pytest.mark.parametrize(
    "lock", ["requirements.lock", "requirements-dev.lock", "requirements-lowest.lock"]
)
def test_every_pin_carries_hashes(lock: str) -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text().split("\n", 2)[2])
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, f"{lock}: no hash for {entry.splitlines()[0]}"


def test_the_lowest_lock_holds_every_direct_dependency_at_its_floor() -> None:
    pinned = pins("requirements-lowest.lock")
    for req in direct("dev"):
        floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert floors, f"{req} declares no floor"
        assert pinned[canonicalize_name(req.name)] == floors[0], (
            f"requirements-lowest.lock has {req.name}=={pinned[canonicalize_name(req.name)]}, "
            f"floor {floors[0]}: run `make lock` (or the floor is not installable)"
        )


def test_version_flag_reports_the_installed_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == f"case-gateway {version()}"
    assert version() == PYPROJECT["project"]["version"]
