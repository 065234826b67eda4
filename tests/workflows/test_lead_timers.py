"""A clock further ahead than two minutes is watched by a timer a minute early, then one to its
instant (lead-timers, workflows.clocks.LEAD).

The server starts a timer when the workflow task that asks for it completes, while the workflow
aims it from the task's own time: on the dev server a task that completes late (a busy worker or
server, the 10:00 peak) made the clock it armed fall due as late, up to 1.4 s at p99 in
bench/steady.py. The second timer is aimed from the first one's task, which does nothing else.
(The time-skipping server fires a timer on its aim whenever the task completes, so the lateness
itself is measured by the bench; here, what operations see in the Web UI and the timeline.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from rules.policy import load_policy
from tests.workflows.test_clocks import POLICY
from tests.workflows.test_customer_clocks import AGENT, care_desk, clocks, missed, until
from tests.workflows.test_dispatches import SHANGHAI, skip_to
from workflows.clocks import LEAD
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import TakeIntoHandling


async def test_a_missed_clock_fires_a_lead_timer_a_minute_ahead_then_on_its_instant(tmp_path: Path) -> None:
    async with care_desk(tmp_path) as desk:
        handle = await desk.file(desk.at(0, 9))  # Monday 09:00: first contact 2 working hours, due 11:00
        await skip_to(desk.env, desk.at(0, 9, 10))
        await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
        await skip_to(desk.env, desk.at(0, 11, 1))
        await until(desk.env, lambda: missed(desk, handle) == 1)

        due = desk.at(0, 11)
        # Its "due soon" warning at the policy's fraction of the 2 working hours from 09:00 (0.75:
        # 10:30), then its breach at 11:00: each a lead timer LEAD (a minute) before, then one on
        # the instant; nothing else fell due by 11:01 (progress update 11:10, solution 13:00).
        (fraction,) = load_policy(POLICY).warnings.fractions
        warn_at = desk.at(0, 9) + fraction * timedelta(hours=2)
        expected = [warn_at - LEAD, warn_at, due - LEAD, due]
        assert [at.astimezone(SHANGHAI) for at in await timers_fired(handle)] == pytest.approx(expected, abs=timedelta(seconds=1))
        first_contact = (await clocks(handle))["first_contact"]
        assert first_contact.overdue_at is not None
        assert timedelta(0) <= first_contact.overdue_at - due < timedelta(seconds=1)


async def test_a_clock_due_within_two_minutes_gets_one_timer(tmp_path: Path) -> None:
    async with care_desk(tmp_path) as desk:
        handle = await desk.file(desk.at(0, 9))  # first contact due 11:00; its lead timer aimed at 10:59
        # Taken at 10:58:30 the watcher aims again: 11:00 is 90 s on, within 2 × LEAD: one timer.
        await skip_to(desk.env, desk.at(0, 10, 58) + timedelta(seconds=30))
        await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
        await skip_to(desk.env, desk.at(0, 11, 1))
        await until(desk.env, lambda: missed(desk, handle) == 1)

        # (the warning at 10:30 fired before, on its lead timer and its own)
        fired = [at for at in await timers_fired(handle) if at > desk.at(0, 10, 58)]
        assert fired == pytest.approx([desk.at(0, 11)], abs=timedelta(seconds=1))


async def timers_fired(handle: WorkflowHandle) -> list[datetime]:
    """When each of the case's timers fired, in order (the Web UI's timeline)."""
    return [e.event_time.ToDatetime(tzinfo=UTC) for e in (await handle.fetch_history()).events
            if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
