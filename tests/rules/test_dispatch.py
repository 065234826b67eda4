"""Dispatch kinds and their clocks (DOMAIN §4, §5; seed 000): a direct dispatch is due in 2 working
hours, a linked dispatch at the end of the check window after the one it arrived in, a ticket in 20
working hours ("48 hours"), each on the calendar of the unit that must act. The kinds' values are the
API's and the policy's keys."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from activities.calendar import deadline_for
from rules.calendar import CheckWindowRule, WorkingHoursRule
from rules.dispatch import DispatchKind, DispatchStatus, TicketPriority
from rules.policy import load_policy
from settings import ROOT
from workflows.deadlines import DeadlineRequest

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
CN = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def test_the_kinds_are_the_policy_clocks_and_the_api_words() -> None:
    assert [k.value for k in DispatchKind] == ["direct_dispatch", "linked_dispatch", "ticket"]
    assert [p.value for p in TicketPriority] == ["normal", "urgent"]
    assert {s.value for s in DispatchStatus} == {"awaiting_review", "open", "answered", "redispatched", "cancelled"}
    # every kind names a clock the policy can time, and only kinds appear among the deadline rules
    assert set(POLICY.clocks.dispatch.deadline_rules) <= {k.value for k in DispatchKind}
    rules = {kind: POLICY.clock_rule(kind.value) for kind in DispatchKind}
    assert rules[DispatchKind.DIRECT] == WorkingHoursRule(hours=POLICY.clocks.dispatch.direct_dispatch_hours)
    assert rules[DispatchKind.TICKET] == WorkingHoursRule(hours=POLICY.clocks.dispatch.ticket_hours)
    assert isinstance(rules[DispatchKind.LINKED], CheckWindowRule)  # seed 000's schedule, per the policy
    assert (POLICY.clocks.dispatch.direct_dispatch_hours, POLICY.clocks.dispatch.ticket_hours) == (2, 20)


@pytest.mark.parametrize(
    ("kind", "unit", "raised", "due", "why"),
    [
        (DispatchKind.DIRECT, "gd-gz-tianhe", "2026-03-02 10:00", "2026-03-02 12:00", "2 working hours inside the day"),
        (DispatchKind.DIRECT, "gd-gz-tianhe", "2026-03-07 17:30", "2026-03-08 09:30",
         "a station works 7 × 10: 30 min Sat + 1 h 30 Sun → Sun 09:30"),
        (DispatchKind.LINKED, "gd-gz-tianhe", "2026-03-02 10:30", "2026-03-02 14:00", "arrived 10–12 → due 14:00"),
        (DispatchKind.LINKED, "gd-gz-tianhe", "2026-03-02 16:30", "2026-03-03 10:00", "arrived 16–18 → 10:00 next day"),
        (DispatchKind.TICKET, "gd", "2026-03-06 16:00", "2026-03-10 16:00",
         "20 working hours on the office calendar: 2 h Fri + 10 h Mon + 8 h Tue → Tue 16:00"),
    ],
)
def test_each_kind_is_due_on_the_acting_units_calendar(kind: DispatchKind, unit: str, raised: str, due: str, why: str) -> None:
    deadline = deadline_for(POLICY, DeadlineRequest(unit=unit, start=at(raised), clock=kind.value))
    assert deadline.due == at(due), why
