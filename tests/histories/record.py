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
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.protection.keys import DATA_CONVERTER
from tests.conftest import TEST_SERVER, register_search_attributes
from tests.workflows.test_clocks import AGENT, complaint_worker, filing, first_contact, friday_evening, start
from workflows.complaint import ComplaintWorkflow
from activities.calendar import deadline_for
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import dispatch_terms, resolve_ladder
from rules.reply_checks import Reply
from rules.policy import load_policy
from settings import ROOT
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from workflows.dispatch import DispatchWorkflow
from workflows.complaint_messages import (
    AgreePlan,
    CloseUnresolvable,
    CompleteAction,
    ConfirmWithCustomer,
    ExtendSolutionClock,
    MakeComplex,
    PlannedAction,
    RecordCallback,
    RecordCoordinationMeeting,
    RecordFirstContact,
    RecordProgressUpdate,
    Resolve,
    TakeIntoHandling,
)
from workflows.deadlines import DeadlineRequest
from workflows.dispatch_messages import RaiseDispatch, ReplyToDispatch, ReturnReply, ReviewUrgentTicket
from workflows.judgement import JudgementWorkflow
from workflows.judgement_messages import (AppealJudgement, DecideAppeal, EditJudgementDraft, NameFault, SendJudgement,
                                          judgement_workflow_id)
from rules.intake import EvidenceRef

HERE = Path(__file__).parent


async def _once_taken(env: WorkflowEnvironment, handle: WorkflowHandle, update: Any, arg: Any) -> None:
    """Send an update until the workflow takes it: a step it refuses now (its clock or terms not in
    yet) is tried again a moment later on the skipped clock."""
    while True:
        try:
            await handle.execute_update(update, arg)
            return
        except WorkflowUpdateFailedError:
            await env.sleep(timedelta(milliseconds=10))


async def _reopened_then_closed(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A case reopened once by a dissatisfied customer, then closed; its first-contact
    # deadline computed at intake, as the API does (the deadline-at-intake path).
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    opened = filing(received)
    opened = opened.model_copy(update={"first_contact": deadline_for(policy, DeadlineRequest(
        unit=opened.lead_unit, start=received, clock="first_contact", category="delay"))})
    handle = await start(env, opened, queue)
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


async def _first_contact_overdue(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A case whose first-contact clock ran out over the weekend.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    late = await start(env, filing(received), queue)
    await first_contact(late)
    await env.sleep(monday - await env.get_current_time() + timedelta(minutes=1))
    assert (await first_contact(late)).overdue_at is not None
    save(f"{version}_first_contact_overdue", late.id, await late.fetch_history())


async def _dispatch_returned_then_answered(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A case with a direct dispatch: a returned non-answer, then an accepted reply.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    with_dispatch = await start(env, filing(received), queue)
    await with_dispatch.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    dispatch_id = await with_dispatch.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.DIRECT, unit="gd-gz-tianhe", instruction="check the scans",
        ladder=resolve_ladder(policy, "overdue_dispatch", "gd-gz-tianhe"), reply_checks=policy.reply_checks))
    child = env.client.get_workflow_handle(dispatch_id)
    for finding in ("正在处理", "The courier skipped the route on Monday; redelivered Tuesday 10:00."):
        # the child takes replies once its clock runs
        await _once_taken(env, child, DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=Reply(finding=finding)))
    # An answered dispatch stays open to a return by hand until its complaint closes.
    await with_dispatch.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await with_dispatch.result()
    await child.result()
    save(f"{version}_dispatch_returned_then_answered", dispatch_id, await child.fetch_history())
    save(f"{version}_complaint_with_dispatch", with_dispatch.id, await with_dispatch.fetch_history())


async def _complex_case(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A complex case: progress texts, an extended solution clock, a plan with an action done late.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    now = await env.get_current_time()
    complex_case = await start(env, filing(now), queue)
    await complex_case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await complex_case.execute_update(ComplaintWorkflow.record_progress_update, RecordProgressUpdate(
        actor=AGENT, message="the depot is searching", medium="call"))
    await complex_case.execute_update(ComplaintWorkflow.extend_solution_clock, ExtendSolutionClock(
        actor=AGENT, reason="three units must look", medium="call"))
    await complex_case.execute_update(ComplaintWorkflow.make_complex, MakeComplex(actor=AGENT, reason="three units"))
    await complex_case.execute_update(ComplaintWorkflow.record_coordination_meeting, RecordCoordinationMeeting(
        actor=AGENT, held_at=now, departments=["gd"], attendees=["Lin"], findings="unsorted at the depot"))
    await complex_case.execute_update(ComplaintWorkflow.agree_plan, AgreePlan(actor=AGENT, actions=[
        PlannedAction(department="gd", owner="Lin", description="search", due=now + timedelta(days=1))]))
    await env.sleep(timedelta(days=3))
    await complex_case.execute_update(ComplaintWorkflow.complete_action, CompleteAction(
        actor=AGENT, number=1, outcome="found"))
    await complex_case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await complex_case.result()
    save(f"{version}_complex_case", complex_case.id, await complex_case.fetch_history())


async def _continued_as_new(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A case open for weeks: its first run ends by continuing as new.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    long_case = await start(env, filing(await env.get_current_time()), queue)
    first_run = (await long_case.describe()).run_id
    await long_case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await env.sleep(timedelta(days=25))
    await long_case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await long_case.result()
    save(f"{version}_continued_as_new", long_case.id,
         await env.client.get_workflow_handle(long_case.id, run_id=first_run).fetch_history())


async def _ticket_escalated_then_answered(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A normal ticket nobody answers: it climbs the whole ladder, then is answered (last:
    # the judgement it opens at closing keeps running).
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, monday = friday_evening(await env.get_current_time())
    with_ticket = await start(env, filing(await env.get_current_time()), queue)
    await with_ticket.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    ticket_id = await with_ticket.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.TICKET, unit="gd", instruction="find the failing link",
        ladder=resolve_ladder(policy, "normal_ticket", "gd"), reply_checks=policy.reply_checks))
    await env.sleep(timedelta(days=9))
    ticket = env.client.get_workflow_handle(ticket_id)
    await ticket.execute_update(DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=Reply(
        finding="The Tianhe station mis-sorted the parcel on Monday; it was redelivered Friday.")))
    # An answered dispatch stays open to a return by hand until its complaint closes.
    await with_ticket.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await with_ticket.result()
    await ticket.result()
    save(f"{version}_ticket_escalated_then_answered", ticket_id, await ticket.fetch_history())

async def _judgement_appealed_then_decided(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A ticket answered and the case closed: its judgement is edited, sent, appealed with the
    # four-party statement, upheld at fault by arbitration, and the smallest unit named.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    ticket_id = await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.TICKET, unit="gd-gz", instruction="find the failing link",
        ladder=resolve_ladder(policy, "normal_ticket", "gd-gz"), reply_checks=policy.reply_checks))
    ticket = env.client.get_workflow_handle(ticket_id)
    reply = Reply(finding="The Tianhe station mis-sorted the parcel to Shenzhen on Monday 10:00; it was lost"
                          " in the Shenzhen depot and found on Wednesday after a search of the cages.",
                  failing_link="sorting at the Tianhe station",
                  evidence=[EvidenceRef(kind="search_record", reference="scan/TH-0042")])
    # the ticket takes replies once its clock runs
    await _once_taken(env, ticket, DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=reply))
    # An answered dispatch stays open to a return by hand until its complaint closes.
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    await ticket.result()
    judgement = env.client.get_workflow_handle(judgement_workflow_id(case.id.removeprefix("complaint-")))
    # the judgement takes edits once its terms are looked up
    await _once_taken(env, judgement, JudgementWorkflow.edit_draft, EditJudgementDraft(
        actor=AGENT, responsible_office="gd", party="station", at_fault_unit="gd-gz-tianhe", fault_type="loss"))
    await judgement.execute_update(JudgementWorkflow.send, SendJudgement(actor=AGENT))
    await judgement.execute_update(JudgementWorkflow.appeal, AppealJudgement(
        actor=AGENT, reason="the parcel was handed to the carrier sealed",
        evidence=[EvidenceRef(kind="four_party_statement", reference="doc/4P-0042")]))
    await judgement.execute_update(JudgementWorkflow.decide, DecideAppeal(
        actor=AGENT, at_fault=True, reason="the scans show the mis-sort at Tianhe"))
    await judgement.execute_update(JudgementWorkflow.accept, NameFault(
        actor=AGENT, city_branch="gd-gz", failing_link="sorting", smallest_unit="gd-gz-tianhe"))
    await judgement.result()
    save(f"{version}_judgement_appealed_then_decided", judgement.id, await judgement.fetch_history())


async def _urgent_ticket_downgraded_then_returned_by_hand(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # An urgent ticket to a station below Guangzhou: downgraded by the urgent-item group, so it climbs the
    # normal ladder from the key-city rung; answered late, its answer returned by hand, then answered again.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    terms = dispatch_terms(policy, DispatchKind.TICKET, TicketPriority.URGENT, "gd-gz-tianhe")
    ticket_id = await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.TICKET, priority=TicketPriority.URGENT, unit="gd-gz-tianhe",
        instruction="find the failing link", reply_checks=policy.reply_checks, **terms.model_dump()))
    ticket = env.client.get_workflow_handle(ticket_id)
    # the ticket takes its review once its first write is in
    await _once_taken(env, ticket, DispatchWorkflow.review, ReviewUrgentTicket(
        actor=AGENT, confirm=False, reason="the papers were copies"))
    await env.sleep(timedelta(days=4))  # past the due instant and the key-city rung
    answer = Reply(finding="The Tianhe station left the parcel in the cage on Monday 09:00; redelivered Thursday 15:00.",
                   failing_link="sorting at the Tianhe station")
    await ticket.execute_update(DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=answer))
    await ticket.execute_update(DispatchWorkflow.return_reply, ReturnReply(actor=AGENT, reason="say who left it"))
    await ticket.execute_update(DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=answer.model_copy(
        update={"finding": answer.finding + " Courier 17 of the evening shift left it."})))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    await ticket.result()
    save(f"{version}_urgent_ticket_downgraded_then_returned", ticket_id, await ticket.fetch_history())


SCENARIOS = (_reopened_then_closed, _first_contact_overdue, _dispatch_returned_then_answered, _complex_case,
             _continued_as_new, _ticket_escalated_then_answered, _judgement_appealed_then_decided,
             _urgent_ticket_downgraded_then_returned_by_hand)


async def record(version: str, only: str = "") -> None:
    """Each scenario on a time-skipping server of its own: the Java test server can stall (or refuse a
    workflow task with "invalid history builder state") once an earlier scenario's children ended."""
    for scenario in [s for s in SCENARIOS if only in s.__name__]:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER)
        try:
            await register_search_attributes(env.client)
            queue = f"record-{uuid.uuid4().hex[:6]}"
            with tempfile.TemporaryDirectory() as tmp:
                async with complaint_worker(env, Path(tmp), queue):
                    await scenario(env, queue, version)
        finally:
            await env.shutdown()


def save(name: str, workflow_id: str, history) -> None:  # type: ignore[no-untyped-def]
    path = HERE / f"{name}.json"
    path.write_text(json.dumps({"workflow_id": workflow_id, "history": json.loads(history.to_json())}, indent=1))
    print(f"recorded {path.relative_to(HERE.parent.parent)} ({len(history.events)} events)")


if __name__ == "__main__":
    # python -m tests.histories.record VERSION [PART-OF-A-SCENARIO-NAME]
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1", sys.argv[2] if len(sys.argv) > 2 else ""))
