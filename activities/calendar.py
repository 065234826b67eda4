"""Deadlines from the calendars: the one place a workflow gets a due instant from.

An activity, so its answer is recorded in the workflow's history: publishing next year's holidays
or editing the policy changes the deadlines computed from then on, never a running case's replay.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio import activity

from rules.calendar import WorkingCalendar
from rules.policy import Policy, PolicyFile
from workflows.deadlines import (
    COMPUTE_DEADLINE_ACTIVITY,
    COMPUTE_DEADLINE_CHAIN_ACTIVITY,
    RESUMED_DEADLINES_ACTIVITY,
    NOTICE_HOLD_ACTIVITY,
    WORKING_MINUTES_ACTIVITY,
    Deadline,
    DeadlineChainRequest,
    DeadlineRequest,
    ResumedDeadlinesRequest,
    NoticeHold,
    NoticeHoldRequest,
    WorkingTimeRequest,
)
from workflows.clocks import ClockWarning


class CalendarActivities:
    def __init__(self, policy: PolicyFile) -> None:
        self._policy = policy

    @activity.defn(name=COMPUTE_DEADLINE_ACTIVITY)
    def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        return deadline_for(self._policy.current(), request)

    @activity.defn(name=COMPUTE_DEADLINE_CHAIN_ACTIVITY)
    def compute_deadline_chain(self, request: DeadlineChainRequest) -> list[Deadline]:
        """The first deadline, then each following one from the one before, on one policy."""
        policy = self._policy.current()
        chain = [deadline_for(policy, request.first)]
        for following in request.then:
            chain.append(deadline_for(policy, DeadlineRequest(unit=following.unit, start=chain[-1].due, rule=following.rule)))
        return chain

    @activity.defn(name=RESUMED_DEADLINES_ACTIVITY)
    def resumed_deadlines(self, request: ResumedDeadlinesRequest) -> list[Deadline]:
        """Paused clocks resumed: each instant after the working time it had left, on its unit's
        calendar, then the following deadlines from the first (a dispatch's ladder moves with it)."""
        policy = self._policy.current()
        chain = []
        for paused in request.instants:
            name, spec = policy.calendar_of(paused.unit)
            calendar = WorkingCalendar(spec)
            due = calendar.resumed_due(paused.at, request.paused_at, request.resumed_at)
            chain.append(Deadline(due=due, due_local=local_text(due, spec.time_zone), unit=paused.unit,
                                  calendar=name, calendar_version=calendar.version))
        previous = chain[0].due if chain else request.resumed_at
        for following in request.then:
            chain.append(deadline_for(policy, DeadlineRequest(unit=following.unit, start=previous, rule=following.rule)))
            previous = chain[-1].due
        return chain

    @activity.defn(name=WORKING_MINUTES_ACTIVITY)
    def working_minutes_between(self, request: WorkingTimeRequest) -> int:
        """How late, in working minutes of the acting unit (a late reply's measure)."""
        _, spec = self._policy.current().calendar_of(request.unit)
        return round(WorkingCalendar(spec).working_time_between(request.start, request.end).total_seconds() / 60)


    @activity.defn(name=NOTICE_HOLD_ACTIVITY)
    def notice_hold(self, request: NoticeHoldRequest) -> NoticeHold:
        """Quiet hours (issue #16): a held kind of notice, outside the addressed unit's working
        hours, waits for its next opening."""
        policy = self._policy.current()
        if not policy.notice_held(request.kind, urgent=request.urgent, level=request.level):
            return NoticeHold()
        unit = request.unit
        if request.level_above:  # the notice goes to the unit above; the top unit's passes to the catch-all, held to its own hours
            unit = policy.org_chart.parent_of(unit) or unit
        _, spec = policy.calendar_of(unit)
        opening = WorkingCalendar(spec).open_at_or_after(request.at)
        if opening <= request.at:
            return NoticeHold()
        return NoticeHold(until=opening, until_local=local_text(opening, spec.time_zone))


def deadline_for(policy: Policy, request: DeadlineRequest) -> Deadline:
    unit = policy.acting_unit(request.unit, request.clock)  # the call-back is the call centre's
    name, spec = policy.calendar_of(unit, request.clock)
    calendar = WorkingCalendar(spec)
    rule = request.rule if request.rule is not None else policy.clock_rule(request.clock or "", request.category, request.level, request.tier)
    due = calendar.evaluate(rule, request.start)
    return Deadline(
        due=due,
        due_local=local_text(due, spec.time_zone),
        unit=unit,
        calendar=name,
        calendar_version=calendar.version,
        warnings=warnings_before(policy, calendar, spec.time_zone, request.start, due),
    )


def warnings_before(policy: Policy, calendar: WorkingCalendar, zone: str, start: datetime, due: datetime) -> list[ClockWarning]:
    """Each of the policy's warning fractions of the clock's working time, counted from its start on
    its own calendar (issue #16): 75 % of 4 working hours from 09:00 is 12:00."""
    working = calendar.working_time_between(start, due)
    if working.total_seconds() <= 0:
        return []
    found = []
    for fraction in policy.warnings.fractions:
        at = calendar.deadline(start, working * fraction)
        found.append(ClockWarning(fraction=fraction, at=at, at_local=local_text(at, zone), notify=policy.warnings.notify))
    return found


def local_text(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
