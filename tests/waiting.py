"""Waiting, on the time-skipping test server, for what the worker does after a test's last step.

A probe is tried with a millisecond of test time between tries until it answers, bounded by wall
clock rather than by a count of tries: with the worker's cache off (CI's `WORKER_CACHED_WORKFLOWS=0`
step) every workflow task replays its whole history, and on a busy 2-core machine 200 tries of a
few milliseconds each ran out before a child's first task had (the CI failure of stop 21).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.testing import WorkflowEnvironment

T = TypeVar("T")

WAIT_SECONDS = 60.0
TRY_EVERY = timedelta(milliseconds=1)


async def _first_answer(probe: Callable[[], T | Awaitable[T]], what: str, seconds: float,
                        between: Callable[[], Awaitable[object]]) -> T:
    """The probe's first truthy answer, awaiting `between()` after each miss; fails naming `what`
    after `seconds` of wall clock."""
    deadline = time.monotonic() + seconds
    while True:
        answer = probe()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return answer  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (waited {seconds:.0f} s)")
        await between()


async def eventually(env: WorkflowEnvironment, probe: Callable[[], T | Awaitable[T]], what: str,
                     *, seconds: float = WAIT_SECONDS) -> T:
    """The probe's first truthy answer, a millisecond of test time skipped between tries."""
    return await _first_answer(probe, what, seconds, lambda: env.sleep(TRY_EVERY))


async def settled(probe: Callable[[], T | Awaitable[T]], what: str, *, seconds: float = WAIT_SECONDS,
                  every: float = 0.02) -> T:
    """The probe's first truthy answer, tried every `every` seconds of wall clock without skipping any
    test time: for what the worker writes or the server indexes after a step, not for a clock."""
    return await _first_answer(probe, what, seconds, lambda: asyncio.sleep(every))
