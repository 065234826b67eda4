"""Clock pauses (rules/pauses.py): what a resumed clock owes, which reasons and when a dispatch may pause."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from rules.calendar import OFFICE, WorkingCalendar
from rules.pauses import PauseRule, dispatch_pause_refusal, length_text, reason_refusal
from rules.policy import PolicyError, parse_policy
from settings import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)  # 2026-03-06 is a Friday, 03-09 a Monday


def test_a_clock_paused_friday_1700_and_resumed_monday_1000_is_due_monday_1300() -> None:
    # Due Monday 10:00; paused Friday 17:00 with 3 working hours left (Friday 17–18, Monday 8–10):
    # resumed Monday 10:00 → Monday 13:00.
    office = WorkingCalendar(OFFICE)
    assert office.resumed_due(at(9, 10), at(6, 17), at(9, 10)) == at(9, 13)


def test_a_pause_outside_working_hours_owes_the_whole_working_time_left() -> None:
    # Paused Saturday noon with Monday 8–9 left (due Monday 09:00); resumed Monday 08:30 → 09:30.
    assert WorkingCalendar(OFFICE).resumed_due(at(9, 9), at(7, 12), at(9, 8, 30)) == at(9, 9, 30)


def test_only_the_policys_reasons_pause_a_clock() -> None:
    allowed = {"waiting_for_customer": PauseRule(max_working_hours=16)}
    assert reason_refusal(allowed, "waiting_for_customer") is None
    assert reason_refusal(allowed, "lunch") == "not a reason a pause is allowed for; one of waiting_for_customer"
    assert reason_refusal({}, "waiting_for_customer") is not None


def test_a_dispatch_pauses_only_while_open_and_not_yet_due() -> None:
    assert dispatch_pause_refusal("open", at(9, 11), at(9, 10), 0, paused=False) is None
    assert "overdue" in (dispatch_pause_refusal("open", at(9, 11), at(9, 11), 0, paused=False) or "")
    assert "overdue" in (dispatch_pause_refusal("open", at(9, 11), at(9, 10), 1, paused=False) or "")
    assert "already paused" in (dispatch_pause_refusal("open", at(9, 11), at(9, 10), 0, paused=True) or "")
    assert "answered" in (dispatch_pause_refusal("answered", at(9, 11), at(9, 10), 0, paused=False) or "")


def test_a_pause_length_reads_in_hours_and_minutes() -> None:
    assert length_text(65 * 60) == "65 h 00 min" and length_text(95) == "1 h 35 min"


def test_a_bad_pause_maximum_or_reason_names_its_key() -> None:
    data = yaml.safe_load((ROOT / "policies" / "express_carrier.yaml").read_text(encoding="utf-8"))
    data["pauses"]["complaint"]["waiting_for_customer"]["max_working_hours"] = 0
    with pytest.raises(PolicyError, match=r"pauses\.complaint\.waiting_for_customer\.max_working_hours"):
        parse_policy(data)
    data["pauses"]["complaint"] = {"Waiting For Customer": {"max_working_hours": 8}}
    with pytest.raises(PolicyError, match=r"pauses\.complaint"):
        parse_policy(data)
