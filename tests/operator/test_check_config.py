"""`check-config` reports every problem at once, and tries the database it would serve."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.core.hours import office_hours_problems, parse_office_hours
from tests.operator.cli_process import Operator

BAD_HOURS = """\
[teams."Team Nord".hours]
timezone = "Europe/Osloo"
weekly = { mon = ["08:00-25:00"], tue = ["9-17"], xyz = ["08:00-15:00"] }
holidays = ["2026-13-01"]
closures = [{ start = "2026-07-06T00:00", end = "2026-07-01T00:00" }]
"""


def test_every_problem_in_a_teams_hours_is_reported(tmp_path: Path) -> None:
    op = Operator(tmp_path)
    op.config.write_text(BAD_HOURS)
    result = op.run("check-config")
    assert result.code == 2 and "Traceback" not in result.err
    where = "teams.Team Nord.hours"
    for problem in (
        f"{where}.timezone: unknown time zone",
        f"{where}.weekly.xyz: unknown day",
        f"{where}.weekly.mon[0]: '25:00'",
        f"{where}.weekly.tue[0]: '9'",
        f"{where}.holidays[0]: '2026-13-01'",
        f"{where}.closures[0]: end must be after start",
    ):
        assert problem in result.out, (problem, result.out)
    assert "6 problem(s)" in result.out


def test_good_hours_have_no_problems() -> None:
    good = {"timezone": "Europe/Oslo", "weekly": {"mon": ["08:00-11:00", "12:00-15:30"]}}
    parse_office_hours(good)
    assert office_hours_problems(good) == []
    assert office_hours_problems({"weekly": {}}) == [
        "hours.weekly: the office is never open; give opening hours"
    ]


def test_check_config_tries_the_database(tmp_path: Path) -> None:
    op = Operator(tmp_path)
    op.ok("keys", "generate", "--file", str(op.keys))
    fresh = op.run("check-config")
    assert fresh.code == 0 and "does not exist yet (run `case-gateway migrate`)" in fresh.out
    assert not op.db_path.exists()  # looking never creates it
    op.db_path.parent.mkdir()
    sqlite3.connect(op.db_path).close()
    unmigrated = op.run("check-config")
    assert unmigrated.code == 2 and "database not migrated" in unmigrated.out
    op.ok("migrate")
    ready = op.run("check-config")
    assert ready.code == 0 and "reachable, schema up to date" in ready.out
    assert ready.out.rstrip().endswith("configuration OK")
