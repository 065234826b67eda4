"""What a workflow asks the calendar activity (activities/calendar.py): when a clock falls due on a
unit's calendar, a chain of deadlines, working minutes between two instants; the activity names and
the one deadline look-up every workflow makes."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from rules.calendar import DeadlineRule
from workflows.case import Message
from workflows.clocks import ClockWarning
from workflows.options import CALENDAR_LOOKUP


class DeadlineRequest(Message):
    """Ask the calendar when a clock falls due, from `start` on `unit`'s calendar: either the
    policy's rule for a named clock (the policy at the time of asking) or an explicit rule."""

    unit: str
    start: datetime
    clock: str | None = None  # a policy clock, e.g. "first_contact"
    category: str | None = None  # customer clocks differ by category and level
    level: int | None = None
    tier: str | None = None  # the customer's tier: a VIP's clocks may be shorter (clocks.customer.by_tier)
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
    # The policy's warnings before it (issue #16): each fraction of its working time, on its calendar.
    warnings: list[ClockWarning] = []


COMPUTE_DEADLINE_ACTIVITY = "compute_deadline"


COMPUTE_DEADLINE_CHAIN_ACTIVITY = "compute_deadline_chain"


WORKING_MINUTES_ACTIVITY = "working_minutes_between"


RESUMED_DEADLINES_ACTIVITY = "resumed_deadlines"


class PausedInstant(Message):
    """An instant a paused clock owed (its due instant, a warning's or a rung's), on `unit`'s calendar."""

    unit: str
    at: datetime


class ResumedDeadlinesRequest(Message):
    """Clocks paused at `paused_at` resume at `resumed_at`: each instant is owed again after the
    working time it had left (rules/calendar.py resumed_due); then `then`, each counted from the
    one before it, the first from the first instant's new value (a dispatch's ladder)."""

    paused_at: datetime
    resumed_at: datetime
    instants: list[PausedInstant]
    then: list[FollowingDeadline] = []


NOTICE_HOLD_ACTIVITY = "notice_hold"


class NoticeHoldRequest(Message):
    """Is a notice of `kind` to a role holder of `unit`, decided at `at`, held by quiet hours (issue
    #16)? The policy says per kind, exempting urgent and level-1 cases; the unit's calendar says until when."""

    kind: str  # rules/policy.py NoticeKind: warning, escalation, overdue
    unit: str  # the unit the notice is addressed to: its working hours are its holders'
    at: datetime
    urgent: bool
    level: int | None = None
    level_above: bool = False  # addressed to the unit above `unit` (a missed customer clock's notice): its hours count


class NoticeHold(Message):
    until: datetime | None = None  # None: send now (not held, exempt, or within working hours)
    until_local: str | None = None


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


async def look_up_hold(request: NoticeHoldRequest) -> NoticeHold:
    """Until when quiet hours hold a notice: a short local activity, its answer recorded in history."""
    return await workflow.execute_local_activity(
        NOTICE_HOLD_ACTIVITY, request, result_type=NoticeHold,
        summary=f"{request.kind} notice to {request.unit}: quiet hours?", **CALENDAR_LOOKUP,
    )
