"""Deploying new workflow code under running complaints (docs/DESIGN.md "Deploying new workflow code"):
Worker Versioning routes every task to the deployment's current version, every workflow type is
AUTO_UPGRADE, and the change itself is guarded by workflow.patched.

On the dev server (the time-skipping server has no Worker Versioning), in real time: version A runs,
version B (tests/workflows/complaint_next_version.py: the customer is texted when the complaint is
taken into handling) comes up beside it, is made current, and version A's workers stop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.api.enums.v1 import VersioningBehavior, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentVersionRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.conftest import Stack, auth, running_stack
from tests.factories import complaint_body
from tests.notifications.receivers import SmsGateway, running_gateway
from tests.workflows.complaint_next_version import TAKEN_TEXT, ComplaintWorkflowNext, ComplaintWorkflowNextUnguarded
from worker import WORKFLOWS, build_worker
from workflows.complaint import ComplaintWorkflow

T = TypeVar("T")
VERSION_A, VERSION_B = "2026.12.01-a", "2026.12.02-b"
PHONE = "13800138000"  # complaint_body's complainant


async def eventually(look: Callable[[], Awaitable[T | None]], what: str, seconds: float = 30) -> T:
    """What the server shows once it has caught up (a poller registered, a task completed)."""
    for _ in range(int(seconds / 0.1)):
        try:
            found = await look()
        except RPCError:
            found = None
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def make_current(client: Client, deployment: str, build_id: str) -> None:
    """What `temporal worker deployment set-current-version` does; accepted once the version's
    workers have polled (until then the server does not know the version)."""

    async def set_current() -> bool:
        await client.workflow_service.set_worker_deployment_current_version(SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace, deployment_name=deployment, build_id=build_id, identity="deploy test"))
        return True

    await eventually(set_current, f"{deployment} {build_id} current")


async def version_status(client: Client, deployment: str, build_id: str) -> int:
    described = await client.workflow_service.describe_worker_deployment_version(DescribeWorkerDeploymentVersionRequest(
        namespace=client.namespace, deployment_version={"deployment_name": deployment, "build_id": build_id}))
    return described.worker_deployment_version_info.status


async def ran_last_on(handle: WorkflowHandle) -> tuple[str, int]:
    """The build id (and versioning behaviour) of the version that completed the case's last task."""
    async def look() -> tuple[str, int] | None:
        info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
        return (info.deployment_version.build_id, info.behavior) if info.deployment_version.build_id else None

    return await eventually(look, f"{handle.id} ran a task on a version")


@asynccontextmanager
async def version_b_beside(stack: Stack) -> AsyncIterator[None]:
    """Version B's worker on the same task queue, the changed complaint workflow in place of the old."""
    workflows = [ComplaintWorkflowNext if w is ComplaintWorkflow else w for w in WORKFLOWS]
    settings = stack.settings.model_copy(update={"worker_build_id": VERSION_B})
    async with build_worker(stack.env.client, settings, stack.read_model, stack.executor, workflows=workflows):
        yield


async def file_and_take(stack: Stack) -> WorkflowHandle:
    resp = await stack.http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))
    assert resp.status_code == 201, resp.text
    cid = resp.json()["complaint_id"]
    taken = await stack.http.post(f"/complaints/{cid}/handling", json={"note": "asked the Tianhe station"},
                                  headers=auth("front_seat"))
    assert taken.status_code == 200, taken.text
    return stack.env.client.get_workflow_handle_for(ComplaintWorkflow.run, f"complaint-{cid}")


async def close(stack: Stack, handle: WorkflowHandle) -> None:
    cid = handle.id.removeprefix("complaint-")
    resp = await stack.http.post(f"/complaints/{cid}/unresolvable-closure", json={"reason": "sender unreachable"},
                                 headers=auth("supervisor"))
    assert resp.status_code == 200, resp.text
    assert (await handle.result()).status == "closed"


@pytest.fixture
async def deployment(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[Stack, SmsGateway, str]]:
    """The system with version A's worker (a deployment of its own per test), A made current."""
    name = f"complaint-desk-{uuid.uuid4().hex[:8]}"
    with running_gateway() as gateway:
        async with running_stack(dev_env, tmp_path, worker_deployment_name=name, worker_build_id=VERSION_A,
                                 sms_gateway_url=gateway.url) as stack:
            await make_current(dev_env.client, name, VERSION_A)
            yield stack, gateway, name


def taken_texts(gateway: SmsGateway) -> list[str]:
    """The "being handled" texts the customer's phone shows."""
    return [m["text"] for m in gateway.texts_to(PHONE) if TAKEN_TEXT in m["text"]]


async def one_taken_text(gateway: SmsGateway) -> bool:
    return len(taken_texts(gateway)) == 1


async def test_cases_started_on_version_a_finish_on_b_and_new_cases_take_the_new_path(
    deployment: tuple[Stack, SmsGateway, str],
) -> None:
    stack, gateway, name = deployment
    client = stack.env.client
    older = await file_and_take(stack)
    assert await ran_last_on(older) == (VERSION_A, VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)

    async with version_b_beside(stack):
        # B polls the same task queue (the server knows its version), but A is still current: a case
        # filed now still runs on A.
        await eventually(lambda: version_status(client, name, VERSION_B), "version B registered by its poll")
        meanwhile = await file_and_take(stack)
        assert (await ran_last_on(meanwhile))[0] == VERSION_A

        await make_current(client, name, VERSION_B)
        await stack.stop_worker()  # version A's workers go away: nothing is pinned to them
        assert await version_status(client, name, VERSION_A) == WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING

        # The older cases move to B on their next task, replay what A wrote, and finish.
        for case in (older, meanwhile):
            await close(stack, case)
            assert (await ran_last_on(case))[0] == VERSION_B
            assert (await case.describe()).status == WorkflowExecutionStatus.COMPLETED
        # They were taken into handling by A, so no "being handled" text: B's change is not replayed into them.
        assert taken_texts(gateway) == []

        newer = await file_and_take(stack)
        assert (await ran_last_on(newer))[0] == VERSION_B
        # The new path: the customer is texted when the case is taken into handling (one text).
        await eventually(lambda: one_taken_text(gateway), "the customer texted once")
        await close(stack, newer)

    # Why the patch: the same change unguarded cannot replay a case A took into handling.
    history = WorkflowHistory.from_json(older.id, (await older.fetch_history()).to_json_dict())
    guarded = Replayer(workflows=[ComplaintWorkflowNext], data_converter=client.data_converter)
    unguarded = Replayer(workflows=[ComplaintWorkflowNextUnguarded], data_converter=client.data_converter)
    assert (await guarded.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
    failure = (await unguarded.replay_workflow(history, raise_on_replay_failure=False)).replay_failure
    assert failure is not None and "nondetermin" in str(failure).lower()
