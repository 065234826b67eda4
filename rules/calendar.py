"""Working-time calendars (工作日历): the one place that turns "N working hours on calendar C
from instant S" into an instant (DOMAIN §5).

Every clock in the project runs in working time on the calendar of the unit that must act: the
office calendar (Mon–Fri 8:00–18:00 with the national holidays and the 调休 make-up working days)
or the production unit's 7 × 10 (every day 8:00–18:00). The policy describes a calendar with a
`CalendarSpec`; `WorkingCalendar` answers the questions the workflows ask:

- `deadline(start, working)`: when has `working` working time elapsed since `start`?
- `working_time_between(a, b)`: how much working time lies between two instants?
- `evaluate(rule, start)`: the due instant of a dispatch under its `DeadlineRule` (working hours
  or the 8/10/12/14/16/18 check windows of a linked dispatch 关联调度).

How it stays fast: the first question about a year builds a table of that year's working intervals
(UTC, after holidays, 调休, organisation closures and DST) with running totals, shared by every
calendar with the same spec. A deadline is then two binary searches, whatever its length: a
1,000-hour deadline costs what a 1-hour one does (plus one table look-up per year end crossed).

Choices (the policy author's reference):
- A national make-up working day (调休) or an `extra_working_days` date works that weekday's own
  periods if it has any, else `make_up_day_periods`, which defaults to the periods of the first
  weekday Mon..Sun that has periods (Mon 08:00–18:00 for the office).
- Precedence for one date: `extra_closures` > `extra_working_days` > national holiday > national
  make-up day > the weekly pattern. A date cannot be both an extra closure and an extra working day.
- Periods are wall-clock times in `time_zone`, converted to UTC per day, so DST zones are exact.
  A wall time repeated when the clocks go back means its first occurrence (a period spanning the
  repeated hour really lasts an hour longer); a wall time skipped when the clocks go forward means
  the instant the clocks jump (02:30 on the spring-forward day reads as 03:00 new time), so a period
  lying wholly in the gap vanishes for that day.
- `working_time_between(a, b)` is signed: negative when b is before a (the working time left until
  a due instant goes negative once it is overdue).
- Check windows are half-open: an arrival exactly at a check time belongs to the window that check
  opens (10:00 → the 10–12 window → due 14:00; 08:00 → due 12:00; 16:00 → 10:00 next working day).
- Wall times in the policy must be written as quoted strings ("08:00"): YAML 1.1 reads an unquoted
  8:00 as the sexagesimal number 480, which would otherwise pass as 00:08:00.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.registry import COUNTRIES
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "OFFICE",
    "PRODUCTION_UNIT",
    "CalendarSpec",
    "CheckWindowRule",
    "DeadlineRule",
    "ElapsedHoursRule",
    "Weekday",
    "WorkingCalendar",
    "WorkingDaysRule",
    "WorkingHoursRule",
    "WorkingPeriod",
]

# Bump when the way a deadline is computed changes, so `WorkingCalendar.version` changes with it.
_RULES_REVISION = "1"

_POLICY = ConfigDict(extra="forbid", frozen=True)  # a misspelled policy key is reported by name
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_LONGEST_CLOSURE_DAYS = 2 * 366  # no working day for this long means the spec is unusable


# -------------------------------------------------------------------------------------------------
# National calendar data


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    # The registry is the package's own table; list_supported_countries() imports every country.
    return frozenset(code for names in COUNTRIES.values() for code in names[1:3])


@lru_cache(maxsize=128)
def _national_days(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, make-up working days 调休) falling in `year`.

    The neighbouring years are loaded too: a make-up day can lie in another year than the holiday it
    pays for (e.g. Saturday 2001-12-29 for New Year 2002).
    """
    data = holidays.country_holidays(country, years=[year - 1, year, year + 1])
    closed = frozenset(day for day in data if day.year == year)
    make_up = frozenset(day for day in data.weekend_workdays if day.year == year)
    return closed, make_up


# -------------------------------------------------------------------------------------------------
# Policy models


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError(
            "write a wall-clock time as a quoted 'HH:MM' string"
            " (YAML reads an unquoted 8:00 as the number 480)"
        )
    return value


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a working time is local wall-clock time; the calendar's zone applies")
    return value


WallTime = Annotated[time, BeforeValidator(_not_a_number), AfterValidator(_wall_clock)]


class Weekday(StrEnum):
    """Day of the week as written in the policy; order matches `date.weekday()`."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_WEEKDAYS = tuple(Weekday)


class WorkingPeriod(BaseModel):
    """One stretch of working time within a day, in local wall-clock time (e.g. 08:00–18:00)."""

    model_config = _POLICY

    start: WallTime
    end: WallTime

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"end {end} must be after start {start} (a period is within a day)")
        return end


def _sorted_without_overlap(periods: list[WorkingPeriod], where: str) -> list[WorkingPeriod]:
    ordered = sorted(periods, key=lambda p: p.start)
    for earlier, later in zip(ordered, ordered[1:]):
        if later.start < earlier.end:
            raise ValueError(
                f"{where}: periods {earlier.start}–{earlier.end}"
                f" and {later.start}–{later.end} overlap"
            )
    return ordered


class CalendarSpec(BaseModel):
    """A unit's working calendar as the policy file states it.

    `national_holidays` is a `holidays` country code ("CN": national holidays close the day and the
    调休 make-up working days open it) or null to ignore national holidays (production units work
    7 × 10). It has no default, so a forgotten line cannot silently drop the holidays.
    """

    model_config = _POLICY

    time_zone: str = "Asia/Shanghai"
    weekly: dict[Weekday, list[WorkingPeriod]]  # a day absent or empty is not a working day
    national_holidays: str | None
    make_up_day_periods: list[WorkingPeriod] | None = None  # None: the first weekday with periods
    extra_closures: list[date] = []  # organisation closures, e.g. a typhoon day
    extra_working_days: list[date] = []  # organisation working days on a usual day off

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Asia/Shanghai')") from None
        return value

    @field_validator("national_holidays")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in _supported_countries():
            raise ValueError(f"{value!r} is not a holidays package country code (e.g. 'CN')")
        return value

    @field_validator("weekly")
    @classmethod
    def _weekly_without_overlap(
        cls, weekly: dict[Weekday, list[WorkingPeriod]]
    ) -> dict[Weekday, list[WorkingPeriod]]:
        # Canonical order (weekday, then start) so equal calendars get equal fingerprints.
        return {
            day: _sorted_without_overlap(weekly[day], str(day))
            for day in _WEEKDAYS
            if day in weekly
        }

    @field_validator("make_up_day_periods")
    @classmethod
    def _make_up_without_overlap(
        cls, periods: list[WorkingPeriod] | None
    ) -> list[WorkingPeriod] | None:
        return None if periods is None else _sorted_without_overlap(periods, "make_up_day_periods")

    @field_validator("extra_closures", "extra_working_days")
    @classmethod
    def _sorted_dates(cls, days: list[date]) -> list[date]:
        return sorted(set(days))

    @model_validator(mode="after")
    def _usable(self) -> CalendarSpec:
        if not any(self.weekly.values()):
            raise ValueError("weekly: at least one weekday needs a working period")
        both = set(self.extra_closures) & set(self.extra_working_days)
        if both:
            listed = ", ".join(str(d) for d in sorted(both))
            raise ValueError(f"extra_closures and extra_working_days both list {listed}")
        return self


def _every(days: tuple[Weekday, ...]) -> dict[Weekday, list[WorkingPeriod]]:
    return {day: [WorkingPeriod(start=time(8), end=time(18))] for day in days}


OFFICE = CalendarSpec(weekly=_every(_WEEKDAYS[:5]), national_holidays="CN")
"""Customer-service office: Mon–Fri 08:00–18:00 Asia/Shanghai, national holidays and 调休 days."""

PRODUCTION_UNIT = CalendarSpec(weekly=_every(_WEEKDAYS), national_holidays=None)
"""Production unit (揽投站, depot): "7 × 10", every day 08:00–18:00, national holidays ignored."""


class WorkingHoursRule(BaseModel):
    """Due after a number of working hours on the acting unit's calendar (direct dispatch: 2 h)."""

    model_config = _POLICY

    kind: Literal["working_hours"] = "working_hours"
    hours: float = Field(gt=0, allow_inf_nan=False)


class CheckWindowRule(BaseModel):
    """Due at the end of the check window after the one the dispatch arrived in (seed 000).

    Units look at new dispatches at the `windows` times of each working day. Arrival before the
    first check → due at the second check that day; arrival in [check i, check i+1) → due at check
    i+2; arrival in the last window or after the last check, or on a day off → due at the second
    check of the next working day. With the default 8, 10, …, 18: 07:00 → 10:00, 09:59 → 12:00,
    10:00 → 14:00, 16:30 → 10:00 the next working day.
    """

    model_config = _POLICY

    kind: Literal["check_windows"] = "check_windows"
    windows: list[WallTime] = Field(default_factory=lambda: [time(h) for h in range(8, 19, 2)])

    @field_validator("windows")
    @classmethod
    def _increasing(cls, windows: list[time]) -> list[time]:
        if len(windows) < 2:
            raise ValueError("at least two check times are needed (a window has two ends)")
        if any(later <= earlier for earlier, later in zip(windows, windows[1:])):
            raise ValueError("check times must be strictly increasing within the day")
        return windows


class WorkingDaysRule(BaseModel):
    """Due at the close of the N-th working day after the day it starts (the starting day does not
    count: 5 working days from Monday 10:00 on the office calendar end on the next Monday at
    18:00). `at="opening"` gives the start of that day instead: a reminder "one working day before
    the end" is the opening of the last day (N-th day's opening = (N-1)-th day's close in working time).
    """

    model_config = _POLICY

    kind: Literal["working_days"] = "working_days"
    days: int = Field(gt=0)
    at: Literal["close", "opening"] = "close"


class ElapsedHoursRule(BaseModel):
    """Due a number of elapsed (clock) hours after the start; if that instant falls outside the
    calendar's working time, due at its next opening (the satisfaction call-back "within 24 hours",
    DOMAIN §11: Monday 19:00 + 24 h is Tuesday 19:00, after an 8–18 day's close → Wednesday 08:00).
    An instant exactly at a period's end is in time, as for working hours."""

    model_config = _POLICY

    kind: Literal["elapsed_hours"] = "elapsed_hours"
    hours: float = Field(gt=0, allow_inf_nan=False)


DeadlineRule = Annotated[WorkingHoursRule | CheckWindowRule | WorkingDaysRule | ElapsedHoursRule,
                         Field(discriminator="kind")]
"""How a dispatch kind's due instant is computed; the policy chooses per dispatch kind."""


# -------------------------------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True, slots=True)
class _Year:
    """One local calendar year's working intervals in UTC microseconds, merged and in order."""

    starts: list[int]
    ends: list[int]
    done_before: list[int]  # working time of the year before interval i
    done_after: list[int]  # … up to the end of interval i
    total: int


# Year tables shared by all calendars with the same version (spec + holidays data); an activity may
# build a WorkingCalendar per call and still find the tables ready.
_YEARS: dict[tuple[str, int], _Year] = {}
_YEARS_KEPT = 512


def _to_us(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got naive {instant!r}")
    return (instant - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class WorkingCalendar:
    """Working-time arithmetic on one `CalendarSpec`. Immutable and cheap to construct."""

    __slots__ = ("_spec", "_zone", "_version", "_weekly", "_make_up", "_closures", "_extra_working")

    def __init__(self, spec: CalendarSpec) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_spec", spec)
        setattr_(self, "_zone", ZoneInfo(spec.time_zone))
        weekly = tuple(tuple(spec.weekly.get(day, ())) for day in _WEEKDAYS)
        setattr_(self, "_weekly", weekly)
        make_up = spec.make_up_day_periods
        if make_up is None:
            make_up = next(periods for periods in weekly if periods)
        setattr_(self, "_make_up", tuple(make_up))
        setattr_(self, "_closures", frozenset(spec.extra_closures))
        setattr_(self, "_extra_working", frozenset(spec.extra_working_days))
        canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{_RULES_REVISION}|{canonical}".encode()).hexdigest()
        setattr_(self, "_version", f"{digest[:12]}@holidays-{holidays.__version__}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WorkingCalendar is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("WorkingCalendar is immutable")

    def __repr__(self) -> str:
        return f"WorkingCalendar({self._spec.time_zone}, version={self._version!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingCalendar) and other._version == self._version

    def __hash__(self) -> int:
        return hash(self._version)

    @property
    def spec(self) -> CalendarSpec:
        return self._spec

    @property
    def version(self) -> str:
        """Fingerprint of the spec and the holidays data, e.g. 'a1b2c3d4e5f6@holidays-0.109'.

        Recorded with a deadline so a later reader knows which calendar data produced it.
        """
        return self._version

    # -- days --------------------------------------------------------------------------------------

    def working_periods(self, day: date) -> tuple[WorkingPeriod, ...]:
        """The local working periods of `day` after holidays, 调休 and organisation overrides."""
        if day in self._closures:
            return ()
        own = self._weekly[day.weekday()]
        if day in self._extra_working:
            return own or self._make_up
        if self._spec.national_holidays is not None:
            closed, make_up = _national_days(self._spec.national_holidays, day.year)
            if day in closed:
                return ()
            if day in make_up:
                return own or self._make_up
        return own

    def is_working_day(self, day: date) -> bool:
        return bool(self.working_periods(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        for _ in range(_LONGEST_CLOSURE_DAYS):
            day += _ONE_DAY
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {_LONGEST_CLOSURE_DAYS} days after {day}")

    # -- working time ------------------------------------------------------------------------------

    def deadline(self, start: datetime, working: timedelta) -> datetime:
        """The instant (UTC) at which `working` working time has elapsed, counting from `start`.

        A start outside working time counts from the next period's start (07:00 → from 08:00).
        Work that ends exactly at a period's end returns that end (office Friday 17:00 + 1 h →
        Friday 18:00, not Monday 08:00). Zero working time returns `start` itself, in UTC.
        """
        start_us = _to_us(start)
        need = working // _US
        if need < 0:
            raise ValueError(f"working time must not be negative, got {working}")
        if need == 0:
            return _from_us(start_us)
        year, done = self._position(start_us, start)
        target = done + need
        table = self._year(year)
        # Whole years are skipped by their totals; within a year it is a binary search.
        while target > table.total:
            target -= table.total
            year += 1
            table = self._year(year)
        j = bisect_left(table.done_after, target)
        return _from_us(table.starts[j] + target - table.done_before[j])

    def resumed_due(self, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """A clock paused at `paused_at` and resumed at `resumed_at` owes the working time it had
        left, from the resumption: paused Friday 17:00 with 3 working hours left (Friday 17–18,
        Monday 8–10 on the office calendar), resumed Monday 10:00 → due Monday 13:00."""
        return self.deadline(resumed_at, max(self.working_time_between(paused_at, due), timedelta(0)))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b`; negative when `b` is before `a` (overdue by that much).

        Consistent with `deadline`: working_time_between(s, deadline(s, h)) == h.
        """
        a_us, b_us = _to_us(a), _to_us(b)
        if b_us < a_us:
            return -self.working_time_between(b, a)
        year_a, done_a = self._position(a_us, a)
        year_b, done_b = self._position(b_us, b)
        total = done_b - done_a + sum(self._year(y).total for y in range(year_a, year_b))
        return timedelta(microseconds=total)

    def evaluate(self, rule: WorkingHoursRule | CheckWindowRule | WorkingDaysRule | ElapsedHoursRule,
                 start: datetime) -> datetime:
        """The due instant (UTC) of something that arrived at `start` under `rule`."""
        if isinstance(rule, WorkingHoursRule):
            return self.deadline(start, timedelta(hours=rule.hours))
        if isinstance(rule, ElapsedHoursRule):
            return self._open_at_or_after(start + timedelta(hours=rule.hours))
        if isinstance(rule, CheckWindowRule):
            return self._check_window_due(rule.windows, start)
        if isinstance(rule, WorkingDaysRule):
            return self._working_days_due(rule, start)
        raise TypeError(f"not a deadline rule: {rule!r}")

    def open_at_or_after(self, instant: datetime) -> datetime:
        """`instant` itself within working time, else the next opening: when a notice held by quiet
        hours goes out (issue #16)."""
        return self._open_at_or_after(instant)

    def _open_at_or_after(self, instant: datetime) -> datetime:
        """`instant` itself if it lies in working time (a period's end included), else the next opening."""
        local = instant.astimezone(self._zone)
        at_us = _to_us(instant)
        for period in self.working_periods(local.date()):
            if self._local_to_us(local.date(), period.start) <= at_us <= self._local_to_us(local.date(), period.end):
                return _from_us(at_us)
        # Outside working time, one microsecond of work starts at the next opening.
        return self.deadline(instant, _US) - _US

    def _working_days_due(self, rule: WorkingDaysRule, start: datetime) -> datetime:
        _to_us(start)  # rejects a naive datetime
        day = start.astimezone(self._zone).date()
        for _ in range(rule.days):
            day = self.next_working_day(day)
        periods = self.working_periods(day)
        return _from_us(self._local_to_us(day, periods[-1].end if rule.at == "close" else periods[0].start))

    def _check_window_due(self, windows: list[time], arrived: datetime) -> datetime:
        _to_us(arrived)  # rejects a naive datetime
        local = arrived.astimezone(self._zone)
        day, wall = local.date(), local.time()
        if self.is_working_day(day):
            if wall < windows[0]:  # overnight arrival: seen at the first check, due at the second
                return _from_us(self._local_to_us(day, windows[1]))
            window = bisect_right(windows, wall) - 1  # [windows[i], windows[i+1]) it arrived in
            if window + 2 < len(windows):
                return _from_us(self._local_to_us(day, windows[window + 2]))
        return _from_us(self._local_to_us(self.next_working_day(day), windows[1]))

    # -- tables ------------------------------------------------------------------------------------

    def _position(self, us: int, instant: datetime) -> tuple[int, int]:
        """(local year, working µs of that year elapsed before the instant)."""
        year = instant.astimezone(self._zone).year
        table = self._year(year)
        i = bisect_right(table.starts, us) - 1
        if i < 0:
            return year, 0
        return year, table.done_before[i] + min(us, table.ends[i]) - table.starts[i]

    def _year(self, year: int) -> _Year:
        key = (self._version, year)
        table = _YEARS.get(key)
        if table is None:
            if len(_YEARS) >= _YEARS_KEPT:
                _YEARS.clear()
            table = _YEARS[key] = self._build_year(year)
        return table

    def _build_year(self, year: int) -> _Year:
        starts: list[int] = []
        ends: list[int] = []
        day = date(year, 1, 1)
        while day.year == year:
            for period in self.working_periods(day):
                start = self._local_to_us(day, period.start)
                # A period ending 23:59:59.999999 ends at midnight: a round-the-clock calendar is exact.
                end = self._local_to_us(day + _ONE_DAY, time(0)) if period.end == time.max else self._local_to_us(day, period.end)
                if end <= start:  # wholly inside a spring-forward gap
                    continue
                if ends and start <= ends[-1]:  # touching periods (12:00–14:00, 14:00–18:00) merge
                    ends[-1] = max(ends[-1], end)
                else:
                    starts.append(start)
                    ends.append(end)
            day += _ONE_DAY
        done_before: list[int] = []
        done_after: list[int] = []
        done = 0
        for start, end in zip(starts, ends):
            done_before.append(done)
            done += end - start
            done_after.append(done)
        return _Year(
            starts=starts,
            ends=ends,
            done_before=done_before,
            done_after=done_after,
            total=done,
        )

    def _local_to_us(self, day: date, wall: time) -> int:
        """A local wall-clock time on `day` as UTC µs (see the module docstring for DST)."""
        local = datetime.combine(day, wall, tzinfo=self._zone)
        first = local.utcoffset()
        second = local.replace(fold=1).utcoffset()
        assert first is not None and second is not None
        wall_us = (datetime.combine(day, wall) - _EPOCH_NAIVE) // _US
        if second > first:  # skipped wall time: the instant the clocks jump
            return self._jump_us(wall_us - second // _US, wall_us - first // _US, second)
        return wall_us - first // _US  # fold=0: a repeated wall time's first occurrence

    def _jump_us(self, before_us: int, after_us: int, new_offset: timedelta) -> int:
        # The first instant in (before_us, after_us] whose offset is the new one: a rare binary
        # search, only for a period boundary that the clocks skip over.
        low, high = before_us, after_us
        while high - low > 1:
            middle = (low + high) // 2
            if _from_us(middle).astimezone(self._zone).utcoffset() == new_offset:
                high = middle
            else:
                low = middle
        return high
