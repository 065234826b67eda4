"""Shared fixtures: a real Temporal test server, a real worker, the real app over ASGI."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from readmodel.store import ReadModel
from settings import ROOT, Settings
from tests.protection.keys import DATA_CONVERTER, TEST_KEY_RING, with_keys
from worker import ACTIVITY_THREADS, build_worker
from workflows.case import CaseSearch

BIN = Path(sys.executable).parent
TEST_SERVER = BIN / "temporal-test-server"
DEV_SERVER = BIN / "temporal"

TOKENS = {
    "front_seat": "dev-front-seat",
    "urgent_group": "dev-urgent-group",
    "regional_cs": "dev-regional-cs",
    "production_unit": "dev-production-unit",
    "xihu_station": "dev-xihu-station",
    "head_office_cs": "dev-head-office-cs",
    "arbitration": "dev-arbitration",
    "director": "dev-director",
    "supervisor": "dev-supervisor",
    "auditor": "dev-auditor",
    "operations": "dev-operations",
}


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


async def register_search_attributes(client: Client) -> None:
    kinds = {
        SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        SearchAttributeIndexedValueType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    }
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: kinds[key.indexed_value_type] for key in CaseSearch.ALL},
        )
    )


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server for each test (about half a second to start).

    One server shared by the session leaked its time-skipping lock across tests: after a test that
    answered an Update and shut its worker down, the next test's first skip of days stood still and
    ran out of real time ('Timeout expired'), with nothing open or pending on the server. A test's
    clock and its lock are its own this way, whatever the one before it left behind."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER
    )
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal CLI dev server (in memory), with the complaint search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER),
        data_converter=DATA_CONVERTER,
        search_attributes=list(CaseSearch.ALL),
        dev_server_extra_args=["--log-level", "error"],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@dataclass
class Stack:
    """The whole system for one test: its own task queue and read-model database."""

    env: WorkflowEnvironment
    settings: Settings
    read_model: ReadModel
    http: httpx.AsyncClient = None  # type: ignore[assignment]
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=ACTIVITY_THREADS))
    worker: Worker | None = None

    async def start_worker(self) -> Worker:
        assert self.worker is None, "a worker is already running"
        self.worker = build_worker(self.env.client, self.settings, self.read_model, self.executor)
        await self.worker.__aenter__()
        return self.worker

    async def stop_worker(self) -> None:
        assert self.worker is not None
        await self.worker.__aexit__(None, None, None)
        self.worker = None


def stack_settings(tmp_path: Path) -> Settings:
    return Settings(
        temporal_task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite:///{tmp_path / 'readmodel.db'}",
        data_dir=tmp_path,
        policy_file=ROOT / "policies" / "express_carrier.yaml",
        tokens_file=ROOT / "config" / "tokens.dev.yaml",
        payload_keys=with_keys(TEST_KEY_RING),  # the ring DATA_CONVERTER encrypts with
    )


@asynccontextmanager
async def running_stack(env: WorkflowEnvironment, tmp_path: Path, **overrides: object) -> AsyncIterator[Stack]:
    settings = stack_settings(tmp_path).model_copy(update=overrides)
    read_model = ReadModel(settings.database_url)
    read_model.create_schema()
    s = Stack(env=env, settings=settings, read_model=read_model)
    await s.start_worker()
    app = create_app(settings, temporal=env.client)
    try:
        async with LifespanManager(app) as manager:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://api") as http:
                s.http = http
                yield s
    finally:
        await end_workflows(env, read_model)
        if s.worker is not None:
            await s.stop_worker()
        s.executor.shutdown(wait=False)
        read_model.dispose()


async def end_workflows(env: WorkflowEnvironment, read_model: ReadModel) -> None:
    """Terminate what a test left running: on the shared time-skipping server, a workflow whose
    worker is gone holds back time skipping for every later test."""
    from readmodel.tables import ComplaintRow, ContactRow, DispatchRow
    from sqlmodel import Session, select
    from workflows.judgement_messages import judgement_workflow_id

    with Session(read_model.engine) as session:
        complaints = list(session.exec(select(ComplaintRow)))
        ids = ([r.workflow_id for r in complaints] + [r.id for r in session.exec(select(DispatchRow))]
               + [judgement_workflow_id(r.id) for r in complaints if r.closed_at is not None]  # weeks of clocks after closing
               + [r.workflow_id for r in session.exec(select(ContactRow))])
    for workflow_id in ids:
        try:
            await env.client.get_workflow_handle(workflow_id).terminate("test finished")
        except Exception:
            pass  # already closed


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    """The system on a real Temporal dev server (what `make run` runs), in real time."""
    async with running_stack(dev_env, tmp_path) as s:
        yield s


@pytest.fixture
async def time_stack(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    """The system on the time-skipping test server, for clocks measured in working days."""
    async with running_stack(time_env, tmp_path) as s:
        yield s


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._complaint_exit_status = int(exitstatus)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # The Temporal SDK can crash the interpreter at exit (sdk-python#300) after every test has
    # passed; leave with pytest's own verdict before that teardown can turn green into red.
    status = getattr(config, "_complaint_exit_status", None)
    if status is not None and os.environ.get("COMPLAINTS_NO_HARD_EXIT") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
