"""A case filed today is built with every workflow change; an older case still asks workflow.patched.

A patch marker and its version search attribute upsert cost the server a write each; a case that
starts with the change in its input (ComplaintFiling.built_with) carries neither, and behaves the same.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.test_clocks import AGENT, complaint_worker, filing, first_contact, start
from workflows.complaint import COMPLAINT_PATCHES, ComplaintWorkflow
from workflows.complaint_messages import RecordFirstContact, TakeIntoHandling

PATCH_MARKER = "core_patch"


async def patch_markers(handle: WorkflowHandle) -> list[str]:
    history = await handle.fetch_history()
    return [e.marker_recorded_event_attributes.marker_name for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == PATCH_MARKER]


async def version_upserts(handle: WorkflowHandle) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
               and "TemporalChangeVersion" in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)


async def into_handling(env: WorkflowEnvironment, handle: WorkflowHandle) -> list[str]:
    """First contact, then handling: the step where the customer clocks start. The clocks it runs."""
    await first_contact(handle)
    await handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
        actor=AGENT, apology="We are sorry", why_it_matters="urgent papers", first_direction="chasing the station"))
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    return sorted(c.name for c in await handle.query(ComplaintWorkflow.clocks) if c.met_at is None)


async def test_a_case_built_with_the_changes_runs_the_customer_clocks_without_patch_markers(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"built-{uuid.uuid4().hex[:8]}"
    now = await time_env.get_current_time()
    async with complaint_worker(time_env, tmp_path, queue):
        today = await start(time_env, filing(now - timedelta(minutes=1)), queue)
        assert filing(now).built_with == list(COMPLAINT_PATCHES)  # the factory files as the API does

        assert await into_handling(time_env, today) == ["progress_update", "solution"]
        assert await patch_markers(today) == []
        assert await version_upserts(today) == 0


async def test_a_case_started_before_built_with_existed_asks_workflow_patched(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"built-{uuid.uuid4().hex[:8]}"
    now = await time_env.get_current_time()
    async with complaint_worker(time_env, tmp_path, queue):
        older = await start(time_env, filing(now - timedelta(minutes=1)).model_copy(update={"built_with": []}), queue)

        assert await into_handling(time_env, older) == ["progress_update", "solution"]
        # deadline-at-intake and solution-from-receipt at the start, steps-in-order at the first
        # read-model write, customer-clocks at the first transition that differs (a level-2 case
        # never asks for red-alert; no clock fell due, no dispatch was raised); then issue #16's:
        # case-owner at the taking into handling, vip-service at the first clock it starts, and
        # clock-warnings once a running clock has a warning ahead (never paused, merged or
        # handed over: those three are not asked)
        assert len(await patch_markers(older)) == 7
        assert await version_upserts(older) == 7
