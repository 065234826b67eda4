"""The retention run on the time-skipping server, started as its schedule starts it (the test server
has no Schedules: their creation is checked on the dev server, tests/ops/test_retention_schedule.py):
a complaint closed more than the policy's 365 days before the run loses its customer's data, one
closed 170 days before keeps it, and the audit log names the schedule's system actor."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from ops.namespace import RETENTION_SCHEDULE_ID, retention_schedule
from rules.policy import load_policy
from settings import ROOT
from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from workflows.retention import RETENTION_ACTOR, RetentionReport

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
LI_NA = {"name": "李娜", "phone": "13800138000", "tier": "standard"}
ZHAO = {"name": "赵雷", "phone": "13600136000", "tier": "standard"}


async def closed_complaint(stack: Stack, complainant: dict) -> str:
    body = complaint_body(complainant=complainant, recipient={"name": complainant["name"], "address": "西湖区文三路90号"},
                          description=f"{complainant['name']}的包裹三天没动，电话{complainant['phone']}")
    cid = (await file(stack, body))["complaint_id"]
    closed = await act(stack, cid, "first-contact-answer", {"answer": "包裹已到西湖站，明天派送"})
    assert closed["status"] == "closed"
    return cid


async def start_as_the_schedule_would(stack: Stack) -> RetentionReport:
    action = retention_schedule(stack.settings).action
    handle = await stack.env.client.start_workflow(
        action.workflow, *action.args, id=f"{action.id}-{RETENTION_SCHEDULE_ID}", task_queue=action.task_queue,
        execution_timeout=action.execution_timeout, result_type=RetentionReport)
    report = await handle.result()
    if target := os.environ.get("RETENTION_HISTORY_OUT"):  # how tests/histories/v7_retention_run.json was recorded
        history = await handle.fetch_history()
        Path(target).write_text(json.dumps({"workflow_id": handle.id, "history": json.loads(history.to_json())}, indent=1))
    return report


async def test_the_scheduled_run_deidentifies_a_case_closed_past_retention_and_not_a_newer_one(time_stack: Stack) -> None:
    assert POLICY.retention.personal_data_days_after_closing == 365
    old = await closed_complaint(time_stack, LI_NA)
    await time_stack.env.sleep(timedelta(days=200))
    newer = await closed_complaint(time_stack, ZHAO)
    # The run comes 370 days after the first closing (past 365) and 170 after the second (within it).
    await time_stack.env.sleep(timedelta(days=170))

    report = await start_as_the_schedule_would(time_stack)

    assert (report.complaints, report.contacts) == (1, 0)
    old_closed = time_stack.read_model.complaints.find(old)
    newer_closed = time_stack.read_model.complaints.find(newer)
    assert old_closed is not None and newer_closed is not None and old_closed.closed_at and newer_closed.closed_at
    assert old_closed.closed_at < report.cutoff < newer_closed.closed_at

    assert (old_closed.complainant_name, old_closed.complainant_phone, old_closed.recipient["address"]) == (
        "[name]", "[phone]", "[address]")
    assert old_closed.description == "[name]的包裹三天没动，电话[phone]" and old_closed.deidentified_at is not None
    assert (newer_closed.complainant_name, newer_closed.description, newer_closed.deidentified_at) == (
        "赵雷", "赵雷的包裹三天没动，电话13600136000", None)
    # The case itself stays readable, as closed, for the measures and the judgements.
    shown = await time_stack.http.get(f"/complaints/{old}", headers=auth("supervisor"))
    assert shown.status_code == 200, shown.text
    assert (shown.json()["status"], shown.json()["category"]) == ("closed", "delay")
    assert [value for value in ("李娜", "13800138000", "文三路90号") if value in shown.text] == []

    audit = (await time_stack.http.get("/audit", params={"action": "deidentify"}, headers=auth("auditor"))).json()
    assert [(e["case_id"], e["actor_id"], e["role"], e["unit"]) for e in audit["items"]] == [
        (old, RETENTION_ACTOR.id, "operations", "hq")]


async def test_a_run_with_nothing_past_retention_changes_nothing(time_stack: Stack) -> None:
    recent = await closed_complaint(time_stack, LI_NA)
    await time_stack.env.sleep(timedelta(days=364))  # a day inside the 365

    report = await start_as_the_schedule_would(time_stack)

    assert (report.complaints, report.contacts) == (0, 0)
    row = time_stack.read_model.complaints.find(recent)
    assert row is not None and row.complainant_name == "李娜" and row.deidentified_at is None
    assert time_stack.read_model.audit.page()[1] == 0
