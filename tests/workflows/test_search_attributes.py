"""Operations find cases in the Web UI by their search attributes (dev server visibility)."""

from __future__ import annotations

from temporalio.client import Client

from tests.api.test_complaint_lifecycle import act, file
from tests.api.test_contacts import desk as desk_contacts  # noqa: F401 (fixture: ends the contacts left open)
from tests.api.test_contacts import file as file_contact, post
from tests.conftest import Stack, auth
from tests.factories import complaint_body, urgent_body
from tests.workflows.test_dispatches import complaint_in_handling, dispatch, raise_, reply
from tests.workflows.test_judgement_at_closing import close_with_a_satisfied_customer
from workflows.case import CaseSearch
from workflows.judgement_messages import judgement_workflow_id
from tests.waiting import settled


async def workflow_ids(client: Client, query: str, expected: int) -> set[str]:
    # Visibility is written asynchronously by the server: poll until the count settles (bounded).
    found: set[str] = set()

    async def enough() -> bool:
        nonlocal found
        found = {wf.id async for wf in client.list_workflows(query)}
        return len(found) >= expected

    try:
        await settled(enough, "visibility never listed them", seconds=20, every=0.05)
    except AssertionError:
        pass  # the caller's assertion names what was found
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


async def test_every_execution_of_one_case_is_found_by_its_complaint_id(stack: Stack) -> None:
    """`ComplaintId = 'C…'` in the Web UI lists the complaint, its dispatches and its judgement."""
    cid = await complaint_in_handling(stack)
    direct = await raise_(stack, cid, "gd-gz")
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd-gz", "instruction": "Find the parcel"})
    assert resp.status_code == 201, resp.text
    ticket = resp.json()["dispatch_id"]
    await dispatch(stack, ticket)
    await reply(stack, ticket, ("The Tianhe station courier left the parcel at the depot on Monday 09:00;"
                                 " it was redelivered Wednesday 10:00."),
                role="regional_cs", failing_link="delivery")
    await close_with_a_satisfied_customer(stack, cid)  # an answered ticket: the judgement opens
    await stack.env.client.get_workflow_handle(f"complaint-{cid}").result()

    found = await workflow_ids(stack.env.client, f"ComplaintId = '{cid}'", 4)

    assert found == {f"complaint-{cid}", direct, ticket, judgement_workflow_id(cid)}


async def test_a_contact_is_found_by_its_own_id_and_status(desk_contacts: Stack) -> None:
    stack = desk_contacts
    created = await file_contact(stack)
    kid = created["contact_id"]
    await post(stack, f"/contacts/{kid}/hand-over", {"unit": "gd", "note": "the owning department"})

    by_contact = await workflow_ids(stack.env.client, f"ContactId = '{kid}' AND ContactStatus = 'handed_over'", 1)
    # the names contacts were written under before, for saved queries
    by_old_names = await workflow_ids(stack.env.client, f"ComplaintId = '{kid}' AND ComplaintStatus = 'handed_over'", 1)

    assert by_contact == by_old_names == {f"contact-{kid}"}
