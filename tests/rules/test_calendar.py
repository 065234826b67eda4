"""Working-time calendars (DOMAIN §5): concrete cases, all in Asia/Shanghai unless stated."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from rules.calendar import (
    OFFICE,
    PRODUCTION_UNIT,
    CalendarSpec,
    CheckWindowRule,
    DeadlineRule,
    WorkingCalendar,
    WorkingHoursRule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       zone: ZoneInfo = SHANGHAI) -> datetime:  # fmt: skip
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def office(**changes: object) -> CalendarSpec:
    """The office calendar with policy overrides, validated as the policy file would be."""
    return CalendarSpec.model_validate({**OFFICE.model_dump(), **changes})


def every_day(*periods: tuple[str, str], zone: str = "Asia/Shanghai") -> CalendarSpec:
    """A 7-day calendar without national holidays, like a production unit."""
    return CalendarSpec.model_validate(
        {
            "time_zone": zone,
            "weekly": {day: [{"start": s, "end": e} for s, e in periods] for day in
                       ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},  # fmt: skip
            "national_holidays": None,
        }
    )


TYPHOON_DAY = date(2026, 9, 16)  # a Wednesday
BERLIN_7X10 = every_day(("08:00", "18:00"), zone="Europe/Berlin")
BERLIN_NIGHT = every_day(("01:00", "04:00"), zone="Europe/Berlin")  # spans the 02:00 clock change
BERLIN_GAP = every_day(("02:30", "05:00"), zone="Europe/Berlin")  # starts inside the skipped hour

H = timedelta(hours=1)

DEADLINES = [
    # The office week
    pytest.param(OFFICE, at(2026, 3, 6, 17), 2 * H, at(2026, 3, 9, 9),
                 id="office Friday 17:00 + 2 h resumes Monday 09:00"),
    pytest.param(OFFICE, at(2026, 3, 6, 17), H, at(2026, 3, 6, 18),
                 id="office work ending exactly at 18:00 is due Friday 18:00, not Monday 08:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 7), H, at(2026, 3, 4, 9),
                 id="a start at 07:00 counts from 08:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 18), H, at(2026, 3, 5, 9),
                 id="a start at 18:00 counts from the next morning"),
    pytest.param(OFFICE, at(2026, 3, 7, 10), H, at(2026, 3, 9, 9),
                 id="office start on a Saturday counts from Monday 08:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 8), timedelta(hours=1, minutes=30, seconds=15),
                 at(2026, 3, 4, 9, 30, 15), id="exact to the second"),
    pytest.param(OFFICE, datetime(2026, 3, 4, 1, tzinfo=UTC), H, at(2026, 3, 4, 10),
                 id="a start in UTC is read in the calendar's zone (01:00 UTC is 09:00 Shanghai)"),
    # National holidays and 调休 make-up working days
    pytest.param(OFFICE, at(2026, 1, 1, 9), H, at(2026, 1, 4, 9),
                 id="New Year 1-2 Jan 2026 closed, Sunday 4 Jan is a make-up working day"),
    pytest.param(OFFICE, at(2025, 12, 31, 17), 2 * H, at(2026, 1, 4, 9),
                 id="from the last working hour of 2025 into the Sunday make-up day"),
    pytest.param(OFFICE, at(2026, 2, 13, 17), 2 * H, at(2026, 2, 14, 9),
                 id="Saturday 14 Feb 2026 is a make-up working day"),
    pytest.param(OFFICE, at(2026, 2, 14, 17), 2 * H, at(2026, 2, 24, 9),
                 id="Sunday 15 Feb and Spring Festival 16-23 Feb 2026 closed"),
    pytest.param(OFFICE, at(2026, 9, 18, 17), 2 * H, at(2026, 9, 20, 9),
                 id="Sunday 20 Sep 2026 is a make-up working day"),
    pytest.param(OFFICE, at(2026, 9, 30, 17), 2 * H, at(2026, 10, 8, 9),
                 id="National Day week 1-7 Oct 2026 closed"),
    pytest.param(OFFICE, at(2026, 10, 9, 17), 2 * H, at(2026, 10, 10, 9),
                 id="Saturday 10 Oct 2026 is a make-up working day"),
    # Production units: 7 x 10
    pytest.param(PRODUCTION_UNIT, at(2026, 3, 7, 17), 2 * H, at(2026, 3, 8, 9),
                 id="production unit works Saturday and Sunday"),
    pytest.param(PRODUCTION_UNIT, at(2026, 10, 1, 9), H, at(2026, 10, 1, 10),
                 id="production unit ignores national holidays"),
    pytest.param(PRODUCTION_UNIT, at(2026, 3, 6, 8), 1000 * H, at(2026, 6, 13, 18),
                 id="production unit 1000 h is exactly 100 days of 10 h"),
    # Organisation overrides
    pytest.param(office(extra_closures=[TYPHOON_DAY]), at(2026, 9, 15, 17), 2 * H,
                 at(2026, 9, 17, 9), id="an extra closure (typhoon day) is not worked"),
    pytest.param(office(extra_working_days=[date(2026, 3, 7)]), at(2026, 3, 6, 17), 2 * H,
                 at(2026, 3, 7, 9), id="an extra working Saturday works the weekday periods"),
    pytest.param(office(make_up_day_periods=[{"start": "09:00", "end": "12:00"}]),
                 at(2026, 1, 1, 9), 4 * H, at(2026, 1, 5, 9),
                 id="make_up_day_periods set a make-up day's hours (3 h on 4 Jan, then Monday)"),
    # Ticket clocks: 48 hours = 20 working hours
    pytest.param(OFFICE, at(2026, 3, 5, 14), 20 * H, at(2026, 3, 9, 14),
                 id="20 working hours across a weekend"),
    pytest.param(OFFICE, at(2026, 12, 31, 9), 20 * H, at(2027, 1, 5, 9),
                 id="20 working hours across the year end and New Year 2027"),
    pytest.param(OFFICE, at(2026, 3, 6, 17), 1000 * H, at(2026, 7, 30, 17),
                 id="1000 working hours on the office calendar"),
    # DST: periods are local wall time, converted per day
    pytest.param(BERLIN_7X10, at(2026, 3, 28, 17, zone=BERLIN), 2 * H,
                 at(2026, 3, 29, 9, zone=BERLIN),
                 id="Berlin: the spring-forward Sunday still starts at 08:00 local"),
    pytest.param(BERLIN_7X10, at(2026, 10, 24, 17, zone=BERLIN), 2 * H,
                 at(2026, 10, 25, 9, zone=BERLIN),
                 id="Berlin: the fall-back Sunday still starts at 08:00 local"),
    pytest.param(BERLIN_NIGHT, at(2026, 3, 29, 1, zone=BERLIN), 2 * H,
                 at(2026, 3, 29, 4, zone=BERLIN),
                 id="Berlin: 01:00-04:00 lasts 2 h on the spring-forward night"),
    pytest.param(BERLIN_NIGHT, at(2026, 10, 25, 1, zone=BERLIN), 4 * H,
                 datetime(2026, 10, 25, 3, tzinfo=UTC),
                 id="Berlin: 01:00-04:00 lasts 4 h on the fall-back night"),
    pytest.param(BERLIN_GAP, at(2026, 3, 29, 0, zone=BERLIN), H,
                 at(2026, 3, 29, 4, zone=BERLIN),
                 id="Berlin: a period from skipped 02:30 starts when the clocks jump to 03:00"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "start", "working", "due"), DEADLINES)
def test_deadline(spec: CalendarSpec, start: datetime, working: timedelta, due: datetime) -> None:
    calendar = WorkingCalendar(spec)

    got = calendar.deadline(start, working)

    assert got == due
    assert got.tzinfo is UTC
    assert calendar.working_time_between(start, got) == working


def test_zero_working_time_is_the_start_itself() -> None:
    start = at(2026, 3, 7, 3, 17, 5)  # a Saturday night: not working time, still returned as is
    assert WorkingCalendar(OFFICE).deadline(start, timedelta(0)) == start


def test_working_time_between_is_signed() -> None:
    calendar = WorkingCalendar(OFFICE)
    friday, monday = at(2026, 3, 6, 17), at(2026, 3, 9, 9)

    assert calendar.working_time_between(friday, monday) == 2 * H
    assert calendar.working_time_between(monday, friday) == -2 * H  # overdue by 2 working hours
    assert calendar.working_time_between(friday, friday) == timedelta(0)


def test_working_time_between_across_the_year_end() -> None:
    calendar = WorkingCalendar(OFFICE)
    assert calendar.working_time_between(at(2025, 12, 31, 8), at(2026, 1, 5, 8)) == 20 * H


def test_berlin_weekend_over_spring_forward_has_exactly_20_working_hours() -> None:
    calendar = WorkingCalendar(BERLIN_7X10)
    saturday, monday = at(2026, 3, 28, 8, zone=BERLIN), at(2026, 3, 30, 8, zone=BERLIN)
    assert calendar.working_time_between(saturday, monday) == 20 * H


@pytest.mark.parametrize(
    ("spec", "day", "working"),
    [
        pytest.param(OFFICE, date(2026, 1, 4), True, id="Sunday 4 Jan 2026 is a make-up day"),
        pytest.param(OFFICE, date(2026, 10, 10), True, id="Saturday 10 Oct 2026 is a make-up day"),
        pytest.param(OFFICE, date(2026, 1, 2), False, id="Friday 2 Jan 2026 is a day off"),
        *[
            pytest.param(OFFICE, date(2026, 10, d), False, id=f"National Day week: {d} Oct closed")
            for d in range(1, 8)
        ],
        *[
            pytest.param(OFFICE, date(2026, 2, d), False, id=f"Spring Festival: {d} Feb closed")
            for d in range(16, 24)
        ],
        pytest.param(OFFICE, date(2026, 3, 7), False, id="an ordinary Saturday is off"),
        pytest.param(PRODUCTION_UNIT, date(2026, 10, 1), True, id="production unit on 1 Oct"),
        pytest.param(office(extra_closures=[TYPHOON_DAY]), TYPHOON_DAY, False,
                     id="typhoon day closed"),
    ],
)  # fmt: skip
def test_working_days(spec: CalendarSpec, day: date, working: bool) -> None:
    assert WorkingCalendar(spec).is_working_day(day) is working


WINDOWS = CheckWindowRule()

CHECK_WINDOWS = [
    pytest.param(OFFICE, at(2026, 3, 4, 7), at(2026, 3, 4, 10),
                 id="arrival 07:00 is due 10:00 the same day"),
    pytest.param(OFFICE, at(2026, 3, 4, 8), at(2026, 3, 4, 12),
                 id="arrival exactly 08:00 is in the 8-10 window: due 12:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 9, 59), at(2026, 3, 4, 12),
                 id="arrival 09:59 is due 12:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 10), at(2026, 3, 4, 14),
                 id="arrival exactly 10:00 is in the 10-12 window: due 14:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 13), at(2026, 3, 4, 16), id="arrival 13:00 is due 16:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 15, 59), at(2026, 3, 4, 18),
                 id="arrival 15:59 is due 18:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 16), at(2026, 3, 5, 10),
                 id="arrival exactly 16:00 is due 10:00 the next working day"),
    pytest.param(OFFICE, at(2026, 3, 6, 16, 30), at(2026, 3, 9, 10),
                 id="arrival Friday 16:30 is due Monday 10:00"),
    pytest.param(OFFICE, at(2026, 3, 4, 22), at(2026, 3, 5, 10),
                 id="arrival in the evening is due 10:00 the next working day"),
    pytest.param(OFFICE, at(2026, 3, 7, 11), at(2026, 3, 9, 10),
                 id="arrival on an office Saturday is due Monday 10:00"),
    pytest.param(OFFICE, at(2026, 10, 3, 11), at(2026, 10, 8, 10),
                 id="arrival during National Day week is due 10:00 on 8 Oct"),
    pytest.param(OFFICE, at(2026, 10, 9, 16, 30), at(2026, 10, 10, 10),
                 id="arrival Friday 16:30 before the make-up Saturday is due Saturday 10:00"),
    pytest.param(PRODUCTION_UNIT, at(2026, 3, 7, 11), at(2026, 3, 7, 14),
                 id="production unit: arrival Saturday 11:00 is due 14:00"),
    pytest.param(PRODUCTION_UNIT, at(2026, 3, 7, 17), at(2026, 3, 8, 10),
                 id="production unit: arrival Saturday 17:00 is due Sunday 10:00"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "arrived", "due"), CHECK_WINDOWS)
def test_check_window_schedule(spec: CalendarSpec, arrived: datetime, due: datetime) -> None:
    assert WorkingCalendar(spec).evaluate(WINDOWS, arrived) == due


def test_check_windows_can_be_chosen_by_the_organisation() -> None:
    rule = CheckWindowRule(windows=[time(9), time(13), time(17)])  # windows 9-13 and 13-17
    calendar = WorkingCalendar(OFFICE)
    assert calendar.evaluate(rule, at(2026, 3, 4, 8)) == at(2026, 3, 4, 13)
    assert calendar.evaluate(rule, at(2026, 3, 4, 10)) == at(2026, 3, 4, 17)
    assert calendar.evaluate(rule, at(2026, 3, 4, 14)) == at(2026, 3, 5, 13)


def test_working_hours_rule_is_plain_working_time() -> None:
    rule = WorkingHoursRule(hours=4)  # linked dispatch 关联调度
    assert WorkingCalendar(PRODUCTION_UNIT).evaluate(rule, at(2026, 3, 7, 16)) == at(
        2026, 3, 8, 10
    )


def test_deadline_rule_is_read_from_policy_by_its_kind() -> None:
    adapter = TypeAdapter(DeadlineRule)
    two_hours = {"kind": "working_hours", "hours": 2}
    assert adapter.validate_python(two_hours) == WorkingHoursRule(hours=2)
    assert adapter.validate_python({"kind": "check_windows"}) == CheckWindowRule()
    with pytest.raises(ValidationError, match="kind"):
        adapter.validate_python({"kind": "whenever", "hours": 2})


def test_spec_reads_the_policy_file_shape() -> None:
    spec = CalendarSpec.model_validate(
        {
            "time_zone": "Asia/Shanghai",
            "weekly": {
                day: [{"start": "08:00", "end": "18:00"}]
                for day in ("mon", "tue", "wed", "thu", "fri")
            },
            "national_holidays": "CN",
        }
    )
    assert WorkingCalendar(spec).version == WorkingCalendar(OFFICE).version


def test_version_is_a_stable_fingerprint_of_the_calendar() -> None:
    reordered = CalendarSpec.model_validate(
        {**OFFICE.model_dump(), "extra_closures": [date(2026, 9, 17), TYPHOON_DAY]}
    )
    same = office(extra_closures=[TYPHOON_DAY, date(2026, 9, 17)])

    assert WorkingCalendar(OFFICE).version == WorkingCalendar(OFFICE).version
    assert WorkingCalendar(reordered).version == WorkingCalendar(same).version
    assert WorkingCalendar(OFFICE).version != WorkingCalendar(PRODUCTION_UNIT).version
    assert WorkingCalendar(same).version != WorkingCalendar(OFFICE).version
    assert "holidays-" in WorkingCalendar(OFFICE).version


def test_calendar_is_immutable() -> None:
    calendar = WorkingCalendar(OFFICE)
    with pytest.raises(AttributeError):
        calendar._spec = PRODUCTION_UNIT  # type: ignore[misc]
    with pytest.raises(ValidationError):
        OFFICE.time_zone = "UTC"  # type: ignore[misc]


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        WorkingCalendar(OFFICE).deadline(datetime(2026, 3, 4, 9), H)


def test_negative_working_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        WorkingCalendar(OFFICE).deadline(at(2026, 3, 4, 9), -H)


def _office_dict(**changes: object) -> dict[str, object]:
    return {**OFFICE.model_dump(mode="json"), **changes}


INVALID = [
    pytest.param(_office_dict(time_zone="Asia/Shangai"), "time_zone", "Asia/Shangai",
                 id="an unknown time zone"),
    pytest.param(_office_dict(weekly={"mon": [{"start": "18:00", "end": "08:00"}]}), "end",
                 "must be after start", id="a period ending before it starts"),
    pytest.param(_office_dict(time_zon="Asia/Shanghai"), "time_zon", "Extra inputs",
                 id="a misspelled key is named"),
    pytest.param(_office_dict(weekly={"mon": [{"start": "08:00", "end": "18:00", "lunch": 1}]}),
                 "lunch", "Extra inputs", id="a misspelled key inside a period is named"),
    pytest.param(_office_dict(weekly={"monday": [{"start": "08:00", "end": "18:00"}]}), "monday",
                 "mon", id="an unknown weekday"),
    pytest.param(_office_dict(weekly={"mon": [{"start": "08:00", "end": "12:00"},
                                              {"start": "11:00", "end": "18:00"}]}),
                 "weekly", "overlap", id="overlapping periods"),
    pytest.param(_office_dict(weekly={"mon": []}), "weekly", "at least one",
                 id="a calendar without working time"),
    pytest.param(_office_dict(national_holidays="XX"), "national_holidays", "XX",
                 id="an unknown national calendar"),
    pytest.param(_office_dict(extra_closures=["2026-03-07"], extra_working_days=["2026-03-07"]),
                 "extra_working_days", "2026-03-07", id="a date both closed and worked"),
    pytest.param(_office_dict(weekly={"mon": [{"start": 480, "end": "18:00"}]}), "start",
                 "quoted", id="an unquoted YAML time (8:00 read as 480)"),
    pytest.param({k: v for k, v in _office_dict().items() if k != "national_holidays"},
                 "national_holidays", "required", id="national_holidays must be stated"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "named", "says"), INVALID)
def test_invalid_spec_is_refused_by_name(data: dict[str, object], named: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CalendarSpec.model_validate(data)
    message = str(refused.value)
    assert named in message
    assert says in message


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        pytest.param({"kind": "working_hours", "hours": 0}, "greater than 0", id="zero hours"),
        pytest.param({"kind": "working_hours", "hours": 2, "hour": 2}, "hour", id="unknown key"),
        pytest.param({"kind": "check_windows", "windows": ["10:00", "08:00"]}, "increasing",
                     id="check times out of order"),
        pytest.param({"kind": "check_windows", "windows": ["10:00"]}, "at least two",
                     id="a single check time"),
    ],
)  # fmt: skip
def test_invalid_deadline_rule_is_refused(rule: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        TypeAdapter(DeadlineRule).validate_python(rule)
