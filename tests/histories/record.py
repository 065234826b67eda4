"""Record complaint histories for the replay tests: `.venv/bin/python -m tests.histories.record`.

Keep old recordings when the workflow changes: each file is a case that may still be running in
production, and the current code must replay it (use workflow.patched for changes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from temporal_client import DATA_CONVERTER
from tests.conftest import TEST_SERVER, register_search_attributes
from tests.workflows.test_clocks import AGENT, complaint_worker, filing, first_contact, friday_evening, start
from workflows.complaint import ComplaintWorkflow
from workflows.shared import ConfirmWithCustomer, RecordCallback, RecordFirstContact, Resolve, TakeIntoHandling

HERE = Path(__file__).parent


async def record(version: str) -> None:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER)
    await register_search_attributes(env.client)
    queue = f"record-{uuid.uuid4().hex[:6]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with complaint_worker(env, Path(tmp), queue):
                received, monday = friday_evening(await env.get_current_time())

                # A case reopened once by a dissatisfied customer, then closed.
                handle = await start(env, filing(received), queue)
                await env.sleep(received - await env.get_current_time() + timedelta(minutes=5))
                await handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
                    actor=AGENT, apology="sorry", why_it_matters="urgent papers", first_direction="chasing the station"))
                await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
                for satisfied in (False, True):
                    await handle.execute_update(ComplaintWorkflow.resolve, Resolve(actor=AGENT, solution="redelivered"))
                    await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
                        actor=AGENT, message="done", medium="sms"))
                    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
                        actor=AGENT, satisfied=satisfied, customer_words="ok" if satisfied else "still broken"))
                await handle.result()
                save(f"{version}_reopened_then_closed", handle.id, await handle.fetch_history())

                # A case whose first-contact clock ran out over the weekend.
                late = await start(env, filing(received), queue)
                await first_contact(late)
                await env.sleep(monday - await env.get_current_time() + timedelta(minutes=1))
                assert (await first_contact(late)).overdue_at is not None
                save(f"{version}_first_contact_overdue", late.id, await late.fetch_history())
    finally:
        await env.shutdown()


def save(name: str, workflow_id: str, history) -> None:  # type: ignore[no-untyped-def]
    path = HERE / f"{name}.json"
    path.write_text(json.dumps({"workflow_id": workflow_id, "history": json.loads(history.to_json())}, indent=1))
    print(f"recorded {path.relative_to(HERE.parent.parent)} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1"))
