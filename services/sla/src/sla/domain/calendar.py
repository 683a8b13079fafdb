"""Business calendars and business-time arithmetic (docs/sla.md "Calendars").

A calendar names an IANA zone, working intervals per weekday in that zone's wall time, and days
off (explicit local dates plus a country's public holidays from the `holidays` package). An
instant is business time when its wall time in the zone falls inside a working interval of a
day that is not off. Business minutes are real elapsed minutes of such instants, so a DST gap
inside working hours shortens that day and a fold lengthens it (the repeated hour is worked
twice). Instants go in and come out as UTC.

The arithmetic walks the real timeline in stretches of one UTC offset: inside a stretch, wall
time is UTC plus that offset, so the day's wall-time intervals map onto it by a shift alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays as holiday_data

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
MAX_HOLIDAYS = 1000
# A walk that finds no business time in this many days has a calendar without any.
_MAX_DAYS = 366 * 20
_DAY = timedelta(days=1)
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Interval = tuple[time, time]


class CalendarError(ValueError):
    """A calendar definition that cannot be used; ``field`` points at the offending member."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _countries() -> dict[str, list[str]]:
    return dict(holiday_data.list_supported_countries())


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _end_minute(t: time) -> int:
    """An interval's end in minutes of its day; 00:00 ends the day (24:00)."""
    return 24 * 60 if t == MIDNIGHT else _minute(t)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    hours: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    # Derived once per calendar: the zone, each weekday's intervals in minutes, days off seen.
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _week: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _off: dict[date, bool] = field(init=False, repr=False, compare=False)
    _country: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self)
        week = tuple(
            tuple((_minute(s), _end_minute(e)) for s, e in sorted(self.hours.get(day, ()))) for day in DAYS
        )
        country = None
        if self.holiday_country:
            country = holiday_data.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision)
        object.__setattr__(self, "_tz", _zone(self.time_zone))
        object.__setattr__(self, "_week", week)
        object.__setattr__(self, "_off", {})
        object.__setattr__(self, "_country", country)

    # ------------------------------------------------------------------ arithmetic

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` business minutes after ``start`` (``start`` itself for 0)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        start = _as_utc(start)
        left = timedelta(minutes=minutes)
        if not left:
            return start
        for a, b in self._spans(start):
            if b - a >= left:
                return a + left
            left -= b - a
        raise AssertionError("unreachable: _spans ends only by raising")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
        start, end = _as_utc(start), _as_utc(end)
        total = timedelta()
        if end <= start:
            return 0.0
        for a, b in self._spans(start, end):
            if a >= end:
                break
            total += min(b, end) - a
        return total / timedelta(minutes=1)

    def _spans(self, start: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Business time from ``start`` on, as (from, to) UTC pairs in order. Stops once past
        ``until``; without one, raises CalendarError after _MAX_DAYS days without business time."""
        cursor = start
        idle_since = start
        while True:
            offset = self._offset(cursor)
            stretch_end = self._next_change(cursor, offset)
            found = False
            for a, b in self._local_spans(cursor + offset, stretch_end + offset):
                found = True
                yield a - offset, b - offset
            if until is not None and stretch_end >= until:
                return
            if found:
                idle_since = stretch_end
            elif stretch_end - idle_since > _MAX_DAYS * _DAY:
                raise CalendarError("the calendar has no business time", field="hours")
            cursor = stretch_end

    def _local_spans(self, lo: datetime, hi: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in wall time (as naive-UTC datetimes) clipped to [lo, hi)."""
        day = lo.date()
        while True:
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if midnight >= hi:
                return
            if not self._is_off(day):
                for s, e in self._week[day.weekday()]:
                    a = max(lo, midnight + timedelta(minutes=s))
                    b = min(hi, midnight + timedelta(minutes=e))
                    if a < b:
                        yield a, b
            day += _DAY

    def _is_off(self, day: date) -> bool:
        off = self._off.get(day)
        if off is None:
            off = day in self.holidays or (self._country is not None and day in self._country)
            if len(self._off) < 100_000:
                self._off[day] = off
        return off

    def _offset(self, instant: datetime) -> timedelta:
        return instant.astimezone(self._tz).utcoffset() or timedelta()

    def _next_change(self, instant: datetime, offset: timedelta) -> datetime:
        """The next change of UTC offset within a day of ``instant``, else a day later. Zones
        change offset at whole seconds and at most once a day, so a bisection on seconds finds it."""
        horizon = instant + _DAY
        if self._offset(horizon) == offset:
            return horizon
        base = instant.replace(microsecond=0)
        lo, hi = 0, 86400 + 1  # offset(base + lo) == offset, offset(base + hi) differs
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset(base + timedelta(seconds=mid)) == offset:
                lo = mid
            else:
                hi = mid
        return max(base + timedelta(seconds=hi), instant)

    # ------------------------------------------------------------------ the API shape

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time_zone": self.time_zone,
            "hours": {
                day: [
                    [s.strftime("%H:%M"), "24:00" if e == MIDNIGHT else e.strftime("%H:%M")]
                    for s, e in sorted(self.hours.get(day, ()))
                ]
                for day in DAYS
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "holiday_country": self.holiday_country,
            "holiday_subdivision": self.holiday_subdivision,
        }
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calendar:
        """Parse and check the API shape; raises CalendarError naming the bad member."""
        if not isinstance(data, Mapping):
            raise CalendarError("a calendar is an object")
        unknown = set(data) - {"time_zone", "hours", "holidays", "holiday_country", "holiday_subdivision"}
        if unknown:
            raise CalendarError(f"unknown member {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        zone = data.get("time_zone", "UTC")
        hours_in = data.get("hours")
        if not isinstance(hours_in, Mapping):
            raise CalendarError("hours: an object keyed mon..sun", field="hours")
        hours: dict[str, tuple[Interval, ...]] = {}
        for day, intervals in hours_in.items():
            if day not in DAYS:
                raise CalendarError(f"hours: unknown day {day!r} (use {', '.join(DAYS)})", field="hours")
            if not isinstance(intervals, list | tuple):
                raise CalendarError(f"hours.{day}: a list of [start, end] pairs", field=f"hours.{day}")
            hours[day] = tuple(_parse_interval(day, i, pair) for i, pair in enumerate(intervals))
        days_in = data.get("holidays") or []
        if not isinstance(days_in, list | tuple):
            raise CalendarError("holidays: a list of YYYY-MM-DD dates", field="holidays")
        if len(days_in) > MAX_HOLIDAYS:
            raise CalendarError(f"holidays: at most {MAX_HOLIDAYS} dates", field="holidays")
        return cls(
            time_zone=zone,
            hours=hours,
            holidays=frozenset(_parse_date(i, d) for i, d in enumerate(days_in)),
            holiday_country=data.get("holiday_country"),
            holiday_subdivision=data.get("holiday_subdivision"),
        )


def _parse_interval(day: str, i: int, pair: Any) -> Interval:
    where = f"hours.{day}[{i}]"
    if not isinstance(pair, list | tuple) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
        raise CalendarError(f'{where}: a ["HH:MM", "HH:MM"] pair', field=where)
    start, end = pair
    if not _HHMM.fullmatch(start):
        raise CalendarError(f"{where}: bad start time {start!r} (HH:MM, 00:00 to 23:59)", field=where)
    if end != "24:00" and not _HHMM.fullmatch(end):
        raise CalendarError(f"{where}: bad end time {end!r} (HH:MM, or 24:00 for midnight)", field=where)
    return time.fromisoformat(start), MIDNIGHT if end == "24:00" else time.fromisoformat(end)


def _parse_date(i: int, value: Any) -> date:
    where = f"holidays[{i}]"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise CalendarError(f"{where}: {value!r} is not a YYYY-MM-DD date", field=where)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date", field=where) from None


def _check(cal: Calendar) -> None:
    """A calendar's invariants, whichever way it was built."""
    if not isinstance(cal.time_zone, str) or cal.time_zone not in _zones():
        raise CalendarError(f"time_zone: {cal.time_zone!r} is not an IANA time zone", field="time_zone")
    unknown = set(cal.hours) - set(DAYS)
    if unknown:
        raise CalendarError(f"hours: unknown day {sorted(unknown)[0]!r}", field="hours")
    any_hours = False
    for day in DAYS:
        previous_end = -1
        for s, e in sorted(cal.hours.get(day, ())):
            start, end = _minute(s), _end_minute(e)
            if s.second or s.microsecond or e.second or e.microsecond:
                raise CalendarError(f"hours.{day}: times are whole minutes", field=f"hours.{day}")
            if start >= end:
                raise CalendarError(
                    f"hours.{day}: {s:%H:%M}-{e:%H:%M} ends before it starts (split an interval "
                    "that crosses midnight over two days)",
                    field=f"hours.{day}",
                )
            if start < previous_end:
                raise CalendarError(f"hours.{day}: intervals overlap at {s:%H:%M}", field=f"hours.{day}")
            previous_end = end
            any_hours = True
    if not any_hours:
        raise CalendarError("hours: at least one working interval in the week", field="hours")
    if cal.holiday_subdivision is not None and cal.holiday_country is None:
        raise CalendarError("holiday_subdivision needs a holiday_country", field="holiday_subdivision")
    if cal.holiday_country is not None:
        countries = _countries()
        if cal.holiday_country not in countries:
            raise CalendarError(
                f"holiday_country: {cal.holiday_country!r} is not a supported country code "
                "(ISO 3166-1 alpha-2, e.g. DE)",
                field="holiday_country",
            )
        if (
            cal.holiday_subdivision is not None
            and cal.holiday_subdivision not in countries[cal.holiday_country]
        ):
            raise CalendarError(
                f"holiday_subdivision: {cal.holiday_country} has no subdivision {cal.holiday_subdivision!r}",
                field="holiday_subdivision",
            )


class AlwaysOn:
    """The 24x7 calendar: every minute counts; plain UTC arithmetic."""

    def add(self, start: datetime, minutes: float) -> datetime:
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        return _as_utc(start) + timedelta(minutes=minutes)

    def between(self, start: datetime, end: datetime) -> float:
        return max(0.0, (_as_utc(end) - _as_utc(start)) / timedelta(minutes=1))


ALWAYS = AlwaysOn()

_NINE_TO_FIVE = ((time(9, 0), time(17, 0)),)
DEFAULT = Calendar(time_zone="UTC", hours={day: _NINE_TO_FIVE for day in DAYS[:5]})
