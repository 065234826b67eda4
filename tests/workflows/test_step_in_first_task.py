"""A step that reaches a complaint in its very first workflow task — the case was filed while no worker
ran and the agent took it into handling at once — is a step like any other: its timeline row is kept
and the clocks run as they do for a case taken later (the fault suite found the row dropped and the clock left
running: the update ran before `run` had laid out the opening, took seq 3 and was written over)."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType

from tests.api.test_complaint_lifecycle import file, timeline
from tests.conftest import Stack, auth


async def update_in_first_task(stack: Stack, complaint_id: str) -> bool:
    """Whether the case's first completed workflow task is the one that accepted the update."""
    tasks_done = 0
    for event in (await stack.env.client.get_workflow_handle(f"complaint-{complaint_id}").fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks_done += 1
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            return tasks_done == 1
    return False


async def test_taking_a_case_filed_while_no_worker_ran_keeps_the_step_and_meets_first_contact(stack: Stack) -> None:
    await stack.stop_worker()
    cid = (await file(stack))["complaint_id"]  # started: its first workflow task waits for a worker
    taking = asyncio.create_task(stack.http.post(f"/complaints/{cid}/handling", json={"note": "calling the customer"},
                                                 headers=auth("front_seat")))
    # The update must be at the server before a worker polls, so both arrive in one task; the
    # request is on loopback, a few milliseconds. Checked below, so a lost race fails the test.
    await asyncio.sleep(1)
    await stack.start_worker()
    resp = await taking
    assert resp.status_code == 200, resp.text
    assert await update_in_first_task(stack, cid), "the update came in a later task: the race this test needs was lost"

    # The same rows as a case taken in a later task (tests/api/test_complaint_lifecycle.py): the
    # opening's two clocks, then the step.
    assert await timeline(stack, cid) == [
        ("receive", None, "received"),
        ("classify", "received", "classified"),
        ("start_clock", "classified", "classified"),  # first contact
        ("start_clock", "classified", "classified"),  # the solution, owed from receipt
        ("take_into_handling", "classified", "in_handling"),
    ]
    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert [e["seq"] for e in detail["timeline"]] == [1, 2, 3, 4, 5]
    # Taking the case starts the progress clock; first contact runs on until the agent records it.
    assert {c["name"] for c in detail["clocks"]} >= {"first_contact", "solution", "progress_update"}

    resp = await stack.http.post(f"/complaints/{cid}/first-contact", headers=auth("front_seat"), json={
        "apology": "We are sorry", "why_it_matters": "Your documents are urgent", "first_direction": "Station called"})
    assert resp.status_code == 200, resp.text
    clocks = {c["name"]: c for c in (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["clocks"]}
    assert clocks["first_contact"]["met_at"] is not None
