"""What a workflow asks the calendar activity (activities/calendar.py): when a clock falls due on a
unit's calendar, a chain of deadlines, working minutes between two instants; the activity names and
the one deadline look-up every workflow makes."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from rules.calendar import DeadlineRule
from workflows.case import Message
from workflows.options import CALENDAR_LOOKUP


class DeadlineRequest(Message):
    """Ask the calendar when a clock falls due, from `start` on `unit`'s calendar: either the
    policy's rule for a named clock (the policy at the time of asking) or an explicit rule."""

    unit: str
    start: datetime
    clock: str | None = None  # a policy clock, e.g. "first_contact"
    category: str | None = None  # customer clocks differ by category and level
    level: int | None = None
    rule: DeadlineRule | None = None


class FollowingDeadline(Message):
    """A deadline counted from the one before it in a chain, on `unit`'s calendar."""

    unit: str
    rule: DeadlineRule


class DeadlineChainRequest(Message):
    """A deadline and the deadlines that follow it, each counted from the one before: a dispatch's
    due instant and its escalation ladder's answer-by instants, asked for once."""

    first: DeadlineRequest
    then: list[FollowingDeadline]


class Deadline(Message):
    due: datetime  # UTC
    due_local: str  # on the unit's wall clock, for people: "2026-03-02 09:30"
    unit: str
    calendar: str
    calendar_version: str  # which calendar data produced it (recorded in history)


COMPUTE_DEADLINE_ACTIVITY = "compute_deadline"


COMPUTE_DEADLINE_CHAIN_ACTIVITY = "compute_deadline_chain"


WORKING_MINUTES_ACTIVITY = "working_minutes_between"


class WorkingTimeRequest(Message):
    unit: str
    start: datetime
    end: datetime



async def look_up_deadline(request: DeadlineRequest, label: str | None = None) -> Deadline:
    """When a clock falls due: a short local activity, its answer recorded in history (workflow
    code never computes a due instant). `label` names the clock in the Web UI's summary."""
    summary = f"due on {request.unit}'s calendar" if label is None else f"{label}: due on {request.unit}'s calendar"
    return await workflow.execute_local_activity(
        COMPUTE_DEADLINE_ACTIVITY, request, result_type=Deadline, summary=summary, **CALENDAR_LOOKUP,
    )
