"""Contact kinds' rules: their steps, their clocks in the policy, and the round-the-clock calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from activities.calendar import deadline_for
from rules.calendar import WorkingCalendar, WorkingHoursRule
from rules.contact import ContactAction, ContactKind, ContactStatus, InvalidContactStep, next_status
from rules.policy import PolicyError, load_policy, parse_policy
from settings import ROOT
from workflows.deadlines import DeadlineRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY_FILE = ROOT / "policies" / "express_carrier.yaml"
POLICY = load_policy(POLICY_FILE)


def test_each_contact_clock_comes_from_the_policy() -> None:
    assert POLICY.clock_rule("consultation_handover") == WorkingHoursRule(hours=0.5)
    assert POLICY.clock_rule("consultation_callback") == WorkingHoursRule(hours=3)
    assert POLICY.clock_rule("consultation_department_answer") == WorkingHoursRule(hours=2)
    assert POLICY.clock_rule("rescue_handover") == WorkingHoursRule(hours=10 / 60)
    assert POLICY.clock_rule("new_failure_mode_handover") == WorkingHoursRule(hours=1)


@pytest.mark.parametrize(("start", "clock", "due"), [
    (datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI), "rescue_handover", datetime(2026, 3, 2, 23, 10, tzinfo=SHANGHAI)),
    (datetime(2026, 3, 2, 23, 55, tzinfo=SHANGHAI), "rescue_handover", datetime(2026, 3, 3, 0, 5, tzinfo=SHANGHAI)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI), "new_failure_mode_handover", datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)),
])
def test_rescue_and_new_failure_clocks_run_round_the_clock_to_the_microsecond(start: datetime, clock: str, due: datetime) -> None:
    deadline = deadline_for(POLICY, DeadlineRequest(unit="call-centre", start=start, clock=clock))
    assert deadline.due == due and deadline.calendar == "round_the_clock"


def test_a_consultation_clock_runs_on_the_acting_units_own_calendar() -> None:
    friday_1730 = datetime(2026, 3, 6, 17, 30, tzinfo=SHANGHAI)  # an office's plain Friday
    deadline = deadline_for(POLICY, DeadlineRequest(unit="gd", start=friday_1730, clock="consultation_department_answer"))
    assert deadline.due == datetime(2026, 3, 9, 9, 30, tzinfo=SHANGHAI) and deadline.calendar == "office"


def test_a_round_the_clock_week_has_168_working_hours() -> None:
    calendar = WorkingCalendar(POLICY.calendars["round_the_clock"])
    monday = datetime(2026, 3, 2, tzinfo=SHANGHAI)
    assert calendar.working_time_between(monday, monday + timedelta(days=7)) == timedelta(hours=168)


def test_a_contact_calendar_must_exist_and_name_a_contact_clock() -> None:
    data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    data["clocks"]["contact_kinds"]["calendars"] = {"rescue_handover": "night_shift"}
    with pytest.raises(PolicyError, match=r"clocks.contact_kinds.calendars.rescue_handover: unknown calendar 'night_shift'"):
        parse_policy(data)
    data["clocks"]["contact_kinds"]["calendars"] = {"first_contact": "office"}
    with pytest.raises(PolicyError, match=r"unknown contact clocks \['first_contact'\]"):
        parse_policy(data)


def test_the_steps_of_each_kind() -> None:
    K, S, A = ContactKind, ContactStatus, ContactAction
    assert next_status(K.CONSULTATION, S.RECEIVED, A.HAND_OVER) is S.HANDED_OVER
    assert next_status(K.CONSULTATION, S.ANSWERED, A.CALL_BACK) is S.CLOSED
    assert next_status(K.RESCUE_REQUEST, S.RECEIVED, A.HAND_OVER) is S.CLOSED
    with pytest.raises(InvalidContactStep, match="allowed from: answered"):
        next_status(K.CONSULTATION, S.HANDED_OVER, A.CALL_BACK)
    with pytest.raises(InvalidContactStep, match="a new failure mode has no such step"):
        next_status(K.NEW_FAILURE_MODE, S.RECEIVED, A.ANSWER_AT_ONCE)
