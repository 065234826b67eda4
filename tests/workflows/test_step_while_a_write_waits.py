"""An agent's step that reaches a complaint while the workflow waits on a read-model write (a local
activity) is taken and kept like any other, on the Temporal dev server (what `make run` runs).

The time-skipping test server fails such a workflow task ("invalid history builder state for
action") and the step never completes (tests/workflows/test_customer_clocks.py works around it); this
is the same coincidence on the real server. The read model's SQLite file is locked by the test, so
the first step's write waits (its local activity retries inside the workflow task, which the worker
heartbeats); the second step arrives meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3

from temporalio.api.enums.v1 import EventType

from rules.actors import Actor, Role
from tests.api.test_complaint_lifecycle import file, timeline
from tests.conftest import Stack
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import RecordFirstContact, TakeIntoHandling

AGENT = Actor(id="front-wang", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre")
LOCKED_SECONDS = 12  # longer than a local activity's 10 s try and a workflow task's heartbeat (8 s)


async def test_a_step_taken_while_the_previous_steps_write_waits_is_kept(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    handle = stack.env.client.get_workflow_handle(f"complaint-{cid}")

    lock = sqlite3.connect(stack.settings.database_url.split("///", 1)[1], isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # every writer waits: the API's and the worker's
    try:
        taking = asyncio.create_task(handle.execute_update(ComplaintWorkflow.take_into_handling,
                                                           TakeIntoHandling(actor=AGENT)))
        await asyncio.sleep(2)  # the first step is in, its write waiting on the lock
        contact = asyncio.create_task(handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
            actor=AGENT, apology="We are sorry", why_it_matters="Your papers are urgent", first_direction="Station called")))
        await asyncio.sleep(LOCKED_SECONDS)
        assert not taking.done() and not contact.done()  # neither step could be written yet
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    await asyncio.wait_for(asyncio.gather(taking, contact), 60)

    # The coincidence this test is for: the second step was accepted while the first still waited.
    order = [e.event_type for e in (await handle.fetch_history()).events
             if e.event_type in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)]
    accepted, completed = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    assert order[:2] == [accepted, accepted], f"the second step came after the first was written: {order}"
    # Both steps on the timeline, in the order they were taken, each once.
    steps = {"take_into_handling", "record_first_contact"}
    assert [(action, to) for action, _, to in await timeline(stack, cid) if action in steps] == [
        ("take_into_handling", "in_handling"),
        ("record_first_contact", "in_handling"),
    ]
    assert order == [accepted, accepted, completed, completed]
