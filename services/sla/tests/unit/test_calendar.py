"""Business-time arithmetic: weekends, holidays (explicit and a country's), both DST changes in
two zones, several intervals a day, intervals ending at midnight, the API shape and its
refusals; then properties against a slow reference walk, minute by minute over real time with
each minute's wall time read in the calendar's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.domain.calendar import ALWAYS, DAYS, DEFAULT, Calendar, CalendarError

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def cal(hours: dict[str, list[list[str]]], zone: str = "UTC", **more: Any) -> Calendar:
    return Calendar.from_json({"time_zone": zone, "hours": hours, **more})


ALL_DAY = {day: [["00:00", "24:00"]] for day in DAYS}
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in DAYS[:5]}


# ---------------------------------------------------------------- weekends and holidays


def test_default_is_weekdays_nine_to_five_utc() -> None:
    assert DEFAULT.to_json() == {
        "time_zone": "UTC",
        "hours": {**{d: [["09:00", "17:00"]] for d in DAYS[:5]}, "sat": [], "sun": []},
        "holidays": [],
        "holiday_country": None,
        "holiday_subdivision": None,
    }


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    friday_4pm = utc(2026, 1, 2, 16, 0)
    assert DEFAULT.add(friday_4pm, 120) == utc(2026, 1, 5, 10, 0)
    assert DEFAULT.between(friday_4pm, utc(2026, 1, 5, 10, 0)) == 120
    assert DEFAULT.between(utc(2026, 1, 3, 0), utc(2026, 1, 5, 9)) == 0  # the whole weekend


def test_start_outside_hours_counts_from_the_next_opening() -> None:
    assert DEFAULT.add(utc(2026, 1, 5, 6, 0), 30) == utc(2026, 1, 5, 9, 30)
    assert DEFAULT.add(utc(2026, 1, 5, 17, 0), 1) == utc(2026, 1, 6, 9, 1)
    # Exactly the rest of the day ends at the close, not the next morning.
    assert DEFAULT.add(utc(2026, 1, 5, 16, 0), 60) == utc(2026, 1, 5, 17, 0)


def test_zero_minutes_and_backwards_ranges() -> None:
    saturday = utc(2026, 1, 3, 12)
    assert DEFAULT.add(saturday, 0) == saturday
    assert DEFAULT.between(utc(2026, 1, 6), utc(2026, 1, 5)) == 0


def test_explicit_holiday_is_skipped() -> None:
    christmas = cal(NINE_TO_FIVE, holidays=["2026-12-25"])
    thursday_4pm = utc(2026, 12, 24, 16)
    assert christmas.add(thursday_4pm, 120) == utc(2026, 12, 28, 10)
    assert DEFAULT.add(thursday_4pm, 120) == utc(2026, 12, 25, 10)


def test_country_holidays_with_subdivision() -> None:
    # 6 January (Epiphany) is a holiday in Bavaria, not in Berlin (the state).
    bavaria = cal(NINE_TO_FIVE, BERLIN, holiday_country="DE", holiday_subdivision="BY")
    berlin = cal(NINE_TO_FIVE, BERLIN, holiday_country="DE", holiday_subdivision="BE")
    monday_4pm = local(BERLIN, 2026, 1, 5, 16)
    assert bavaria.add(monday_4pm, 120) == local(BERLIN, 2026, 1, 7, 10)
    assert berlin.add(monday_4pm, 120) == local(BERLIN, 2026, 1, 6, 10)


def test_observed_country_holiday() -> None:
    # 4 July 2026 is a Saturday: the United States observe it on Friday 3 July.
    us = cal(NINE_TO_FIVE, NEW_YORK, holiday_country="US")
    assert us.add(local(NEW_YORK, 2026, 7, 2, 16), 120) == local(NEW_YORK, 2026, 7, 6, 10)


def test_holidays_are_local_dates_of_the_calendars_zone() -> None:
    ny = cal(ALL_DAY, NEW_YORK, holidays=["2026-12-25"])
    in_utc = cal(ALL_DAY, holidays=["2026-12-25"])
    # 25 Dec 03:00-05:00 UTC is still 24 Dec 22:00-24:00 in New York: worked there, not in UTC.
    assert ny.between(utc(2026, 12, 25, 3), utc(2026, 12, 25, 5)) == 120
    assert in_utc.between(utc(2026, 12, 25, 3), utc(2026, 12, 25, 5)) == 0
    # New York's 25th (05:00 UTC to 05:00 UTC the next day) is off.
    assert ny.between(utc(2026, 12, 25, 5), utc(2026, 12, 26, 5)) == 0


# ---------------------------------------------------------------- daylight saving time


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [(BERLIN, date(2026, 3, 29), date(2026, 10, 25)), (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1))],
)
def test_a_whole_day_is_23_hours_in_spring_and_25_in_autumn(zone: str, spring: date, autumn: date) -> None:
    always = cal(ALL_DAY, zone)
    for day, minutes in ((spring, 23 * 60), (autumn, 25 * 60)):
        start = local(zone, day.year, day.month, day.day)
        following = day + timedelta(days=1)
        end = local(zone, following.year, following.month, following.day)
        assert always.between(start, end) == minutes
        assert always.add(start, minutes) == end


@pytest.mark.parametrize(("zone", "spring"), [(BERLIN, date(2026, 3, 29)), (NEW_YORK, date(2026, 3, 8))])
def test_spring_gap_inside_hours_is_not_worked(zone: str, spring: date) -> None:
    # 01:00-04:00 wall time, but 02:00-03:00 does not exist that night: two real hours.
    night = cal({"sun": [["01:00", "04:00"]]}, zone)
    y, m, d = spring.year, spring.month, spring.day
    assert night.between(local(zone, y, m, d, 0), local(zone, y, m, d, 5)) == 120
    # 01:30 + 60 business minutes: half an hour to the gap, then from 03:00 on.
    assert night.add(local(zone, y, m, d, 1, 30), 60) == local(zone, y, m, d, 3, 30)
    # An interval that starts inside the gap starts at the first real instant after it.
    in_gap = cal({"sun": [["02:30", "04:00"]]}, zone)
    assert in_gap.between(local(zone, y, m, d, 0), local(zone, y, m, d, 5)) == 60
    assert in_gap.add(local(zone, y, m, d, 0), 1) == local(zone, y, m, d, 3, 1)


@pytest.mark.parametrize(("zone", "autumn"), [(BERLIN, date(2026, 10, 25)), (NEW_YORK, date(2026, 11, 1))])
def test_autumn_fold_inside_hours_is_worked_twice(zone: str, autumn: date) -> None:
    y, m, d = autumn.year, autumn.month, autumn.day
    # Berlin repeats 02:00-03:00, New York 01:00-02:00; an interval holding the fold counts both.
    hour = 2 if zone == BERLIN else 1
    night = cal({"sun": [[f"0{hour}:00", f"0{hour + 1}:00"]]}, zone)
    first = local(zone, y, m, d, hour, 0, fold=0)
    second = local(zone, y, m, d, hour, 0, fold=1)
    assert second - first == timedelta(hours=1)
    assert night.between(local(zone, y, m, d, 0), local(zone, y, m, d, 6)) == 120
    assert night.add(first, 90) == local(zone, y, m, d, hour, 30, fold=1)


def test_business_hours_follow_the_wall_clock_across_the_change() -> None:
    # Friday 16:00 CET (15:00 UTC) + 2 h: one hour Friday, one on Monday from 09:00 CEST (07:00 UTC).
    berlin = cal(NINE_TO_FIVE, BERLIN)
    assert berlin.add(local(BERLIN, 2026, 3, 27, 16), 120) == utc(2026, 3, 30, 8)
    ny = cal(NINE_TO_FIVE, NEW_YORK)
    assert ny.add(local(NEW_YORK, 2026, 10, 30, 16), 120) == utc(2026, 11, 2, 15)  # 10:00 EST


# ---------------------------------------------------------------- several intervals, midnight


def test_several_intervals_a_day() -> None:
    split = cal({"mon": [["13:00", "17:00"], ["09:00", "12:00"]]})
    monday = (2026, 1, 5)
    assert split.add(utc(*monday, 11), 90) == utc(*monday, 13, 30)
    assert split.between(utc(*monday, 8), utc(*monday, 18)) == 7 * 60
    assert split.to_json()["hours"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_intervals_ending_at_midnight() -> None:
    late = cal({"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]})
    friday = (2026, 1, 2)
    assert late.add(utc(*friday, 23), 120) == utc(2026, 1, 3, 1)
    assert late.between(utc(*friday, 12), utc(2026, 1, 3, 12)) == 6 * 60
    # 00:00 as an end is the same midnight.
    assert cal({"fri": [["20:00", "00:00"]]}).to_json()["hours"]["fri"] == [["20:00", "24:00"]]


def test_always_counts_every_minute() -> None:
    start = utc(2026, 3, 29, 0)
    assert ALWAYS.add(start, 90) == utc(2026, 3, 29, 1, 30)
    assert ALWAYS.between(start, utc(2026, 3, 30)) == 1440
    assert ALWAYS.between(utc(2026, 3, 30), start) == 0


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        DEFAULT.add(datetime(2026, 1, 5, 9), 1)


# ---------------------------------------------------------------- the API shape


def test_round_trip_through_json() -> None:
    data = {
        "time_zone": BERLIN,
        "hours": {**{d: [["08:00", "12:00"], ["13:00", "24:00"]] for d in DAYS[:5]}, "sat": [], "sun": []},
        "holidays": ["2026-12-24", "2026-12-31"],
        "holiday_country": "DE",
        "holiday_subdivision": "BY",
    }
    assert Calendar.from_json(data).to_json() == data
    assert Calendar.from_json(data) == Calendar.from_json(Calendar.from_json(data).to_json())


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "IANA"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "IANA"),
        ({"hours": {"mon": [["9:00", "17:00"]]}}, "hours.mon[0]", "start"),
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "hours.mon[0]", "end"),
        ({"hours": {"mon": [["24:00", "24:00"]]}}, "hours.mon[0]", "start"),
        ({"hours": {"mon": [["09:00"]]}}, "hours.mon[0]", "pair"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours.mon", "crosses midnight"),
        ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.mon", "overlap"),
        ({"hours": {"monday": [["09:00", "17:00"]]}}, "hours", "unknown day"),
        ({"hours": {"sat": []}}, "hours", "at least one"),
        ({"hours": []}, "hours", "object"),
        ({"holidays": ["2026-02-30"]}, "holidays[0]", "not a date"),
        ({"holidays": ["25/12/2026"]}, "holidays[0]", "YYYY-MM-DD"),
        ({"holiday_country": "XX"}, "holiday_country", "supported"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday_subdivision", "no subdivision"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision", "needs"),
        ({"colour": "blue"}, "colour", "unknown member"),
    ],
)
def test_bad_definitions_are_refused_clearly(change: dict[str, Any], field: str, words: str) -> None:
    data = {"time_zone": "UTC", "hours": NINE_TO_FIVE} | change
    with pytest.raises(CalendarError) as caught:
        Calendar.from_json(data)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_adjacent_intervals_do_not_overlap() -> None:
    touching = cal({"mon": [["09:00", "12:00"], ["12:00", "17:00"]]})
    assert touching.between(utc(2026, 1, 5), utc(2026, 1, 6)) == 8 * 60


# ---------------------------------------------------------------- properties against a slow walk

ZONES = ["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata"]
MINUTE = timedelta(minutes=1)


def business(calendar: Calendar, instant: datetime) -> bool:
    wall = instant.astimezone(ZoneInfo(calendar.time_zone))
    if wall.date() in calendar.holidays:
        return False
    minute = wall.hour * 60 + wall.minute
    for s, e in calendar.hours.get(DAYS[wall.weekday()], ()):
        end = 1440 if (e.hour, e.minute) == (0, 0) else e.hour * 60 + e.minute
        if s.hour * 60 + s.minute <= minute < end:
            return True
    return False


def walk_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    count, t = 0, start
    while t < end:
        count += business(calendar, t)
        t += MINUTE
    return count


def walk_add(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    t = start
    while minutes:
        if business(calendar, t):
            minutes -= 1
        t += MINUTE
    return t


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    hours: dict[str, list[list[str]]] = {}
    for day in DAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 96).map(lambda q: q * 15), max_size=6)))
        pairs = [cuts[i : i + 2] for i in range(0, len(cuts) - 1, 2)]
        hours[day] = [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in pairs]
    # Enough business time a week that the slow walk stays short.
    total = sum(
        int(e[:2]) * 60 + int(e[3:]) - int(s[:2]) * 60 - int(s[3:]) for v in hours.values() for s, e in v
    )
    if total < 600:
        hours["wed"] = [["00:00", "24:00"]]
    off = draw(st.sets(st.dates(date(2026, 3, 1), date(2026, 11, 30)), max_size=4))
    return cal(hours, draw(st.sampled_from(ZONES)), holidays=[d.isoformat() for d in off])


# Whole-minute instants around both 2026 changes of every zone above (Lord Howe's is 30 minutes).
instants = st.integers(0, 280 * 1440).map(lambda m: utc(2026, 3, 1) + m * MINUTE)
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), instants, st.integers(0, 1200))
def test_add_matches_the_walk(calendar: Calendar, start: datetime, minutes: int) -> None:
    end = calendar.add(start, minutes)
    assert end == walk_add(calendar, start, minutes)
    assert calendar.between(start, end) == pytest.approx(minutes, abs=1e-9)


@PROPERTY
@given(calendars(), instants, st.integers(0, 6 * 1440))
def test_between_matches_the_walk(calendar: Calendar, start: datetime, span: int) -> None:
    end = start + span * MINUTE
    assert calendar.between(start, end) == walk_between(calendar, start, end)


@PROPERTY
@given(calendars(), instants, st.floats(0, 2000, allow_nan=False))
def test_add_then_between_round_trips_fractional_minutes(
    calendar: Calendar, start: datetime, minutes: float
) -> None:
    start = start + timedelta(seconds=17, microseconds=250)
    assert calendar.between(start, calendar.add(start, minutes)) == pytest.approx(minutes, abs=1e-6)
