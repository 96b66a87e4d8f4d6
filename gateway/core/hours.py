"""Office hours per team: opening hours, holidays, closures, and when the office opens next.

Opening hours are wall-clock times in the team's time zone, so "08:00" stays 08:00 across
daylight-saving changes. All comparisons of instants are made in UTC because Python compares
two datetimes sharing one tzinfo by wall time, which is wrong across a DST change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE: Final = "Europe/Oslo"
# How far next_opening looks; a closure longer than this is a configuration mistake.
_SEARCH_DAYS: Final = 400

Interval = tuple[time, time]


class HoursConfigError(ValueError):
    """Office-hours configuration that cannot be used; the message names the offending key."""


@dataclass(frozen=True)
class OfficeHours:
    """When one team's office is open.

    ``weekly`` has seven entries, Monday first, each a sorted tuple of (start, end) wall-clock
    intervals (start inclusive, end exclusive). ``public_holidays`` names a built-in
    calendar ("NO") whose dates count as holidays every year in addition to ``holidays``.
    """

    weekly: tuple[tuple[Interval, ...], ...]
    timezone: str = DEFAULT_TIMEZONE
    holidays: frozenset[date] = frozenset()
    closures: tuple[tuple[datetime, datetime], ...] = ()
    public_holidays: str | None = None
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise HoursConfigError("weekly: needs seven days, Monday first")
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursConfigError(f"timezone: unknown time zone {self.timezone!r}") from None
        for start, end in self.closures:
            if start.tzinfo is None or end.tzinfo is None:
                raise HoursConfigError("closures: start and end must carry a time zone")

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a configured or built-in public holiday."""
        if day in self.holidays:
            return True
        return self.public_holidays == "NO" and day in norwegian_public_holidays(day.year)


# --- Parsing ----------------------------------------------------------------------------

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_time(text: object, key: str) -> time:
    if isinstance(text, time):
        return text
    if not isinstance(text, str) or not _TIME.match(text.strip()):
        raise HoursConfigError(f"{key}: {text!r} is not a time like '08:00'")
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


def _parse_interval(raw: object, key: str) -> Interval:
    if isinstance(raw, str):
        parts: Sequence[object] = raw.split("-")
    elif isinstance(raw, Sequence):
        parts = raw
    else:
        raise HoursConfigError(f"{key}: {raw!r} is not an interval like '08:00-15:30'")
    if len(parts) != 2:
        raise HoursConfigError(f"{key}: {raw!r} is not an interval like '08:00-15:30'")
    start, end = _parse_time(parts[0], key), _parse_time(parts[1], key)
    if not start < end:
        raise HoursConfigError(
            f"{key}: {raw!r} ends before it starts; intervals past midnight are not supported, "
            "split them at midnight"
        )
    return start, end


def _parse_day(raw: object, key: str) -> tuple[Interval, ...]:
    if raw is None or raw == [] or raw == "closed":
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, Sequence):
        raise HoursConfigError(f"{key}: expected a list of intervals like ['08:00-15:30']")
    intervals = sorted(_parse_interval(item, f"{key}[{i}]") for i, item in enumerate(items))
    for (_, end), (start, _) in pairwise(intervals):
        if start < end:
            raise HoursConfigError(f"{key}: intervals overlap")
    return tuple(intervals)


def _parse_date(raw: object, key: str) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise HoursConfigError(f"{key}: {raw!r} is not a date like '2026-12-24'") from None


def _parse_instant(raw: object, key: str, zone: ZoneInfo) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time())
    else:
        try:
            value = datetime.fromisoformat(str(raw).strip())
        except ValueError:
            raise HoursConfigError(
                f"{key}: {raw!r} is not a date-time like '2026-07-06T00:00'"
            ) from None
    # A closure written without an offset means the team's local wall clock.
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def parse_office_hours(mapping: Mapping[str, object], *, where: str = "hours") -> OfficeHours:
    """Build OfficeHours from a config table (TOML-shaped), naming the bad key on error.

    Keys: ``timezone``; ``weekly`` = {"mon": ["08:00-15:30"], ...} (a day left out is closed;
    pairs like ["08:00", "15:30"] work too); ``holidays`` = ISO dates; ``closures`` =
    [{"start": ..., "end": ...}] (local time unless an offset is given); ``public_holidays``
    = "NO" to add Norwegian public holidays every year.
    """
    known = {"timezone", "weekly", "holidays", "closures", "public_holidays"}
    for key in mapping:
        if key not in known:
            raise HoursConfigError(f"{where}.{key}: unknown key; expected one of {sorted(known)}")
    tz_name = mapping.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(tz_name, str):
        raise HoursConfigError(f"{where}.timezone: expected a name like 'Europe/Oslo'")
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursConfigError(f"{where}.timezone: unknown time zone {tz_name!r}") from None

    weekly_raw = mapping.get("weekly", {})
    if not isinstance(weekly_raw, Mapping):
        raise HoursConfigError(f"{where}.weekly: expected a table of days like mon = [...]")
    for day in weekly_raw:
        if day not in DAYS:
            raise HoursConfigError(f"{where}.weekly.{day}: unknown day; use {', '.join(DAYS)}")
    weekly = tuple(_parse_day(weekly_raw.get(day), f"{where}.weekly.{day}") for day in DAYS)
    if not any(weekly):
        raise HoursConfigError(f"{where}.weekly: the office is never open; give opening hours")

    holidays_raw = mapping.get("holidays", [])
    if not isinstance(holidays_raw, Sequence) or isinstance(holidays_raw, str):
        raise HoursConfigError(f"{where}.holidays: expected a list of dates")
    holidays = frozenset(
        _parse_date(item, f"{where}.holidays[{i}]") for i, item in enumerate(holidays_raw)
    )

    closures_raw = mapping.get("closures", [])
    if not isinstance(closures_raw, Sequence) or isinstance(closures_raw, str):
        raise HoursConfigError(f"{where}.closures: expected a list of {{start, end}} tables")
    closures: list[tuple[datetime, datetime]] = []
    for i, item in enumerate(closures_raw):
        key = f"{where}.closures[{i}]"
        if not isinstance(item, Mapping) or "start" not in item or "end" not in item:
            raise HoursConfigError(f"{key}: expected a table with start and end")
        start = _parse_instant(item["start"], f"{key}.start", zone)
        end = _parse_instant(item["end"], f"{key}.end", zone)
        if not start.astimezone(UTC) < end.astimezone(UTC):
            raise HoursConfigError(f"{key}: end must be after start")
        closures.append((start, end))

    calendar = mapping.get("public_holidays")
    if calendar not in (None, "NO"):
        raise HoursConfigError(f"{where}.public_holidays: only 'NO' is built in")
    return OfficeHours(
        weekly=weekly,
        timezone=tz_name,
        holidays=holidays,
        closures=tuple(sorted(closures, key=lambda c: c[0].astimezone(UTC))),
        public_holidays=calendar if isinstance(calendar, str) else None,
    )


def parse_holiday_file(text: str) -> frozenset[date]:
    """Read a holiday file: one ISO date per line, an optional name after it, ``#`` comments."""
    days: set[date] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        days.add(_parse_date(content.split()[0], f"line {number}"))
    return frozenset(days)


# --- Questions about time ---------------------------------------------------------------


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time zone is required; pass an aware datetime")


def _closure_end_covering(hours: OfficeHours, at_utc: datetime) -> datetime | None:
    for start, end in hours.closures:
        if start.astimezone(UTC) <= at_utc < end.astimezone(UTC):
            return end.astimezone(UTC)
    return None


def is_open(hours: OfficeHours, at: datetime) -> bool:
    """Whether the office is open at the instant ``at`` (aware, any time zone)."""
    _require_aware(at)
    local = at.astimezone(hours.zone)
    if hours.is_holiday(local.date()):
        return False
    if _closure_end_covering(hours, at.astimezone(UTC)) is not None:
        return False
    now = local.time().replace(tzinfo=None)
    return any(start <= now < end for start, end in hours.weekly[local.weekday()])


def _local_instant(day: date, at: time, zone: ZoneInfo, fold: int = 0) -> datetime:
    # A wall time skipped by spring-forward resolves (fold=0) to the same distance past the
    # change; a wall time repeated by fall-back resolves to its first (fold=0) or second
    # (fold=1) occurrence. The UTC round trip makes the result a plain instant.
    return datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)


def next_opening(hours: OfficeHours, at: datetime) -> datetime:
    """The first instant at or after ``at`` when the office is open, in the team's time zone.

    Compare the result with ``<``/``>`` or in UTC: Python's ``==`` across time zones is
    False for a wall time in the repeated fall-back hour (PEP 495).
    """
    _require_aware(at)
    if is_open(hours, at):
        return at.astimezone(hours.zone)
    at_utc = at.astimezone(UTC)
    first_day = at.astimezone(hours.zone).date()
    for offset in range(_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if hours.is_holiday(day):
            continue
        for start, end in hours.weekly[day.weekday()]:
            begin = max(_local_instant(day, start, hours.zone), at_utc)
            # The later reading of the closing time, so an interval in the repeated hour of
            # fall-back covers both occurrences; is_open below has the final word.
            finish = max(_local_instant(day, end, hours.zone, fold) for fold in (0, 1))
            # Closures may overlap or follow each other; step past each in turn.
            while begin < finish and (closed_until := _closure_end_covering(hours, begin)):
                begin = closed_until
            if begin < finish and is_open(hours, begin):
                return begin.astimezone(hours.zone)
    raise ValueError(f"the office does not open within {_SEARCH_DAYS} days of {at.isoformat()}")


# --- Describing hours to families -------------------------------------------------------

_DAY_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "nb": ("man", "tir", "ons", "tor", "fre", "lør", "søn"),
    "nn": ("mån", "tys", "ons", "tor", "fre", "lau", "sun"),
    "da": ("man", "tir", "ons", "tor", "fre", "lør", "søn"),
    "sv": ("mån", "tis", "ons", "tor", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_AND: Final = {"nb": "og", "nn": "og", "da": "og", "sv": "och", "en": "and"}
_CLOSED: Final = {"nb": "stengt", "nn": "stengd", "da": "lukket", "sv": "stängt", "en": "closed"}


def _clock(at: time, language: str) -> str:
    # Nordic languages write 08.00, English 08:00.
    separator = ":" if language == "en" else "."
    return f"{at.hour:02d}{separator}{at.minute:02d}"


def describe_hours(hours: OfficeHours, language: str) -> str:
    """A short text of the weekly opening hours, e.g. "man-fre 08.00-15.30".

    Only GSM-7 characters (a plain hyphen, not an en dash) so an SMS that includes it stays
    GSM-7. Unknown languages fall back to Norwegian Bokmål.
    """
    lang = language if language in _DAY_NAMES else "nb"
    names = _DAY_NAMES[lang]
    groups: list[tuple[int, int, tuple[Interval, ...]]] = []
    for index, intervals in enumerate(hours.weekly):
        if groups and groups[-1][2] == intervals and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, intervals)
        else:
            groups.append((index, index, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        days = names[first] if first == last else f"{names[first]}-{names[last]}"
        spans = f" {_AND[lang]} ".join(
            f"{_clock(start, lang)}-{_clock(end, lang)}" for start, end in intervals
        )
        parts.append(f"{days} {spans}")
    return ", ".join(parts) if parts else _CLOSED[lang]


# --- Norwegian public holidays ----------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def norwegian_public_holidays(year: int) -> frozenset[date]:
    """Norway's public holidays (helligdager and 1 and 17 May) in ``year``."""
    easter = easter_sunday(year)
    moving = (-3, -2, 0, 1, 39, 49, 50)  # skjærtorsdag ... 2. pinsedag
    fixed = ((1, 1), (5, 1), (5, 17), (12, 25), (12, 26))
    return frozenset(
        [easter + timedelta(days=n) for n in moving] + [date(year, m, d) for m, d in fixed]
    )


def office_hours_problems(mapping: Mapping[str, object], *, where: str = "hours") -> list[str]:
    """Every problem in an hours table, one line each (``parse_office_hours`` stops at the first).

    For ``check-config``: an operator fixes a team's hours in one go.
    """
    problems: list[str] = []

    def check(parse: Callable[..., object], *args: object) -> object:
        try:
            return parse(*args)
        except HoursConfigError as exc:
            problems.append(str(exc))
            return None

    known = {"timezone", "weekly", "holidays", "closures", "public_holidays"}
    problems += [
        f"{where}.{key}: unknown key; expected one of {sorted(known)}"
        for key in mapping
        if key not in known
    ]
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    tz_name = mapping.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(tz_name, str):
        problems.append(f"{where}.timezone: expected a name like 'Europe/Oslo'")
    else:
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}.timezone: unknown time zone {tz_name!r}")
    weekly_raw = mapping.get("weekly", {})
    if not isinstance(weekly_raw, Mapping):
        problems.append(f"{where}.weekly: expected a table of days like mon = [...]")
    else:
        problems += [
            f"{where}.weekly.{day}: unknown day; use {', '.join(DAYS)}"
            for day in weekly_raw
            if day not in DAYS
        ]
        days = [check(_parse_day, weekly_raw.get(day), f"{where}.weekly.{day}") for day in DAYS]
        if not problems and not any(days):
            problems.append(f"{where}.weekly: the office is never open; give opening hours")
    holidays_raw = mapping.get("holidays", [])
    if not isinstance(holidays_raw, Sequence) or isinstance(holidays_raw, str):
        problems.append(f"{where}.holidays: expected a list of dates")
    else:
        for i, item in enumerate(holidays_raw):
            check(_parse_date, item, f"{where}.holidays[{i}]")
    closures_raw = mapping.get("closures", [])
    if not isinstance(closures_raw, Sequence) or isinstance(closures_raw, str):
        problems.append(f"{where}.closures: expected a list of {{start, end}} tables")
    else:
        for i, item in enumerate(closures_raw):
            key = f"{where}.closures[{i}]"
            if not isinstance(item, Mapping) or "start" not in item or "end" not in item:
                problems.append(f"{key}: expected a table with start and end")
                continue
            start = check(_parse_instant, item["start"], f"{key}.start", zone)
            end = check(_parse_instant, item["end"], f"{key}.end", zone)
            if isinstance(start, datetime) and isinstance(end, datetime):
                if not start.astimezone(UTC) < end.astimezone(UTC):
                    problems.append(f"{key}: end must be after start")
    if mapping.get("public_holidays") not in (None, "NO"):
        problems.append(f"{where}.public_holidays: only 'NO' is built in")
    return problems
