"""A clock already past due when the watcher comes to it gets a 1 ms timer and then falls due, in
a complaint as in a dispatch, a judgement or a contact (workflows/clocks.py). A complaint started
before that change (not built with "past-due-timer") asks workflow.patched at that point, and its
recorded histories, where such a clock fell due at once with no timer, still replay."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.protection.keys import DATA_CONVERTER
from tests.workflows.test_built_with import PATCH_MARKER, patch_markers
from tests.workflows.test_clocks import complaint_worker, filing, start, timer_summaries
from worker import WORKFLOWS
from workflows.clocks import Clock
from workflows.complaint import COMPLAINT_PATCHES, PAST_DUE_TIMER, ComplaintWorkflow
from workflows.complaint_messages import ComplaintFiling

HISTORIES = Path(__file__).parent.parent / "histories"


async def overdue_first_contact(handle: WorkflowHandle) -> Clock:
    """The first-contact clock once it and the solution clock (both run from the received time,
    three days ago) have fallen due; the workflow is idle then (the test server's time skipping
    stalls when a test ends a workflow in the middle of a task)."""
    for _ in range(400):
        clocks = {c.name: c for c in await handle.query(ComplaintWorkflow.clocks)}
        if all(clocks.get(n) is not None and clocks[n].overdue_at is not None for n in ("first_contact", "solution")):
            await asyncio.sleep(0.2)  # the second miss's write and notice
            return clocks["first_contact"]
    raise AssertionError("the past-due first-contact and solution clocks never fell due")


async def timer_durations(handle: WorkflowHandle) -> list[timedelta]:
    return [e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            for e in (await handle.fetch_history()).events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]


def received_three_days_ago(now) -> ComplaintFiling:  # type: ignore[no-untyped-def]
    # The first-contact clock runs from the channel's received time: filed this late, it is past due.
    return filing(now - timedelta(days=3))


async def test_a_new_complaint_whose_clock_is_past_due_sets_a_1_ms_timer_then_falls_due(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"past-due-{uuid.uuid4().hex[:8]}"
    async with complaint_worker(time_env, tmp_path, queue):
        case = received_three_days_ago(await time_env.get_current_time())
        assert PAST_DUE_TIMER in case.built_with
        handle = await start(time_env, case, queue)

        clock = await overdue_first_contact(handle)
        assert clock.due < clock.overdue_at  # type: ignore[operator]
        assert f"first contact due {clock.due_local}" in await timer_summaries(handle)
        assert timedelta(milliseconds=1) in await timer_durations(handle)
        assert await patch_markers(handle) == []  # built with it: nothing to ask


async def test_a_complaint_built_before_the_change_asks_workflow_patched_when_a_clock_is_past_due(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"past-due-{uuid.uuid4().hex[:8]}"
    older = [c for c in COMPLAINT_PATCHES if c != PAST_DUE_TIMER]
    async with complaint_worker(time_env, tmp_path, queue):
        case = received_three_days_ago(await time_env.get_current_time()).model_copy(update={"built_with": older})
        handle = await start(time_env, case, queue)

        clock = await overdue_first_contact(handle)
        assert f"first contact due {clock.due_local}" in await timer_summaries(handle)
        assert timedelta(milliseconds=1) in await timer_durations(handle)
        patches = [e.marker_recorded_event_attributes for e in (await handle.fetch_history()).events
                   if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                   and e.marker_recorded_event_attributes.marker_name == PATCH_MARKER]
        assert len(patches) == 1 and PAST_DUE_TIMER.encode() in patches[0].SerializeToString()


async def test_the_v5_histories_still_replay() -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER)
    paths = sorted(HISTORIES.glob("v5_*.json"))
    assert paths
    for path in paths:
        recorded = json.loads(path.read_text())
        result = await replayer.replay_workflow(WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"]))
        assert result.replay_failure is None, path.name
