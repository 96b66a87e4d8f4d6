"""Office hours with an injected clock: time zones, the 2026 DST weekends, holidays, closures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.hours import (
    HoursConfigError,
    OfficeHours,
    describe_hours,
    easter_sunday,
    is_open,
    next_opening,
    norwegian_public_holidays,
    parse_holiday_file,
    parse_office_hours,
)
from gateway.core.sms import count_segments

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")

TEAM_CONFIG = {
    "timezone": "Europe/Oslo",
    "weekly": {
        "mon": ["08:00-15:30"],
        "tue": ["08:00-15:30"],
        "wed": ["08:00-15:30"],
        "thu": ["08:00-15:30"],
        "fri": [["08:00", "14:00"]],
    },
    "holidays": ["2026-12-24", date(2026, 12, 31)],
    "closures": [
        {"start": "2026-07-06T00:00", "end": "2026-08-03T00:00"},  # summer, local time
        {"start": "2026-06-10T08:00+00:00", "end": "2026-06-10T10:00+00:00"},  # staff meeting
    ],
    "public_holidays": "NO",
}


@pytest.fixture(scope="module")
def team() -> OfficeHours:
    return parse_office_hours(TEAM_CONFIG)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


OPEN_TABLE = [
    ("Monday morning", oslo(2026, 3, 23, 9, 0), True),
    ("just before opening", oslo(2026, 3, 23, 7, 59), False),
    ("opening minute", oslo(2026, 3, 23, 8, 0), True),
    ("last minute", oslo(2026, 3, 23, 15, 29), True),
    ("closing time is closed", oslo(2026, 3, 23, 15, 30), False),
    ("Friday closes early", oslo(2026, 3, 20, 14, 30), False),
    ("Saturday", oslo(2026, 3, 21, 10, 0), False),
    # the same instants written in other time zones
    ("winter 08:30 UTC is 09:30 in Oslo", utc(2026, 1, 12, 8, 30), True),
    ("winter 06:30 UTC is 07:30 in Oslo", utc(2026, 1, 12, 6, 30), False),
    ("New York 03:00 is Oslo 09:00", datetime(2026, 1, 12, 3, 0, tzinfo=NEW_YORK), True),
    (
        "New York Sunday evening is Oslo Monday 02:00",
        datetime(2026, 1, 11, 20, 0, tzinfo=NEW_YORK),
        False,
    ),
    # spring forward, Sunday 29 March 2026: Friday before is UTC+1, Monday after is UTC+2
    ("Friday 27 March 07:30 UTC is 08:30 CET", utc(2026, 3, 27, 7, 30), True),
    ("Friday 27 March 06:30 UTC is 07:30 CET", utc(2026, 3, 27, 6, 30), False),
    ("Monday 30 March 06:30 UTC is 08:30 CEST", utc(2026, 3, 30, 6, 30), True),
    ("Monday 30 March 13:45 UTC is 15:45 CEST", utc(2026, 3, 30, 13, 45), False),
    # fall back, Sunday 25 October 2026
    ("Friday 23 October 06:30 UTC is 08:30 CEST", utc(2026, 10, 23, 6, 30), True),
    ("Monday 26 October 06:30 UTC is 07:30 CET", utc(2026, 10, 26, 6, 30), False),
    ("Monday 26 October 07:30 UTC is 08:30 CET", utc(2026, 10, 26, 7, 30), True),
    # Easter 2026 and other Norwegian public holidays
    ("Wednesday before Easter", oslo(2026, 4, 1, 10, 0), True),
    ("skjærtorsdag", oslo(2026, 4, 2, 10, 0), False),
    ("langfredag", oslo(2026, 4, 3, 10, 0), False),
    ("2. påskedag", oslo(2026, 4, 6, 10, 0), False),
    ("Tuesday after Easter", oslo(2026, 4, 7, 10, 0), True),
    ("1 May", oslo(2026, 5, 1, 10, 0), False),
    ("Kristi himmelfartsdag", oslo(2026, 5, 14, 10, 0), False),
    ("2. pinsedag", oslo(2026, 5, 25, 10, 0), False),
    ("2. juledag", oslo(2026, 12, 26, 10, 0), False),
    ("configured Christmas Eve", oslo(2026, 12, 24, 10, 0), False),
    ("configured New Year's Eve", oslo(2026, 12, 31, 10, 0), False),
    ("ordinary December day", oslo(2026, 12, 23, 10, 0), True),
    ("holiday is by Oslo date, not UTC date", utc(2026, 4, 1, 22, 30), False),
    # closures
    ("summer closure", oslo(2026, 7, 15, 10, 0), False),
    ("day after summer closure", oslo(2026, 8, 3, 8, 0), True),
    ("staff meeting (closure in UTC)", oslo(2026, 6, 10, 11, 0), False),
    ("after staff meeting", oslo(2026, 6, 10, 12, 0), True),
    ("before staff meeting", oslo(2026, 6, 10, 9, 59), True),
]


@pytest.mark.parametrize(
    ("at", "expected"), [row[1:] for row in OPEN_TABLE], ids=[row[0] for row in OPEN_TABLE]
)
def test_is_open(team: OfficeHours, at: datetime, expected: bool) -> None:
    assert is_open(team, at) is expected


NEXT_TABLE = [
    ("open now returns now", oslo(2026, 3, 23, 9, 0), oslo(2026, 3, 23, 9, 0)),
    ("early morning", oslo(2026, 3, 23, 6, 0), oslo(2026, 3, 23, 8, 0)),
    ("evening", oslo(2026, 3, 23, 18, 0), oslo(2026, 3, 24, 8, 0)),
    ("Friday afternoon before spring forward", oslo(2026, 3, 27, 16, 0), oslo(2026, 3, 30, 8, 0)),
    ("Friday afternoon before fall back", oslo(2026, 10, 23, 16, 0), oslo(2026, 10, 26, 8, 0)),
    ("Easter", oslo(2026, 4, 1, 16, 0), oslo(2026, 4, 7, 8, 0)),
    ("summer closure", oslo(2026, 7, 6, 9, 0), oslo(2026, 8, 3, 8, 0)),
    ("staff meeting", oslo(2026, 6, 10, 10, 30), oslo(2026, 6, 10, 12, 0)),
    ("Christmas", oslo(2026, 12, 23, 16, 0), oslo(2026, 12, 28, 8, 0)),
    ("New Year", oslo(2026, 12, 30, 16, 0), oslo(2027, 1, 4, 8, 0)),
]


@pytest.mark.parametrize(
    ("at", "expected"), [row[1:] for row in NEXT_TABLE], ids=[row[0] for row in NEXT_TABLE]
)
def test_next_opening(team: OfficeHours, at: datetime, expected: datetime) -> None:
    opening = next_opening(team, at)
    assert opening.astimezone(UTC) == expected.astimezone(UTC)
    assert opening.tzinfo == OSLO


def test_next_opening_after_spring_forward_is_one_hour_shorter(team: OfficeHours) -> None:
    # Friday 16:00 to Monday 08:00 is 64 hours of wall time but 63 real hours.
    at = oslo(2026, 3, 27, 16, 0)
    assert next_opening(team, at).astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=63)
    assert next_opening(team, at).astimezone(UTC) == utc(2026, 3, 30, 6, 0)


def test_next_opening_after_fall_back_is_one_hour_longer(team: OfficeHours) -> None:
    at = oslo(2026, 10, 23, 16, 0)
    assert next_opening(team, at).astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=65)
    assert next_opening(team, at).astimezone(UTC) == utc(2026, 10, 26, 7, 0)


NIGHT_DESK = parse_office_hours({"weekly": {"sun": ["01:00-04:00"]}})


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 29, 0, 30), True),  # 01:30 CET
        (utc(2026, 3, 29, 1, 30), True),  # 03:30 CEST; 02:00-03:00 never happened
        (utc(2026, 3, 29, 2, 0), False),  # 04:00 CEST
        (utc(2026, 10, 25, 0, 30), True),  # first 02:30 (CEST)
        (utc(2026, 10, 25, 1, 30), True),  # second 02:30 (CET)
        (utc(2026, 10, 25, 2, 30), True),  # 03:30 CET
        (utc(2026, 10, 25, 3, 0), False),  # 04:00 CET
    ],
)
def test_hours_inside_the_dst_change_night(at: datetime, expected: bool) -> None:
    assert is_open(NIGHT_DESK, at) is expected


def test_opening_inside_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    hours = parse_office_hours({"weekly": {"sun": ["02:30-04:00"]}})
    opening = next_opening(hours, oslo(2026, 3, 28, 12, 0))
    assert opening.astimezone(UTC) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert is_open(hours, opening)


def _instants(first: datetime, last: datetime) -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=first, max_value=last, timezones=st.just(UTC))


INSTANTS = st.one_of(
    _instants(datetime(2026, 1, 1), datetime(2027, 12, 31)),
    # the DST weekends of 2026, where wall time and real time part ways
    _instants(datetime(2026, 3, 27), datetime(2026, 3, 30)),
    _instants(datetime(2026, 10, 23), datetime(2026, 10, 26)),
)
GAP_AND_REPEAT = {"sun": ["02:00-02:45", "03:00-03:15"]}
HOURS_UNDER_TEST = st.sampled_from(
    [
        TEAM_CONFIG,
        {"weekly": {"sun": ["01:00-04:00"]}},
        {"weekly": GAP_AND_REPEAT},
        {
            "weekly": GAP_AND_REPEAT,
            "closures": [{"start": "2026-10-25T02:10", "end": "2026-10-25T02:20"}],
        },
        {
            "timezone": "America/New_York",
            "weekly": {"sun": ["01:30-02:30"], "mon": ["09:00-17:00"]},
        },
    ]
)


@given(HOURS_UNDER_TEST, INSTANTS)
def test_next_opening_is_the_first_open_minute(config: dict[str, object], at: datetime) -> None:
    hours = parse_office_hours(config)
    # Compare in UTC: == between zones is False for a wall time in the repeated hour (PEP 495).
    opening = next_opening(hours, at).astimezone(UTC)
    assert opening >= at
    assert is_open(hours, opening)
    if opening != at:
        assert not is_open(hours, opening - timedelta(minutes=1))
    else:
        assert is_open(hours, at)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2000, date(2000, 4, 23)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
     (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)),
     (2285, date(2285, 3, 22))],
)  # fmt: skip
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_norwegian_public_holidays_2026() -> None:
    assert norwegian_public_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 4, 2),  # skjærtorsdag
        date(2026, 4, 3),  # langfredag
        date(2026, 4, 5),  # 1. påskedag
        date(2026, 4, 6),  # 2. påskedag
        date(2026, 5, 1),
        date(2026, 5, 14),  # Kristi himmelfartsdag
        date(2026, 5, 17),
        date(2026, 5, 24),  # 1. pinsedag
        date(2026, 5, 25),  # 2. pinsedag
        date(2026, 12, 25),
        date(2026, 12, 26),
    }


def test_parse_holiday_file() -> None:
    text = """# Holidays for the east team
2026-12-24  Julaften
2026-12-31 Nyttårsaften   # half day is closed too

   2027-04-01
"""
    assert parse_holiday_file(text) == {date(2026, 12, 24), date(2026, 12, 31), date(2027, 4, 1)}


def test_parse_holiday_file_names_the_bad_line() -> None:
    with pytest.raises(HoursConfigError, match="line 3"):
        parse_holiday_file("# comment\n2026-12-24\n24.12.2026 Julaften\n")


def test_parsed_week() -> None:
    team = parse_office_hours(TEAM_CONFIG)
    assert team.weekly[0] == ((time(8, 0), time(15, 30)),)
    assert team.weekly[4] == ((time(8, 0), time(14, 0)),)
    assert team.weekly[5] == ()
    assert team.closures[0][0] == oslo(2026, 6, 10, 10, 0).astimezone(UTC)
    assert team.timezone == "Europe/Oslo"


def test_default_timezone_is_oslo() -> None:
    assert parse_office_hours({"weekly": {"mon": ["08:00-15:30"]}}).timezone == "Europe/Oslo"


CONFIG_ERRORS = [
    ({"timezone": "Europe/Bergen", "weekly": {"mon": ["08:00-15:30"]}}, "hours.timezone"),
    ({"weekly": {"monday": ["08:00-15:30"]}}, "hours.weekly.monday"),
    ({"weekly": {"mon": ["8-15"]}}, r"hours.weekly.mon\[0\]"),
    ({"weekly": {"mon": ["08:00-15:30", "25:00-26:00"]}}, r"hours.weekly.mon\[1\]"),
    ({"weekly": {"tue": ["15:30-08:00"]}}, r"hours.weekly.tue\[0\].*ends before it starts"),
    ({"weekly": {"wed": ["08:00-12:00", "11:00-15:00"]}}, "hours.weekly.wed: intervals overlap"),
    ({"weekly": {}}, "never open"),
    ({"weekly": {"mon": ["08:00-15:30"]}, "holidays": ["24.12.2026"]}, r"hours.holidays\[0\]"),
    ({"weekly": {"mon": ["08:00-15:30"]}, "holidays": "2026-12-24"}, "hours.holidays"),
    (
        {"weekly": {"mon": ["08:00-15:30"]}, "closures": [{"start": "2026-07-06"}]},
        r"hours.closures\[0\]",
    ),
    (
        {
            "weekly": {"mon": ["08:00-15:30"]},
            "closures": [{"start": "2026-08-01T00:00", "end": "2026-07-01T00:00"}],
        },
        r"hours.closures\[0\]: end must be after start",
    ),
    (
        {"weekly": {"mon": ["08:00-15:30"]}, "closures": [{"start": "soon", "end": "later"}]},
        r"hours.closures\[0\].start",
    ),
    ({"weekly": {"mon": ["08:00-15:30"]}, "public_holidays": "SE"}, "hours.public_holidays"),
    ({"weekly": {"mon": ["08:00-15:30"]}, "opening": "08:00"}, "hours.opening: unknown key"),
]


@pytest.mark.parametrize(("config", "message"), CONFIG_ERRORS)
def test_parse_office_hours_names_the_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(HoursConfigError, match=message):
        parse_office_hours(config)


def test_naive_datetime_is_refused(team: OfficeHours) -> None:
    with pytest.raises(ValueError, match="time zone"):
        is_open(team, datetime(2026, 3, 23, 9, 0))
    with pytest.raises(ValueError, match="time zone"):
        next_opening(team, datetime(2026, 3, 23, 9, 0))


LUNCH = parse_office_hours(
    {
        "weekly": {day: ["08:00-11:30", "12:00-15:30"] for day in ("mon", "tue", "wed", "thu")}
        | {"fri": ["08:00-14:00"]}
    }
)


@pytest.mark.parametrize(
    ("hours", "language", "text"),
    [
        ("team", "nb", "man-tor 08.00-15.30, fre 08.00-14.00"),
        ("team", "nn", "mån-tor 08.00-15.30, fre 08.00-14.00"),
        ("team", "da", "man-tor 08.00-15.30, fre 08.00-14.00"),
        ("team", "sv", "mån-tor 08.00-15.30, fre 08.00-14.00"),
        ("team", "en", "Mon-Thu 08:00-15:30, Fri 08:00-14:00"),
        ("team", "fi", "man-tor 08.00-15.30, fre 08.00-14.00"),
        ("lunch", "nb", "man-tor 08.00-11.30 og 12.00-15.30, fre 08.00-14.00"),
        ("lunch", "sv", "mån-tor 08.00-11.30 och 12.00-15.30, fre 08.00-14.00"),
        ("night", "en", "Sun 01:00-04:00"),
    ],
)
def test_describe_hours(team: OfficeHours, hours: str, language: str, text: str) -> None:
    chosen = {"team": team, "lunch": LUNCH, "night": NIGHT_DESK}[hours]
    assert describe_hours(chosen, language) == text
    assert count_segments(text).encoding == "GSM-7"


def test_describe_hours_does_not_merge_days_across_a_gap() -> None:
    hours = parse_office_hours({"weekly": {"mon": ["09:00-12:00"], "wed": ["09:00-12:00"]}})
    assert describe_hours(hours, "en") == "Mon 09:00-12:00, Wed 09:00-12:00"
