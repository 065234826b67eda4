"""The retention pieces only a real Temporal dev server has (ops/namespace.py): the namespace's
retention of closed histories, as `make run` and compose's setup step set it, and the daily
Schedule the workers register, triggered here to run the retention workflow end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy, ScheduleRange
from temporalio.testing import WorkflowEnvironment

from ops.namespace import (RETENTION_SCHEDULE_ID, closed_history_retention, ensure_retention_schedule,
                           keep_closed_histories, set_history_retention)
from ops.run_embedded import startup
from settings import Settings
from tests.conftest import Stack, auth
from tests.factories import stored
from tests.ops.test_compose import TEMPORAL_CLI, environment, mounted_script
from tests.readmodel.test_retention import complaint
from workflows.retention import RetentionReport


def address_of(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


async def new_namespace(env: WorkflowEnvironment, retention: timedelta) -> Client:
    name = f"retention-{uuid.uuid4().hex[:8]}"
    await env.client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=name, workflow_execution_retention_period=Duration(seconds=int(retention.total_seconds()))))
    return await Client.connect(address_of(env), namespace=name)


async def test_the_namespace_keeps_closed_histories_as_long_as_the_setting_says(dev_env: WorkflowEnvironment) -> None:
    client = await new_namespace(dev_env, timedelta(days=1))  # what the dev server gives its namespace
    assert await closed_history_retention(client) == timedelta(days=1)

    await keep_closed_histories(client, Settings().temporal_retention_days)

    assert Settings().temporal_retention_days == 30
    assert await closed_history_retention(client) == timedelta(days=30)
    # `make run` sets it right after the dev server answers, before the worker and the API start.
    steps = startup(Settings())
    [server] = [i for i, step in enumerate(steps) if getattr(step, "name", "") == "Temporal dev server"]
    assert steps.index(set_history_retention) == server + 1


async def test_compose_setup_sets_the_same_retention_on_a_namespace_that_exists(dev_env: WorkflowEnvironment) -> None:
    client = await new_namespace(dev_env, timedelta(days=1))
    env = {**environment("temporal-setup"), "TEMPORAL_ADDRESS": address_of(dev_env), "TEMPORAL_NAMESPACE": client.namespace,
           "PATH": f"{TEMPORAL_CLI.parent}:{os.environ['PATH']}"}
    # The compose value is the setting's, in hours: 30 days × 24.
    assert env["NAMESPACE_RETENTION"] == f"{Settings().temporal_retention_days * 24}h"

    subprocess.run(["sh", str(mounted_script("temporal-setup"))], env=env, check=True, capture_output=True, timeout=120)

    assert await closed_history_retention(client) == timedelta(days=30)


async def test_the_schedule_runs_daily_at_0330_beijing_time_and_skips_overlaps(stack: Stack) -> None:
    client = stack.env.client
    try:
        # Three workers starting together (compose's replicas): one creates it, the others update it.
        await asyncio.gather(*(ensure_retention_schedule(client, stack.settings) for _ in range(3)))

        described = await client.get_schedule_handle(RETENTION_SCHEDULE_ID).describe()
        spec, action = described.schedule.spec, described.schedule.action
        [daily] = spec.calendars
        assert (list(daily.hour), list(daily.minute), list(daily.second)) == ([ScheduleRange(3)], [ScheduleRange(30)], [ScheduleRange(0)])
        assert spec.time_zone_name == "Asia/Shanghai"
        assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("RetentionWorkflow", stack.settings.temporal_task_queue)
        # The next runs, on the wall clock in Beijing: 03:30 on consecutive days.
        upcoming = [t.astimezone(ZoneInfo("Asia/Shanghai")) for t in described.info.next_action_times[:2]]
        assert [(t.hour, t.minute) for t in upcoming] == [(3, 30), (3, 30)]
        assert upcoming[1] - upcoming[0] == timedelta(days=1)

        # An operator's pause (a legal hold) outlives the next worker start.
        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).pause(note="legal hold")
        await ensure_retention_schedule(client, stack.settings)
        assert (await client.get_schedule_handle(RETENTION_SCHEDULE_ID).describe()).schedule.state.paused
    finally:
        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).delete()


async def test_a_triggered_schedule_run_deidentifies_and_the_auditor_sees_it(stack: Stack) -> None:
    now = datetime.now(UTC)
    # Written by hand: on a real-time server no case can have closed 400 days ago.
    stored(stack.read_model, [complaint("C-AGED", closed_at=now - timedelta(days=400), received_at=now - timedelta(days=403)),
                              complaint("C-RECENT", closed_at=now - timedelta(days=10), received_at=now - timedelta(days=12))])
    client = stack.env.client
    handle = client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    try:
        await ensure_retention_schedule(client, stack.settings)
        await handle.trigger()
        for _ in range(200):  # the run is started by the server's scheduler, a moment after the trigger
            recent = (await handle.describe()).info.recent_actions
            if recent:
                break
            await asyncio.sleep(0.05)
        [started] = recent
        report = await client.get_workflow_handle(started.action.workflow_id, result_type=RetentionReport).result()  # type: ignore[attr-defined]
    finally:
        await handle.delete()

    assert (report.complaints, report.contacts) == (1, 0)
    aged, fresh = stack.read_model.complaints.find("C-AGED"), stack.read_model.complaints.find("C-RECENT")
    assert aged is not None and aged.complainant_name == "[name]"
    assert fresh is not None and fresh.complainant_name == "李娜"
    audit = (await stack.http.get("/audit", params={"action": "deidentify"}, headers=auth("auditor"))).json()
    assert [(e["case_id"], e["actor_id"], e["role"]) for e in audit["items"]] == [("C-AGED", "retention-schedule", "operations")]
