"""Working-time calendars: laws that hold for every start and duration, and a brute-force check.

The oracle for "is this a working day" is the holidays package's own `is_working_day` (weekend,
holidays, 调休), independent of how `WorkingCalendar` reads the same data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.calendar import OFFICE, PRODUCTION_UNIT, CalendarSpec, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
FIRST = datetime(2025, 1, 1, tzinfo=SHANGHAI)
LAST = datetime(2029, 1, 1, tzinfo=SHANGHAI)
SECOND = timedelta(seconds=1)

CALENDARS = {"office": WorkingCalendar(OFFICE), "production unit": WorkingCalendar(PRODUCTION_UNIT)}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
starts = st.integers(0, int((LAST - FIRST) / SECOND)).map(lambda s: FIRST + s * SECOND)
durations = st.integers(0, 2000 * 3600).map(lambda s: s * SECOND)  # up to 2,000 working hours

LAWS = settings(max_examples=200, deadline=None)


@cache
def _china() -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=range(2024, 2031))


def oracle_working_day(calendar: WorkingCalendar, day: date) -> bool:
    if calendar.spec.national_holidays is None:
        return True  # 7 x 10
    return _china().is_working_day(day)


@LAWS
@given(calendars, starts, durations, durations)
def test_deadlines_add_up(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    assert calendar.deadline(calendar.deadline(start, a), b) == calendar.deadline(start, a + b)


@LAWS
@given(calendars, starts, durations)
def test_working_time_to_the_deadline_is_the_duration(
    calendar: WorkingCalendar, start: datetime, working: timedelta
) -> None:
    due = calendar.deadline(start, working)
    assert calendar.working_time_between(start, due) == working
    assert calendar.working_time_between(due, start) == -working


@LAWS
@given(calendars, starts, durations.filter(bool))
def test_deadline_falls_in_working_time_or_exactly_at_a_period_end(
    calendar: WorkingCalendar, start: datetime, working: timedelta
) -> None:
    local = calendar.deadline(start, working).astimezone(SHANGHAI)
    assert oracle_working_day(calendar, local.date())
    assert time(8) < local.time() <= time(18)


@LAWS
@given(calendars, starts, starts, durations)
def test_later_start_is_never_due_earlier(
    calendar: WorkingCalendar, one: datetime, other: datetime, working: timedelta
) -> None:
    early, late = sorted((one, other))
    assert calendar.deadline(early, working) <= calendar.deadline(late, working)


@LAWS
@given(calendars, starts, durations, durations)
def test_more_working_time_is_never_due_earlier(
    calendar: WorkingCalendar, start: datetime, one: timedelta, other: timedelta
) -> None:
    short, long = sorted((one, other))
    assert calendar.deadline(start, short) <= calendar.deadline(start, long)
    assert short == long or calendar.deadline(start, short) < calendar.deadline(start, long)


@LAWS
@given(calendars, starts, starts)
def test_working_time_between_is_antisymmetric(
    calendar: WorkingCalendar, a: datetime, b: datetime
) -> None:
    between = calendar.working_time_between(a, b)
    assert between == -calendar.working_time_between(b, a)
    assert between >= timedelta(0) if a <= b else between <= timedelta(0)


# -- brute force: a minute-by-minute walker over a few weeks catches off-by-one errors -------------

MINUTE = timedelta(minutes=1)


def walk(is_working_minute: Callable[[datetime], bool], start: datetime, minutes: int) -> datetime:
    """Naive reference: step one minute at a time, counting the minutes that are working time."""
    instant = start.astimezone(UTC)
    while minutes:
        if is_working_minute(instant):
            minutes -= 1
        instant += MINUTE
    return instant


def shanghai_minute(calendar: WorkingCalendar) -> Callable[[datetime], bool]:
    def is_working(instant: datetime) -> bool:
        local = instant.astimezone(SHANGHAI)
        return oracle_working_day(calendar, local.date()) and time(8) <= local.time() < time(18)

    return is_working


def _sample(seed: int, count: int) -> list[tuple[str, datetime, int]]:
    draw = random.Random(seed)
    # Starts near the holiday clusters as well as anywhere in 2025-2028.
    hot = [date(2025, 1, 24), date(2025, 9, 26), date(2025, 12, 30), date(2026, 2, 11),
           date(2026, 4, 30), date(2026, 9, 17), date(2026, 9, 29), date(2026, 12, 30),
           date(2027, 2, 3), date(2027, 9, 30), date(2028, 1, 26)]  # fmt: skip
    cases = []
    for i in range(count):
        name = sorted(CALENDARS)[i % 2]
        if i % 3:
            day = draw.choice(hot)
        else:
            day = date(2025, 1, 1) + timedelta(days=draw.randrange(4 * 365))
        start = datetime.combine(day, time(draw.randrange(24), draw.randrange(60)), tzinfo=SHANGHAI)
        minutes = draw.choice([1, 59, 60, 600, 601, 1200, draw.randrange(1, 4800)])
        cases.append((name, start, minutes))
    return cases


@pytest.mark.parametrize(("name", "start", "minutes"), _sample(seed=20260306, count=40))
def test_deadline_matches_a_minute_by_minute_walk(name: str, start: datetime, minutes: int) -> None:
    calendar = CALENDARS[name]
    assert calendar.deadline(start, minutes * MINUTE) == walk(
        shanghai_minute(calendar), start, minutes
    )


BERLIN_SHIFTS = CalendarSpec.model_validate(
    {
        "time_zone": "Europe/Berlin",
        "weekly": {
            day: [{"start": "01:00", "end": "04:00"}, {"start": "08:00", "end": "18:00"}]
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "national_holidays": None,
    }
)


def berlin_minute(instant: datetime) -> bool:
    wall = instant.astimezone(BERLIN).time()  # both passes of a repeated hour are worked
    return time(1) <= wall < time(4) or time(8) <= wall < time(18)


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        (datetime(2026, 3, 28, 17, 30, tzinfo=BERLIN), minutes)
        for minutes in (30, 31, 90, 120, 150, 180, 600, 900, 1500)
    ]
    + [
        (datetime(2026, 10, 24, 17, 30, tzinfo=BERLIN), minutes)
        for minutes in (30, 31, 90, 150, 210, 240, 270, 900, 1500)
    ],
)
def test_dst_deadline_matches_a_minute_by_minute_walk(start: datetime, minutes: int) -> None:
    assert WorkingCalendar(BERLIN_SHIFTS).deadline(start, minutes * MINUTE) == walk(
        berlin_minute, start, minutes
    )
