"""A case's clocks as its workflow holds them: a promise with a due instant, met or overdue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class ClockKind(StrEnum):
    CUSTOMER = "customer"  # a promise to the customer: missed → the supervisor is told, and it counts
    PROGRESS = "progress"  # the next progress update: sent automatically when it falls due
    ACTION = "action"  # a complex case's planned action: overdue → the owner's supervisor is told


class Clock(BaseModel):
    """A customer clock, a progress-update clock or a planned action of one complaint."""

    name: str
    label: str
    started_at: datetime
    due: datetime
    due_local: str
    unit: str  # whose calendar runs it; its supervisor hears of a miss
    calendar_version: str
    met_at: datetime | None = None
    overdue_at: datetime | None = None
    kind: ClockKind = ClockKind.CUSTOMER
    extended: bool = False  # the solution clock moved from 4 to 8 hours, the customer told in time

    @property
    def running(self) -> bool:
        return self.met_at is None and self.overdue_at is None


def clock_started_detail(clock: Clock, calendar: str) -> dict[str, Any]:
    """The timeline detail of a started clock, the same whether the API or the workflow writes it."""
    return {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local,
            "unit": clock.unit, "calendar": calendar, "calendar_version": clock.calendar_version}

