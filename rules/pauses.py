"""Clock pauses (issue #16): while a case waits on the customer or a third party, its clocks stop.

A handler pauses a complaint's customer clocks, the addressed unit its dispatch clock, each with a
reason the policy allows (`pauses.complaint`, `pauses.dispatch`) and for at most that reason's
working hours. On resumption each clock owes the working time it had left, on its own calendar
(`WorkingCalendar.resumed_due`), so time paused is not owed and is not late. A pause that reaches
its maximum ends by itself and the one who paused is told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class PauseRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The longest the pause may last, in working hours of the paused case's unit; then it ends by itself.
    max_working_hours: Annotated[float, Field(gt=0)]


class PauseRules(BaseModel):
    """The reasons a clock may be paused for, by case kind, each with its maximum."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complaint: dict[ReasonCode, PauseRule] = {}  # a complaint's customer clocks
    dispatch: dict[ReasonCode, PauseRule] = {}  # a dispatch's or ticket's clock (and its ladder)


def reason_refusal(allowed: dict[str, PauseRule], reason: str) -> str | None:
    """Why a pause may not be asked for with this reason (None: it may)."""
    if reason in allowed:
        return None
    if not allowed:
        return "no reason allows a pause of this clock (policy pauses)"
    return f"not a reason a pause is allowed for; one of {', '.join(sorted(allowed))}"


def dispatch_pause_refusal(status: str, due: datetime | None, now: datetime, escalation_level: int,
                           paused: bool) -> str | None:
    """A dispatch's clock is paused while it is open and not yet due: once due, its ladder is owed."""
    if status != "open":
        return f"the dispatch is {status}; its clock is paused only while it is open"
    if paused:
        return "the dispatch's clock is already paused"
    if due is None:
        return "the dispatch's clock has not started yet"
    if escalation_level > 0 or now >= due:
        return "the dispatch is overdue; its clock can no longer be paused"
    return None


def length_text(minutes: int) -> str:
    """A pause's length for people: "65 h 00 min"."""
    return f"{minutes // 60} h {minutes % 60:02d} min"
