"""A long complaint continues as new with everything it carries (ComplaintCarryOver): the new run
behaves as the old one would have, field by field, on the time-skipping server.

The case is a delay complaint led by the Guangdong office (office calendar, Mon–Fri 8–18), received
on a plain week's Monday at 09:00, with `continue_as_new_after_events` at 50 so that the answer to
its ticket (the last open dispatch) lets it continue as new at once. In the first run it gets a
returned and then answered ticket, a missed progress update with the automatic text beside it, a
complex-case plan carried out, a linked duplicate and a dissatisfied call-back. Each assertion on the
new run names the carried field it would lose.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from rules.actors import Actor, Role
from tests.protection.keys import DATA_CONVERTER
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_clocks import filing, start
from tests.workflows.test_customer_clocks import CUSTOMER_PHONE, until
from tests.workflows.test_dispatches import desk, dispatch, plain_monday, raise_, reply, skip_to  # noqa: F401 (fixture)
from tests.waiting import eventually
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import (
    AgreePlan,
    CompleteAction,
    ConfirmWithCustomer,
    LinkDuplicate,
    MakeComplex,
    PlannedAction,
    RecordCallback,
    RecordCoordinationMeeting,
    TakeIntoHandling,
)
from workflows.dispatch_messages import DispatchResult
from workflows.judgement_messages import JudgementOpening, judgement_workflow_id

AGENT = Actor(id="gd-chen", name="Chen Jing", role=Role.REGIONAL_CS, unit="gd")
SUPERVISOR = Actor(id="gd-sup", name="Lin Fang", role=Role.SUPERVISOR, unit="gd")
TICKET_FINDING = "The Guangzhou depot held the parcel two days for a missing label; relabelled and sent on."


def at(monday: datetime, hour: int, minute: int = 0) -> datetime:
    return monday.replace(hour=hour, minute=minute)


async def new_run(stack: Stack, handle: WorkflowHandle, first_run: str) -> str:
    """Wait until the complaint has continued as new; the new run's id."""
    async def run_id() -> str | None:
        current = (await handle.describe()).run_id
        return current if current != first_run else None

    return await eventually(stack.env, run_id, "the complaint never continued as new")


async def current_details(handle: WorkflowHandle) -> str:
    metadata = await handle.query("__temporal_workflow_metadata")
    return metadata.current_details  # type: ignore[no-any-return]


def warned(stack: Stack, cid: str, clock: str) -> bool:
    found = stack.read_model.complaints.get(cid)
    return found is not None and any(e.action == "clock_warning" and (e.detail or {}).get("clock") == clock
                                     for e in found[1])


def timeline_actions(stack: Stack, cid: str) -> list[str]:
    found = stack.read_model.complaints.get(cid)
    assert found is not None
    return [e.action for e in found[1]]


def missed(stack: Stack, cid: str) -> int:
    row = stack.read_model.complaints.find(cid)
    assert row is not None
    return row.missed_clocks


async def test_a_case_continued_as_new_carries_everything_and_closes_into_its_judgement(
    desk: tuple[Stack, SmsGateway],
) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    await skip_to(stack.env, at(monday, 9))
    f = filing(at(monday, 9)).model_copy(update={"continue_as_new_after_events": 50})
    cid = f.complaint_id
    handle = await start(stack.env, f, stack.settings.temporal_task_queue)
    await until(stack.env, lambda: stack.read_model.complaints.find(cid) is not None)
    first_run = (await handle.describe()).run_id

    # -- the first run ---------------------------------------------------------------------------
    await skip_to(stack.env, at(monday, 9, 1))
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    # A ticket to the Guangzhou office, open until 12:30: while it is open the case cannot continue as new.
    ticket = await open_ticket(stack, cid)
    assert ticket == f"dispatch-{cid}-1"
    await dispatch(stack, ticket)
    returned = await reply(stack, ticket, "正在处理", role="regional_cs")
    assert returned["outcome"] == "returned"  # a returned reply: no longer a one-time resolution

    await skip_to(stack.env, at(monday, 9, 30))
    await handle.execute_update(ComplaintWorkflow.make_complex, MakeComplex(actor=SUPERVISOR, reason="depot and station"))
    await handle.execute_update(ComplaintWorkflow.record_coordination_meeting, RecordCoordinationMeeting(
        actor=SUPERVISOR, held_at=at(monday, 9, 20), departments=["gd-gz", "gd"], attendees=["Lin Fang", "Deng Chao"],
        findings="The depot's scan shows the parcel held for a missing label"))
    await handle.execute_update(ComplaintWorkflow.agree_plan, AgreePlan(actor=SUPERVISOR, actions=[
        PlannedAction(department="gd-gz", owner="Deng Chao", description="relabel and send on", due=at(monday, 15))]))
    duplicate = LinkDuplicate(actor=AGENT, key="C-DUP-WEB-1", channel="web", received_at=at(monday, 9, 25))
    await handle.execute_update(ComplaintWorkflow.link_duplicate, duplicate)

    # Nobody updated the customer within 2 working hours of taking the case (09:01 → 11:01): a missed
    # clock, and the automatic text (policy automatic_progress_text) beside it: the customer's first.
    await skip_to(stack.env, at(monday, 11, 2))
    await until(stack.env, lambda: missed(stack, cid) >= 1 and len(texts_to_customer(gateway)) == 1)

    await skip_to(stack.env, at(monday, 12))
    # 12:00 is also 75 % of the solution clock (09:00 → 13:00): its warning is written before the
    # agent's step goes in (the time-skipping server fails a task that takes an update while it
    # waits on a local activity; test_customer_clocks.py says more).
    await until(stack.env, lambda: warned(stack, cid, "solution"))
    await handle.execute_update(ComplaintWorkflow.complete_action, CompleteAction(
        actor=SUPERVISOR, number=1, outcome="relabelled, out for delivery"))  # the last action resolves the case
    await skip_to(stack.env, at(monday, 12, 5))
    await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
        actor=AGENT, message="Your parcel is out for delivery", medium="sms"))
    await skip_to(stack.env, at(monday, 12, 10))
    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
        actor=AGENT, satisfied=False, customer_words="还是没收到"))  # round 1, in handling again

    await skip_to(stack.env, at(monday, 12, 30))
    answered = await reply(stack, ticket, TICKET_FINDING, role="regional_cs", failing_link="depot sorting")
    assert answered["outcome"] == "accepted"
    # No dispatch open any more and the history is past 50 events: the next run starts from the state.
    second_run = await new_run(stack, handle, first_run)
    before = stack.env.client.get_workflow_handle(handle.id, run_id=first_run)
    after = stack.env.client.get_workflow_handle(handle.id, run_id=second_run)

    # -- the new run, field by field ------------------------------------------------------------
    old_state, new_state = await before.query(ComplaintWorkflow.state), await after.query(ComplaintWorkflow.state)
    # status, seq, handling_round, one_time_resolution
    assert new_state == old_state
    assert (new_state.status, new_state.handling_round, new_state.one_time_resolution) == ("in_handling", 1, False)
    # clocks: the met, missed and running ones alike (the ticket's first opinion, the plan's action, ...)
    assert await after.query(ComplaintWorkflow.clocks) == await before.query(ComplaintWorkflow.clocks)
    # plan
    old_plan = await before.query(ComplaintWorkflow.plan)
    assert await after.query(ComplaintWorkflow.plan) == old_plan and [a.number for a in old_plan] == [1]
    # runs: one run came before this one
    assert "run 2" in await current_details(after) and "run 2" not in await current_details(before)

    # missed in the first run: the ticket's first opinion (60 min on the Guangzhou office's calendar
    # from 09:01 → 10:01, its only reply by then returned), first contact (2 working hours from 09:00
    # → 11:00, never recorded) and the progress update owed at 11:01
    missed_before = missed(stack, cid)
    assert missed_before == 3
    written = len(timeline_actions(stack, cid))

    # linked_duplicates: the same duplicate again (a retry) links once, in whichever run it arrives
    await handle.execute_update(ComplaintWorkflow.link_duplicate, duplicate)
    assert timeline_actions(stack, cid).count("link_duplicate") == 1
    # complex_case, meeting_recorded and plan: a further plan action is agreed (only for a complex case
    # whose meeting is recorded, the earlier actions all done), numbered after the first
    await skip_to(stack.env, at(monday, 13))
    await handle.execute_update(ComplaintWorkflow.agree_plan, AgreePlan(actor=SUPERVISOR, actions=[
        PlannedAction(department="gd", owner="Lin Fang", description="call the customer with the courier's time",
                      due=at(monday, 17))]))
    assert [a.number for a in await handle.query(ComplaintWorkflow.plan)] == [1, 2]
    row = stack.read_model.complaints.find(cid)
    assert row is not None and row.complex_case is True
    # missed_clocks: the new run's writes carry the count on, not from zero
    assert row.missed_clocks == missed_before
    # seq: the new run's entries follow the old run's, one timeline with nothing overwritten
    found = stack.read_model.complaints.get(cid)
    assert found is not None
    seqs = [e.seq for e in found[1]]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == written + 1

    # dispatches_raised: a dispatch raised in the new run takes the next number, not -1 again
    direct = await raise_(stack, cid, "gd-gz-tianhe")
    assert direct == f"dispatch-{cid}-2"
    await dispatch(stack, direct)
    await reply(stack, direct, "The courier left the parcel at the depot; redelivered at 13:20.", role="production_unit")

    # progress_updates: the reopened round owes an update 2 working hours after the dissatisfied
    # call-back (12:10 → 14:10) and nobody gives it: the customer's second automatic text is numbered
    # 2 and reaches the handset (a repeated number would pass for the first text and never be sent).
    await skip_to(stack.env, at(monday, 14, 11))
    await until(stack.env, lambda: len(texts_to_customer(gateway)) == 2)
    assert missed(stack, cid) == missed_before + 1

    # finished_dispatches: closing sends the ticket answered in the first run to the judgement
    await skip_to(stack.env, at(monday, 14, 30))
    await handle.execute_update(ComplaintWorkflow.complete_action, CompleteAction(
        actor=AGENT, number=2, outcome="customer called"))
    await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
        actor=AGENT, message="Delivered", medium="sms"))
    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
        actor=AGENT, satisfied=True, customer_words="收到了"))
    outcome = await handle.result()
    assert (outcome.status, outcome.handling_round, outcome.one_time_resolution) == ("closed", 1, False)
    opening = await judgement_opening(stack, cid)
    assert [(x.dispatch_id, x.kind, x.unit, x.finding, x.failing_link) for x in opening.findings] == [
        (ticket, "ticket", "gd-gz", TICKET_FINDING, "depot sorting"),
        (direct, "direct_dispatch", "gd-gz-tianhe", "The courier left the parcel at the depot; redelivered at 13:20.",
         None),
    ]
    # answered_dispatches: the ticket answered in the first run took a return by hand until now, a
    # child of that run only; the closing in this run ends it all the same, its answer standing.
    ended = await stack.env.client.get_workflow_handle(ticket, result_type=DispatchResult).result()
    assert (ended.dispatch.status.value, ended.dispatch.finding) == ("answered", TICKET_FINDING)
    assert (await stack.env.client.get_workflow_handle(direct).describe()).status.name == "COMPLETED"


def texts_to_customer(gateway: SmsGateway) -> list[dict]:
    return [m for m in gateway.handset if m["to"] == CUSTOMER_PHONE]


async def open_ticket(stack: Stack, cid: str) -> str:
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd-gz", "instruction": "Find where the parcel stopped"})
    assert resp.status_code == 201, resp.text
    return resp.json()["dispatch_id"]


async def judgement_opening(stack: Stack, cid: str) -> JudgementOpening:
    history = await stack.env.client.get_workflow_handle(judgement_workflow_id(cid)).fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    return (await DATA_CONVERTER.decode([payload], [JudgementOpening]))[0]  # type: ignore[no-any-return]
