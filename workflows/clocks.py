"""A case's clocks as its workflow holds them: a promise with a due instant, met or overdue; how
a workflow waits for one (done or due) and the watcher that keeps one durable timer on the earliest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from temporalio import workflow


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



# A due instant already past still gets a timer this short: the overdue path runs the same way
# (a timer fired) whether the instant passed a moment ago or while the case waited.
PAST_DUE_WAIT = timedelta(milliseconds=1)


async def _due_first(done: Callable[[], bool], due: datetime, summary: str) -> bool:
    """Wait until `done()` or the due instant: True if the timer fired first."""
    try:
        await workflow.wait_condition(done, timeout=max(due - workflow.now(), PAST_DUE_WAIT),
                                      timeout_summary=summary[:200])
        return False
    except asyncio.TimeoutError:
        return True


async def done_or_due(done: Callable[[], bool], due: datetime, summary: str) -> bool:
    """Wait until `done()` or the due instant (a 1 ms timer if it is already past): True if done,
    also when it became done in the task the timer fired in."""
    return not await _due_first(done, due, summary) or done()


class ClockWatcher:
    """One durable timer at a time, on the earliest running clock; reset when the clocks change.

    The workflow calls `reset()` whenever it starts, meets or moves a clock; `watch()` runs until
    `stop()`, calling `on_due(clock)` for each clock whose due instant arrives first.
    """

    def __init__(self, clocks: Callable[[], Iterable[Clock]], on_due: Callable[[Clock], Awaitable[None]],
                 stop: Callable[[], bool], *, timer_when_past_due: Callable[[], bool] = lambda: True) -> None:
        self._clocks, self._on_due, self._stop = clocks, on_due, stop
        # Asked only when the earliest clock is already past due: an execution built before the
        # 1 ms timer answers False and its clock falls due at once, as it did when it ran.
        self._timer_when_past_due = timer_when_past_due
        self._reset = False

    def reset(self) -> None:
        self._reset = True

    async def watch(self) -> None:
        moved = lambda: self._reset or self._stop()  # noqa: E731
        while not self._stop():
            running = [c for c in self._clocks() if c.running]
            self._reset = False
            if not running:
                await workflow.wait_condition(moved)
                continue
            clock = min(running, key=lambda c: c.due)
            if clock.due > workflow.now() or self._timer_when_past_due():
                if not await _due_first(moved, clock.due, f"{clock.label} due {clock.due_local}"):
                    continue
            await self._on_due(clock)
