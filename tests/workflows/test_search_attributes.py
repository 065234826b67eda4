"""Operations find complaints in the Web UI by their search attributes (dev server visibility)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack
from tests.factories import complaint_body, urgent_body
from workflows.case import CaseSearch


async def workflow_ids(client: Client, query: str, expected: int) -> set[str]:
    # Visibility is written asynchronously by the server: poll until the count settles (bounded).
    found: set[str] = set()
    for _ in range(100):
        found = {wf.id async for wf in client.list_workflows(query)}
        if len(found) >= expected:
            break
        await asyncio.sleep(0.05)
    return found


async def test_a_complaint_is_found_by_urgency_and_status(stack: Stack) -> None:
    queue = stack.settings.temporal_task_queue
    urgent = await file(stack, urgent_body())
    general = await file(stack, complaint_body())
    await act(stack, urgent["complaint_id"], "handling", {})
    await act(stack, general["complaint_id"], "handling", {})

    found = await workflow_ids(
        stack.env.client, f"TaskQueue = '{queue}' AND Urgency = 'urgent' AND ComplaintStatus = 'in_handling'", 1
    )

    assert found == {urgent["workflow_id"]}


async def test_search_attributes_carry_the_classification_and_no_personal_data(stack: Stack) -> None:
    created = await file(stack, urgent_body(channel="app", tracking_number="EX1234567890CN"))
    handle = stack.env.client.get_workflow_handle(created["workflow_id"])

    desc = await handle.describe()
    ours = {key.name for key in CaseSearch.ALL}  # Temporal adds its own (BuildIds, TemporalChangeVersion)
    attrs = {p.key.name: p.value for p in desc.typed_search_attributes if p.key.name in ours}

    assert attrs == {
        "ComplaintId": created["complaint_id"],
        "ComplaintStatus": "classified",
        "Category": "delay",
        "Urgency": "urgent",
        "Level": 2,
        "Channel": "app",
        "TrackingNumber": "EX1234567890CN",
    }
    assert "13800138000" not in repr(attrs) and "Li Na" not in repr(attrs)
    summary, details = await desc.static_summary(), await desc.static_details()
    assert summary.startswith(f"Complaint {created['complaint_id']}: delay · urgent · level 2")
    assert "urgent_papers: passport" in details and "13800138000" not in details


async def test_status_is_upserted_on_every_transition(stack: Stack) -> None:
    created = await file(stack, complaint_body())
    cid = created["complaint_id"]
    await act(stack, cid, "first-contact-answer", {"answer": "answered"})

    found = await workflow_ids(stack.env.client, f"ComplaintId = '{cid}' AND ComplaintStatus = 'closed'", 1)

    assert found == {created["workflow_id"]}
