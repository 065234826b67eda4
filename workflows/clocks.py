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


class ClockWarning(BaseModel):
    """A warning before a breach (issue #16): the instant a fraction of the clock's working time has
    run, from the calendar activity; the owner of the next step is told once when it comes."""

    fraction: float
    at: datetime
    at_local: str
    notify: str  # the role told, in the unit that owes the clock (the policy's warnings.notify)
    warned_at: datetime | None = None  # when the instant was reached (None: still ahead)
    told: bool = False  # False once reached: the clock was already due, its miss is told instead


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
    warnings: list[ClockWarning] = []  # warnings before its due instant (issue #16)
    paused_at: datetime | None = None  # paused while waiting on the customer or a third party (rules/pauses.py)

    @property
    def running(self) -> bool:
        """Neither met nor overdue, and not paused: a paused clock has no timer and owes nothing."""
        return self.pending and self.paused_at is None

    @property
    def pending(self) -> bool:
        """Neither met nor overdue (running or paused): a step can still meet it."""
        return self.met_at is None and self.overdue_at is None

    def next_warning(self) -> ClockWarning | None:
        """The first warning not reached yet, while the clock runs."""
        return next((w for w in self.warnings if w.warned_at is None), None) if self.running else None


def clock_started_detail(clock: Clock, calendar: str) -> dict[str, Any]:
    """The timeline detail of a started clock, the same whether the API or the workflow writes it."""
    return {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local,
            "unit": clock.unit, "calendar": calendar, "calendar_version": clock.calendar_version}



# A due instant already past still gets a timer this short: the overdue path runs the same way
# (a timer fired) whether the instant passed a moment ago or while the case waited.
PAST_DUE_WAIT = timedelta(milliseconds=1)

# The server starts a timer when the workflow task that asks for it completes, while the workflow
# aims it from the task's own time: a task that completes a second late (a busy worker or server,
# the 10:00 peak) makes its timer fire a second late, however far ahead the instant is. A timer
# further ahead than twice this is aimed this much early; when it fires the watcher aims again,
# from a task that does nothing else, and fires on the instant (bench/steady.py).
LEAD = timedelta(minutes=1)


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
                 stop: Callable[[], bool], *, timer_when_past_due: Callable[[], bool] = lambda: True,
                 on_warning: Callable[[Clock, ClockWarning], Awaitable[None]] | None = None,
                 warns: Callable[[], bool] = lambda: False, lead: Callable[[], bool] = lambda: False) -> None:
        self._clocks, self._on_due, self._stop = clocks, on_due, stop
        # LEAD timers only when `lead()` says so: an execution built before them keeps its one timer.
        self._lead = lead
        # Warnings (issue #16) are watched only when `warns()` says so, asked only once a running
        # clock has one ahead: an execution built before them keeps the one timer it had.
        self._on_warning, self._warns = on_warning, warns
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
            for late in (c for c in running if c.due <= workflow.now()):
                for warning in late.warnings:  # already due (the case waited, a worker was down):
                    warning.warned_at = warning.warned_at or workflow.now()  # its miss is told, no warning
            warned = self._warning_first(running, clock.due)
            if warned is not None:
                with_warning, warning = warned
                if await self._timer_first(moved, warning.at, f"warn of {with_warning.label} at {warning.at_local}"):
                    warning.warned_at = workflow.now()
                    warning.told = with_warning.due > warning.warned_at  # already due: its miss is told
                    await self._on_warning(with_warning, warning)  # type: ignore[misc]
                continue
            if clock.due > workflow.now() or self._timer_when_past_due():
                if not await self._timer_first(moved, clock.due, f"{clock.label} due {clock.due_local}"):
                    continue
            await self._on_due(clock)

    async def _timer_first(self, moved: Callable[[], bool], instant: datetime, summary: str) -> bool:
        """Wait for `moved()` or `instant`: True if the instant came. A LEAD timer fires first when
        the instant is far: then False, as if moved, and the next pass aims again from closer."""
        if self._lead() and instant - workflow.now() > 2 * LEAD:
            await _due_first(moved, instant - LEAD, f"{summary} (aimed a minute ahead)")
            return False
        return await _due_first(moved, instant, summary)

    def _warning_first(self, running: list[Clock], due: datetime) -> tuple[Clock, ClockWarning] | None:
        """The earliest warning ahead of every running clock's due instant, if warnings are watched."""
        ahead = [(c, w) for c in running if (w := c.next_warning()) is not None and w.at < due]
        if not ahead or self._on_warning is None or not self._warns():
            return None
        return min(ahead, key=lambda cw: cw[1].at)
