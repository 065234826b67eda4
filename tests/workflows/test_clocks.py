"""Customer clocks run on the acting unit's working calendar, on the time-skipping test server.

The first-contact clock of a delay complaint is 2 working hours (policy). Filed with the Guangdong
office (office calendar, Mon–Fri 8–18 on the national calendar) on a Friday at 17:30, it falls due
on Monday at 09:30 — and the durable timer fires exactly then.
"""

from __future__ import annotations

import os
import uuid
from time import time_ns
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from readmodel.store import ReadModel
from rules.actors import Actor, Role
from rules.calendar import WorkingCalendar
from rules.classification import classify
from rules.intake import ComplaintIntake
from rules.policy import PolicyFile, load_policy
from settings import ROOT
from tests.protection.keys import DATA_CONVERTER
from tests.conftest import end_workflows, stack_settings
from tests.factories import complaint_body
from worker import ACTIVITY_THREADS, WORKFLOWS, build_worker
from workflows.complaint import COMPLAINT_PATCHES, ComplaintWorkflow
from workflows.clocks import Clock
from workflows.complaint_messages import complaint_workflow_id, ComplaintFiling, RecordFirstContact
from tests.waiting import settled

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = ROOT / "policies" / "express_carrier.yaml"
AGENT = Actor(id="gd-chen", name="Chen Jing", role=Role.REGIONAL_CS, unit="gd")


def next_plain_friday(after: datetime) -> date:
    """The next Friday whose weekend is a plain weekend (no holiday or 调休 around it)."""
    office = WorkingCalendar(load_policy(POLICY).calendars["office"])
    day = after.astimezone(SHANGHAI).date() + timedelta(days=1)
    while True:
        if day.weekday() == 4 and [office.is_working_day(day + timedelta(d)) for d in range(4)] == [True, False, False, True]:
            return day
        day += timedelta(days=1)


def filing(received_at: datetime, category: str = "delay") -> ComplaintFiling:
    intake = ComplaintIntake.model_validate(complaint_body(received_at=received_at.isoformat(), category=category))
    return ComplaintFiling(
        complaint_id="C" + uuid.uuid4().hex[:12].upper(),
        intake=intake,
        classification=classify(intake, load_policy(POLICY)),
        filed_by=AGENT,
        filed_at=received_at,
        lead_unit="gd",
        built_with=list(COMPLAINT_PATCHES),  # as the API files a case today
        automatic_progress_text=load_policy(POLICY).clocks.customer.automatic_progress_text,  # as the API reads it
    )


@asynccontextmanager
async def complaint_worker(env: WorkflowEnvironment, tmp_path: Path, task_queue: str, policy: Path = POLICY) -> AsyncIterator[ReadModel]:
    settings = stack_settings(tmp_path).model_copy(update={"temporal_task_queue": task_queue})
    read_model = ReadModel(settings.database_url)
    read_model.create_schema()
    with ThreadPoolExecutor(ACTIVITY_THREADS) as executor:
        async with build_worker(env.client, settings, read_model, executor, PolicyFile(policy)):
            try:
                yield read_model
            finally:
                await end_workflows(env, read_model)
    read_model.dispose()


async def start(env: WorkflowEnvironment, f: ComplaintFiling, task_queue: str) -> WorkflowHandle:
    return await env.client.start_workflow(
        ComplaintWorkflow.run, f, id=complaint_workflow_id(f.complaint_id), task_queue=task_queue
    )


async def first_contact(handle: WorkflowHandle) -> Clock:
    # The clock exists once the first workflow task has asked the calendar; a query may come sooner.
    async def started() -> Clock | None:
        return next((c for c in await handle.query(ComplaintWorkflow.clocks) if c.name == "first_contact"), None)

    return await settled(started, "the first-contact clock never started")


def friday_evening(env_now: datetime) -> tuple[datetime, datetime]:
    friday = next_plain_friday(env_now)
    received = datetime.combine(friday, time(17, 30), SHANGHAI)
    monday_0930 = datetime.combine(friday + timedelta(days=3), time(9, 30), SHANGHAI)
    return received, monday_0930


async def test_a_clock_started_friday_1730_fires_monday_0930(time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    queue = f"clocks-{uuid.uuid4().hex[:8]}"
    received, monday_0930 = friday_evening(await time_env.get_current_time())
    async with complaint_worker(time_env, tmp_path, queue) as read_model:
        handle = await start(time_env, filing(received), queue)
        clock = await first_contact(handle)
        assert clock.due == monday_0930
        assert clock.due_local == monday_0930.strftime("%Y-%m-%d 09:30")

        await time_env.sleep(monday_0930 - await time_env.get_current_time() - timedelta(minutes=1))
        assert (await first_contact(handle)).overdue_at is None  # a minute before: still running
        await time_env.sleep(timedelta(minutes=2))

        overdue = (await first_contact(handle)).overdue_at
        assert overdue is not None and abs(overdue - monday_0930) < timedelta(seconds=1)
        _, events = read_model.complaints.get(handle.id.removeprefix("complaint-"))  # type: ignore[misc]
        assert [e.action for e in events][-1] == "clock_overdue"
        # the Web UI shows the timer by name and due time
        summaries = await timer_summaries(handle)
        assert f"first contact due {monday_0930:%Y-%m-%d} 09:30" in summaries


async def test_first_contact_in_time_stops_the_clock(time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    queue = f"clocks-{uuid.uuid4().hex[:8]}"
    received, monday_0930 = friday_evening(await time_env.get_current_time())
    async with complaint_worker(time_env, tmp_path, queue):
        handle = await start(time_env, filing(received), queue)
        await time_env.sleep(received - await time_env.get_current_time() + timedelta(minutes=10))

        await handle.execute_update(
            ComplaintWorkflow.record_first_contact,
            RecordFirstContact(actor=AGENT, apology="We are sorry", why_it_matters="Your papers are urgent", first_direction="We chase the station"),
        )
        await time_env.sleep(monday_0930 - await time_env.get_current_time() + timedelta(hours=1))

        clock = await first_contact(handle)
        assert clock.met_at is not None and clock.overdue_at is None


async def test_a_calendar_change_never_moves_a_running_cases_deadline(time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    """Deadlines come from an activity recorded in history: after the policy file gains a closure
    on that Monday, the running case replays unchanged and fires at the old instant, while a new
    case filed now uses the new calendar (the worker re-reads the changed file)."""
    queue = f"clocks-{uuid.uuid4().hex[:8]}"
    received, monday_0930 = friday_evening(await time_env.get_current_time())
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    async with complaint_worker(time_env, tmp_path, queue, policy_file):
        running = await start(time_env, filing(received), queue)
        assert (await first_contact(running)).due == monday_0930

        # The organisation declares that Monday a closure (a typhoon day).
        changed = yaml.safe_load(policy_file.read_text(encoding="utf-8"))
        changed["calendars"]["office"]["extra_closures"] = [monday_0930.date().isoformat()]
        policy_file.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
        os.utime(policy_file, ns=(time_ns(), time_ns() + 1_000_000))  # a new stamp even on coarse clocks

        new_case = await start(time_env, filing(received), queue)
        assert (await first_contact(new_case)).due == monday_0930 + timedelta(days=1)  # Tuesday 09:30

        await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(
            await running.fetch_history()
        )
        await time_env.sleep(monday_0930 - await time_env.get_current_time() + timedelta(minutes=1))
        clock = await first_contact(running)
        assert clock.due == monday_0930
        assert clock.overdue_at is not None and abs(clock.overdue_at - monday_0930) < timedelta(seconds=1)
        assert (await first_contact(new_case)).overdue_at is None


async def timer_summaries(handle: WorkflowHandle) -> list[str]:
    summaries = []
    for event in (await handle.fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED and event.user_metadata.HasField("summary"):
            summaries.append((await DATA_CONVERTER.decode([event.user_metadata.summary], [str]))[0])
    return summaries


