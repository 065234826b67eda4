"""A clock pause as a workflow holds it (rules/pauses.py): the updates that pause and resume a
complaint's customer clocks or a dispatch's clock, the pause itself, and the two calendar look-ups
it needs (when it ends at the latest; the instants the paused clocks owe once resumed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow

from rules.actors import Actor
from rules.calendar import WorkingHoursRule
from rules.pauses import ReasonCode, length_text
from workflows.case import ByActor, Message, Text
from workflows.deadlines import (RESUMED_DEADLINES_ACTIVITY, Deadline, DeadlineRequest, FollowingDeadline,
                                 PausedInstant, ResumedDeadlinesRequest, look_up_deadline)
from workflows.options import CALENDAR_LOOKUP


class ClockPauseRequest(Message):
    """Pause the clocks while the case waits on the customer or a third party (a reason the policy allows)."""

    reason: ReasonCode  # policy pauses.complaint / pauses.dispatch, e.g. waiting_for_customer
    note: Text | None = None


class ClockResumeRequest(Message):
    note: Text | None = None


class PauseClocks(ByActor):
    reason: ReasonCode
    note: Text | None = None
    max_working_hours: float = Field(gt=0)  # the reason's maximum, resolved from the policy by the API


class ResumeClocks(ByActor):
    note: Text | None = None


class ClockPause(BaseModel):
    """A pause in force: who paused, why, since when, and when it ends by itself at the latest."""

    reason: str
    note: str | None = None
    paused_by: Actor
    paused_at: datetime
    max_working_hours: float
    ends_by: datetime | None = None  # None only while its look-up runs
    ends_by_local: str | None = None


async def pause_end(pause: ClockPause, unit: str) -> Deadline:
    """When the pause ends by itself: its maximum in working hours on `unit`'s calendar."""
    request = DeadlineRequest(unit=unit, start=pause.paused_at, rule=WorkingHoursRule(hours=pause.max_working_hours))
    return await look_up_deadline(request, f"pause ({pause.reason})")


async def resumed_deadlines(pause: ClockPause, instants: list[PausedInstant],
                            then: list[FollowingDeadline] | None = None) -> list[Deadline]:
    """The paused instants owed again from now, after the working time each had left (then `then`)."""
    request = ResumedDeadlinesRequest(paused_at=pause.paused_at, resumed_at=workflow.now(), instants=instants,
                                      then=then or [])
    return await workflow.execute_local_activity(
        RESUMED_DEADLINES_ACTIVITY, request, result_type=list[Deadline],
        summary=f"resume after the pause ({pause.reason}): what is owed", **CALENDAR_LOOKUP,
    )


def paused_detail(pause: ClockPause, **extra: Any) -> dict[str, Any]:
    """The timeline detail of a pause starting."""
    return {"reason": pause.reason, "note": pause.note, "max_working_hours": pause.max_working_hours,
            "ends_by": pause.ends_by.isoformat() if pause.ends_by else None, "ends_by_local": pause.ends_by_local,
            **extra}


def resumed_detail(pause: ClockPause, by_itself: bool, note: str | None, **extra: Any) -> dict[str, Any]:
    """The timeline detail of a pause ending, with its length (elapsed, from pause to resumption)."""
    minutes = int((workflow.now() - pause.paused_at).total_seconds() // 60)
    return {"reason": pause.reason, "paused_at": pause.paused_at.isoformat(), "length_minutes": minutes,
            "length": length_text(minutes), "ended_by_itself": by_itself, "note": note, **extra}
