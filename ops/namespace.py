"""What this deployment sets in its Temporal namespace for retention (DOMAIN §9, docs/DESIGN.md):

- how long a closed workflow's history is kept (`temporal_retention_days`): the history holds the
  case's payloads, customer data among them, until the namespace's retention removes it. The dev
  server makes its namespace with 24 hours (a closed case gone from the Web UI a day later), so
  `make run` sets it after the frontend answers; compose's temporal-setup step creates or updates
  the namespace with the same value (deploy/temporal/register-search-attributes.sh);
- the Schedule that starts the daily retention run (workflows/retention.py), registered by every
  worker at start: idempotent, the first creates it, the others (and every restart) update it to
  this definition, so a deploy that changes the hour or the task queue takes effect; a pause
  (an operator's legal hold) is kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
)

from settings import Settings
from workflows.retention import RETENTION_WORKFLOW_ID, RetentionRun, RetentionWorkflow

RETENTION_SCHEDULE_ID = "retention-deidentify-daily"
# 03:30 in Beijing: the call centre and every office are quiet (their calendars open at 08:00).
RETENTION_TIME_ZONE = "Asia/Shanghai"
RETENTION_HOUR, RETENTION_MINUTE = 3, 30


async def keep_closed_histories(client: Client, days: int) -> None:
    """Set the namespace's retention of closed workflow histories (UpdateNamespace, as
    `temporal operator namespace update --retention` does); its other settings stay as they are."""
    await client.workflow_service.update_namespace(UpdateNamespaceRequest(
        namespace=client.namespace,
        config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=int(timedelta(days=days).total_seconds()))),
    ))


async def closed_history_retention(client: Client) -> timedelta:
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


def set_history_retention(settings: Settings) -> None:
    """`make run`'s step after the dev server answers (ops/run_embedded.py)."""

    async def update() -> None:
        client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        await keep_closed_histories(client, settings.temporal_retention_days)

    asyncio.run(update())
    print(f"[make run] Temporal keeps closed histories {settings.temporal_retention_days} days", flush=True)


def retention_schedule(settings: Settings) -> Schedule:
    """Every day at 03:30 Beijing time; a run still going at the next one is not overlapped (SKIP);
    a run missed while the cluster was down is made up within 12 hours, not later."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run, RetentionRun(), id=RETENTION_WORKFLOW_ID, task_queue=settings.temporal_task_queue,
            execution_timeout=timedelta(hours=23),  # never into the next day's run
            static_summary="de-identify closed cases past the policy's retention",
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(RETENTION_HOUR)], minute=[ScheduleRange(RETENTION_MINUTE)],
                                            comment="daily at a quiet hour")],
            time_zone_name=RETENTION_TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)),
        state=ScheduleState(note="registered by the complaint workers (ops/namespace.py)"),
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    """Create the schedule, or bring an existing one to this definition (several workers race
    here at once: one creates, the rest update to the same)."""
    schedule = retention_schedule(settings)
    try:
        await client.create_schedule(RETENTION_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        # Its state stays: a schedule an operator paused (a legal hold) stays paused across restarts.
        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).update(
            lambda found: ScheduleUpdate(schedule=dataclasses.replace(schedule, state=found.description.schedule.state)))
