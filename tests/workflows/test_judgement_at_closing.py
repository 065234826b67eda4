"""Closing a complaint whose ticket was answered opens its responsibility judgement (DOMAIN §7),
which runs on after the complaint's own workflow has completed."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from tests.api.test_complaint_lifecycle import act
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_dispatches import complaint_in_handling, desk, dispatch, reply  # noqa: F401 (fixture)
from workflows.judgement import JUDGEMENT_PATCHES
from workflows.judgement_messages import JudgementOpening, judgement_workflow_id


async def close_with_a_satisfied_customer(stack: Stack, cid: str) -> None:
    await act(stack, cid, "resolution", {"solution": "Found at the Guangzhou depot and redelivered"})
    await act(stack, cid, "customer-confirmation", {"message": "Redelivered today", "medium": "sms"})
    await act(stack, cid, "callback", {"satisfied": True, "customer_words": "收到了，谢谢"})


async def test_an_answered_ticket_leaves_a_judgement_running_after_the_complaint_closed(
    desk: tuple[Stack, SmsGateway],
) -> None:
    stack, _ = desk
    cid = await complaint_in_handling(stack)
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd-gz", "instruction": "Find the parcel"})
    assert resp.status_code == 201, resp.text
    tid = resp.json()["dispatch_id"]
    await dispatch(stack, tid)
    answer = await reply(stack, tid, "The Tianhe station courier left the parcel at the depot from 3 to 5 March."
                         " The scans show no delivery attempt before 5 March 10:12.",
                         role="regional_cs", failing_link="delivery")
    assert answer["outcome"] == "accepted"

    await close_with_a_satisfied_customer(stack, cid)

    complaint = stack.env.client.get_workflow_handle(f"complaint-{cid}")
    assert (await complaint.result())["status"] == "closed"
    handle = stack.env.client.get_workflow_handle(judgement_workflow_id(cid))
    judgement = await handle.describe()
    assert judgement.status == WorkflowExecutionStatus.RUNNING  # outlives the complaint
    assert (await complaint.describe()).status == WorkflowExecutionStatus.COMPLETED
    # opened on today's code: built with every judgement patch, so it never asks for one
    started = (await handle.fetch_history()).events[0].workflow_execution_started_event_attributes
    [opening] = await stack.env.client.data_converter.decode(started.input.payloads, [JudgementOpening])
    assert opening.built_with == list(JUDGEMENT_PATCHES)


async def test_a_complaint_without_a_ticket_has_no_judgement(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid = await complaint_in_handling(stack)
    await close_with_a_satisfied_customer(stack, cid)
    await stack.env.client.get_workflow_handle(f"complaint-{cid}").result()
    listed = [e.event_type for e in (await stack.env.client.get_workflow_handle(f"complaint-{cid}").fetch_history()).events]
    assert EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED not in listed
