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
    WORKING_MINUTES_ACTIVITY,
    Deadline,
    DeadlineChainRequest,
    DeadlineRequest,
    WorkingTimeRequest,
)


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

    @activity.defn(name=WORKING_MINUTES_ACTIVITY)
    def working_minutes_between(self, request: WorkingTimeRequest) -> int:
        """How late, in working minutes of the acting unit (a late reply's measure)."""
        _, spec = self._policy.current().calendar_of(request.unit)
        return round(WorkingCalendar(spec).working_time_between(request.start, request.end).total_seconds() / 60)


def deadline_for(policy: Policy, request: DeadlineRequest) -> Deadline:
    unit = policy.acting_unit(request.unit, request.clock)  # the call-back is the call centre's
    name, spec = policy.calendar_of(unit, request.clock)
    calendar = WorkingCalendar(spec)
    rule = request.rule if request.rule is not None else policy.clock_rule(request.clock or "", request.category, request.level)
    due = calendar.evaluate(rule, request.start)
    return Deadline(
        due=due,
        due_local=local_text(due, spec.time_zone),
        unit=unit,
        calendar=name,
        calendar_version=calendar.version,
    )


def local_text(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
