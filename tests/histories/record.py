"""Record histories of every workflow type and path for the replay tests:
`.venv/bin/python -m tests.histories.record VERSION [part of a scenario's name] > record.log`.

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

import yaml
from temporalio.testing import WorkflowEnvironment

from temporalio.contrib.pydantic import pydantic_data_converter
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
    MergeInto,
    PlannedAction,
    RecordCallback,
    RecordCoordinationMeeting,
    RecordFirstContact,
    RecordProgressUpdate,
    Resolve,
    SplitOut,
    TakeIntoHandling,
)
from workflows.deadlines import DeadlineRequest
from workflows.dispatch_messages import RaiseDispatch, ReplyToDispatch, ReturnReply, ReviewUrgentTicket
from workflows.judgement import JUDGEMENT_PATCHES, JudgementWorkflow
from rules.judgement import DispatchFinding
from workflows.judgement_messages import (AppealJudgement, DecideAppeal, EditJudgementDraft, JudgementOpening, NameFault, SendJudgement,
                                          judgement_workflow_id)
from rules.intake import EvidenceRef
from rules.contact import ContactIntake
from workflows.contact import CONTACT_PATCHES, CONTACT_WORKFLOWS, ConsultationWorkflow, NewFailureModeWorkflow, RescueRequestWorkflow
from workflows.contact_messages import (CallCustomerBack, ContactFiling, HandOverContact, RecordDepartmentAnswer,
                                        contact_workflow_id, opening_requests)

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

async def _judgement_sent(env: WorkflowEnvironment, queue: str) -> WorkflowHandle:
    """A ticket answered and the case closed: its judgement edited and sent to the office at fault."""
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
    return judgement


async def _judgement_appealed_then_decided(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Sent, appealed with the four-party statement, upheld at fault by arbitration, the smallest unit named.
    judgement = await _judgement_sent(env, queue)
    await judgement.execute_update(JudgementWorkflow.appeal, AppealJudgement(
        actor=AGENT, reason="the parcel was handed to the carrier sealed",
        evidence=[EvidenceRef(kind="four_party_statement", reference="doc/4P-0042")]))
    await judgement.execute_update(JudgementWorkflow.decide, DecideAppeal(
        actor=AGENT, at_fault=True, reason="the scans show the mis-sort at Tianhe"))
    await judgement.execute_update(JudgementWorkflow.accept, NameFault(
        actor=AGENT, city_branch="gd-gz", failing_link="sorting", smallest_unit="gd-gz-tianhe"))
    await judgement.result()
    save(f"{version}_judgement_appealed_then_decided", judgement.id, await judgement.fetch_history())


async def _judgement_accepted(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Sent, and the office at fault accepts in time, naming its city branch, link and smallest unit.
    judgement = await _judgement_sent(env, queue)
    await judgement.execute_update(JudgementWorkflow.accept, NameFault(
        actor=AGENT, city_branch="gd-gz", failing_link="sorting", smallest_unit="gd-gz-tianhe"))
    await judgement.result()
    save(f"{version}_judgement_accepted", judgement.id, await judgement.fetch_history())


async def _judgement_accepted_by_silence(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Sent, and nobody answers: reminded a working day before the end, then final as accepted. Opened
    # as the complaint opens it at closing, but started here: with the complaint and its ticket ended
    # first, the time-skipping server stalled on the judgement's timers ("Timeout expired").
    complaint_id = "C" + uuid.uuid4().hex[:12].upper()
    opening = JudgementOpening(
        complaint_id=complaint_id, lead_unit="gd", category="delay", opened_at=await env.get_current_time(),
        findings=[DispatchFinding(dispatch_id=f"dispatch-{complaint_id}-1", kind=DispatchKind.TICKET, unit="gd-gz-tianhe",
                                  finding="The Tianhe station mis-sorted the parcel on Monday 10:00.",
                                  failing_link="sorting at the Tianhe station")],
        built_with=list(JUDGEMENT_PATCHES))
    judgement = await env.client.start_workflow(JudgementWorkflow.run, opening, id=judgement_workflow_id(complaint_id),
                                                task_queue=queue)
    await _once_taken(env, judgement, JudgementWorkflow.send, SendJudgement(actor=AGENT))
    # 5 working days to answer (judgement.response_working_days), reminded one before: awaiting the
    # result skips time to there.
    await judgement.result()
    save(f"{version}_judgement_accepted_by_silence", judgement.id, await judgement.fetch_history())


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


async def _urgent_ticket(env: WorkflowEnvironment, queue: str) -> tuple[WorkflowHandle, WorkflowHandle]:
    """A complaint in handling with an urgent ticket to the Tianhe station, awaiting review."""
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    terms = dispatch_terms(policy, DispatchKind.TICKET, TicketPriority.URGENT, "gd-gz-tianhe")
    ticket_id = await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.TICKET, priority=TicketPriority.URGENT, unit="gd-gz-tianhe",
        instruction="find the failing link", reply_checks=policy.reply_checks, **terms.model_dump()))
    return case, env.client.get_workflow_handle(ticket_id)


URGENT_ANSWER = Reply(finding="The Tianhe station left the parcel in the cage on Monday 09:00; redelivered Monday 15:00.",
                      failing_link="sorting at the Tianhe station")


async def _answered_and_closed(case: WorkflowHandle, ticket: WorkflowHandle) -> None:
    await ticket.execute_update(DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=URGENT_ANSWER))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    await ticket.result()


async def _urgent_ticket_confirmed_then_answered(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Confirmed urgent in time by the urgent-item group (the province's director told), answered in time.
    case, ticket = await _urgent_ticket(env, queue)
    await _once_taken(env, ticket, DispatchWorkflow.review, ReviewUrgentTicket(
        actor=AGENT, confirm=True, reason="original ID card inside"))
    await _answered_and_closed(case, ticket)
    save(f"{version}_urgent_ticket_confirmed_then_answered", ticket.id, await ticket.fetch_history())


async def _urgent_ticket_reviewed_late(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Nobody reviews it within the hour: the group's head is told; reviewed (confirmed) the next day, answered.
    case, ticket = await _urgent_ticket(env, queue)
    await env.sleep(timedelta(days=1))  # past the 1 working hour on the group's 7 x 10 calendar
    await ticket.execute_update(DispatchWorkflow.review, ReviewUrgentTicket(
        actor=AGENT, confirm=True, reason="original ID card inside"))
    await _answered_and_closed(case, ticket)
    save(f"{version}_urgent_ticket_reviewed_late", ticket.id, await ticket.fetch_history())


async def _linked_dispatches_answered(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Two linked dispatches (关联调度) raised together, running in parallel, each answered; the case closes.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    linked = []
    for unit in ("gd-gz-tianhe", "gd-sz-nanshan"):
        linked.append(env.client.get_workflow_handle(await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
            actor=AGENT, kind=DispatchKind.LINKED, unit=unit, instruction="check the scans at your end",
            reply_checks=policy.reply_checks, **dispatch_terms(policy, DispatchKind.LINKED, TicketPriority.NORMAL, unit).model_dump()))))
    for dispatch in linked:
        await _once_taken(env, dispatch, DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=Reply(
            finding="Scanned in on Monday 10:00 and out to the next depot at 14:00; nothing held here.")))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    for dispatch in linked:
        await dispatch.result()
    save(f"{version}_linked_dispatch_answered", linked[0].id, await linked[0].fetch_history())
    save(f"{version}_complaint_with_linked_dispatches", case.id, await case.fetch_history())


async def _continued_as_new_next_run(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A case open for weeks: the run after continue-as-new, which starts from the carried state.
    long_case = await start(env, filing(await env.get_current_time()), queue)
    await long_case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await env.sleep(timedelta(days=25))
    await long_case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await long_case.result()
    last_run = env.client.get_workflow_handle(long_case.id)
    history = await last_run.fetch_history()
    assert history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id, "no continue-as-new"
    save(f"{version}_continued_as_new_next_run", long_case.id, history)


async def _contact(env: WorkflowEnvironment, queue: str, kind: str, **intake: object) -> WorkflowHandle:
    """A contact received now, filed as the API files it (opening deadlines in the input)."""
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    now = await env.get_current_time()
    contact = ContactFiling(
        contact_id="K" + uuid.uuid4().hex[:12].upper(),
        intake=ContactIntake.model_validate({
            "kind": kind, "channel": "hotline", "received_at": now.isoformat(),
            "customer": {"name": "Li Na", "phone": "13800138000"}, "description": "Where is my parcel?", **intake}),
        filed_by=AGENT, filed_at=now, desk_unit=AGENT.unit, built_with=list(CONTACT_PATCHES))
    contact = contact.model_copy(update={"opening": [deadline_for(policy, req) for _, req in opening_requests(contact)]})
    return await env.client.start_workflow(CONTACT_WORKFLOWS[contact.intake.kind].run, contact,
                                           id=contact_workflow_id(contact.contact_id), task_queue=queue)


async def _consultation_handed_over_then_called_back(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # 咨询: handed over to Guangdong, answered by the department, the customer called back.
    consultation = await _contact(env, queue, "consultation")
    await consultation.execute_update(ConsultationWorkflow.hand_over, HandOverContact(actor=AGENT, unit="gd", note="fee question"))
    await consultation.execute_update(ConsultationWorkflow.record_department_answer,
                                      RecordDepartmentAnswer(actor=AGENT, answer="The fee is 12 CNY per kilogram"))
    await consultation.execute_update(ConsultationWorkflow.call_back,
                                      CallCustomerBack(actor=AGENT, message="Told the customer: 12 CNY per kilogram"))
    await consultation.result()
    save(f"{version}_consultation_called_back", consultation.id, await consultation.fetch_history())


async def _rescue_request_handed_over(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # 求助: handed over to the nearest service point within its 10 minutes.
    rescue = await _contact(env, queue, "rescue_request", location="G4 service area, km 112")
    await rescue.execute_update(RescueRequestWorkflow.hand_over, HandOverContact(actor=AGENT, unit="gd-gz-tianhe"))
    await rescue.result()
    save(f"{version}_rescue_request_handed_over", rescue.id, await rescue.fetch_history())


async def _new_failure_mode_missed_then_handed_over(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # 新故障模式: its hour passes (the supervisor above the desk is told), then handed over.
    failure = await _contact(env, queue, "new_failure_mode")
    await env.sleep(timedelta(minutes=61))
    await failure.execute_update(NewFailureModeWorkflow.hand_over, HandOverContact(actor=AGENT, unit="zj-hz-xihu"))
    await failure.result()
    save(f"{version}_new_failure_mode_missed_then_handed_over", failure.id, await failure.fetch_history())


async def _clock_warned_then_met(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16: the first-contact clock reaches its 75 % warning (its owner told), then is met.
    case = await start(env, filing(await env.get_current_time()), queue)
    clock = await first_contact(case)
    await env.sleep(clock.warnings[0].at - await env.get_current_time() + timedelta(minutes=1))
    assert (await first_contact(case)).warnings[0].warned_at is not None
    await case.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
        actor=AGENT, apology="We are sorry", why_it_matters="your papers are due", first_direction="chasing the depot"))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    save(f"{version}_clock_warned_then_met", case.id, await case.fetch_history())


async def _ticket_at_the_weekend(env: WorkflowEnvironment, queue: str) -> tuple[WorkflowHandle, WorkflowHandle]:
    """A normal ticket to the Tianhe station (7 × 10) raised on a plain Thursday at 10:00: warned Friday
    15:00 (75 % of 20 h: 8 h Thursday, 7 h Friday), due Saturday 10:00 (8 + 10 + 2 h), when Guangzhou's
    director (office: Mon–Fri) is off."""
    from tests.workflows.test_dispatches import plain_monday

    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    thursday = (await plain_monday(env)) + timedelta(days=3, hours=10)
    await env.sleep(thursday - await env.get_current_time())
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    ticket_id = await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.TICKET, unit="gd-gz-tianhe", instruction="find the failing link",
        ladder=resolve_ladder(policy, "normal_ticket", "gd-gz-tianhe"), reply_checks=policy.reply_checks))
    await env.sleep(thursday + timedelta(days=2, minutes=1) - await env.get_current_time())  # Saturday 10:01: held
    return case, env.client.get_workflow_handle(ticket_id)


async def _ticket_answered_and_closed(case: WorkflowHandle, ticket: WorkflowHandle) -> None:
    await ticket.execute_update(DispatchWorkflow.reply, ReplyToDispatch(actor=AGENT, reply=Reply(
        finding="The Tianhe station mis-sorted the parcel on Thursday; it was redelivered Saturday.")))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    await ticket.result()


async def _ticket_escalation_held_then_sent(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16: warned, then the Saturday rung held by quiet hours until Monday 08:00, then sent.
    case, ticket = await _ticket_at_the_weekend(env, queue)
    await env.sleep(timedelta(days=2))  # Monday 10:01: sent at 08:00
    await _ticket_answered_and_closed(case, ticket)
    save(f"{version}_ticket_escalation_held_then_sent", ticket.id, await ticket.fetch_history())


async def _ticket_escalation_held_then_moot(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16: the Saturday rung held by quiet hours; the answer on Sunday makes it moot (not sent).
    case, ticket = await _ticket_at_the_weekend(env, queue)
    await env.sleep(timedelta(days=1))  # Sunday 10:01
    await _ticket_answered_and_closed(case, ticket)
    save(f"{version}_ticket_escalation_held_then_moot", ticket.id, await ticket.fetch_history())
    save(f"{version}_complaint_with_held_escalation", case.id, await case.fetch_history())


async def _merged_then_split(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Merge and split (rules/merging.py): B, with a direct dispatch, is merged into A; the dispatch's
    # answer is forwarded to A; B is split out again and closes on its own. C is merged into A and
    # closes with it.
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    received, _ = friday_evening(await env.get_current_time())
    target, merged, closes_with = [await start(env, filing(received), queue) for _ in range(3)]
    for case in (target, merged):
        await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    dispatch_id = await merged.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.DIRECT, unit="gd-gz-tianhe", instruction="check the scans",
        ladder=resolve_ladder(policy, "overdue_dispatch", "gd-gz-tianhe"), reply_checks=policy.reply_checks))
    target_id = target.id.removeprefix("complaint-")
    for case in (merged, closes_with):
        await case.execute_update(ComplaintWorkflow.merge_into, MergeInto(actor=AGENT, into=target_id, reason="same parcel"))
    await _once_taken(env, env.client.get_workflow_handle(dispatch_id), DispatchWorkflow.reply, ReplyToDispatch(
        actor=AGENT, reply=Reply(finding="The courier skipped the route on Monday; redelivered Tuesday 10:00.")))
    await env.sleep(timedelta(seconds=1))  # the answer forwarded to the target
    await merged.execute_update(ComplaintWorkflow.split_out, SplitOut(actor=AGENT, reason="two parcels after all"))
    await target.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await closes_with.result()
    await target.result()
    await merged.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await merged.result()
    save(f"{version}_complaint_merged_then_split", merged.id, await merged.fetch_history())
    save(f"{version}_complaint_took_in_merged", target.id, await target.fetch_history())
    save(f"{version}_complaint_closed_with_target", closes_with.id, await closes_with.fetch_history())


async def _merge_refused(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # A merge the target cannot take (rules/merging.py): C into A, which was merged into B meanwhile
    # (A refuses by signal), then into B once B has ended (the signal fails): C stays as it was.
    received, _ = friday_evening(await env.get_current_time())
    a, b, c = [await start(env, filing(received), queue) for _ in range(3)]
    for case in (a, b, c):
        await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await a.execute_update(ComplaintWorkflow.merge_into, MergeInto(
        actor=AGENT, into=b.id.removeprefix("complaint-"), reason="same parcel"))
    await c.execute_update(ComplaintWorkflow.merge_into, MergeInto(
        actor=AGENT, into=a.id.removeprefix("complaint-"), reason="same parcel"))
    while (await c.query(ComplaintWorkflow.state)).status.value == "merged":  # A's refusal on its way back
        await env.sleep(timedelta(milliseconds=10))
    await b.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await b.result()
    await a.result()
    try:
        await c.execute_update(ComplaintWorkflow.merge_into, MergeInto(
            actor=AGENT, into=b.id.removeprefix("complaint-"), reason="same parcel"))
    except WorkflowUpdateFailedError:
        pass  # refused: B has ended
    await c.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await c.result()
    save(f"{version}_complaint_merge_refused", c.id, await c.fetch_history())


SCENARIOS = (_reopened_then_closed, _first_contact_overdue, _dispatch_returned_then_answered, _complex_case,
             _continued_as_new, _ticket_escalated_then_answered, _judgement_appealed_then_decided,
             _urgent_ticket_downgraded_then_returned_by_hand, _judgement_accepted, _judgement_accepted_by_silence,
             _urgent_ticket_confirmed_then_answered, _urgent_ticket_reviewed_late, _linked_dispatches_answered,
             _continued_as_new_next_run, _consultation_handed_over_then_called_back, _rescue_request_handed_over,
             _new_failure_mode_missed_then_handed_over, _clock_warned_then_met, _ticket_escalation_held_then_sent,
             _ticket_escalation_held_then_moot, _merged_then_split, _merge_refused)


async def _vip_case_missed_then_handed_over(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16 items 6-7: a VIP's case (its tier's shorter clocks) misses its first contact (the VIP
    # desk told too), is taken into handling (the seat owns it), handed over at shift end, and closed.
    from tests.workflows.test_vip import VIP_DESK
    from workflows.complaint_messages import HandOverCase, VipService
    from rules.actors import Actor, Role

    vip = filing(await env.get_current_time())
    intake = vip.intake.model_copy(update={"complainant": vip.intake.complainant.model_copy(update={"tier": "vip"})})
    case = await start(env, vip.model_copy(update={"intake": intake, "vip": VipService(queue="vip", desk=VIP_DESK)}), queue)
    await env.sleep(timedelta(hours=16))  # past its 15 working minutes, whenever it was filed
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    evening = Actor(id="gd-evening", name="Evening seat", role=Role.REGIONAL_CS, unit="gd")
    await case.execute_update(ComplaintWorkflow.hand_over, HandOverCase(actor=AGENT, to=evening, note="call at 19:00"))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=evening, reason="done"))
    await case.result()
    save(f"{version}_vip_case_missed_then_handed_over", case.id, await case.fetch_history())


SCENARIOS += (_vip_case_missed_then_handed_over,)  # issue #16 items 6-7


async def _callback_survey_answered(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16 item 4: the call-back by survey link, answered dissatisfied (reopened); in the next
    # round a link is sent again, the customer phoned first, and closed satisfied by the agent.
    from workflows.complaint_messages import SendCallbackSurvey

    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    for round_, link_id in enumerate(("survey-link-round-0", "survey-link-round-1")):
        await case.execute_update(ComplaintWorkflow.resolve, Resolve(actor=AGENT, solution="redelivered"))
        await case.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
            actor=AGENT, message="done", medium="sms"))
        await case.execute_update(ComplaintWorkflow.send_callback_survey, SendCallbackSurvey(
            actor=AGENT, link_id=link_id, url=f"http://127.0.0.1:8000/survey/{link_id}.signature", link_hours=48))
        await env.sleep(timedelta(hours=1))
        customer = AGENT.model_copy(update={"id": "customer-survey", "role": "customer"})
        answer = RecordCallback(actor=customer, satisfied=False, customer_words="still broken", survey_link=link_id,
                                rating=2) if round_ == 0 else RecordCallback(actor=AGENT, satisfied=True,
                                                                             customer_words="fine now")
        await case.execute_update(ComplaintWorkflow.record_callback, answer)
    await case.result()
    save(f"{version}_callback_survey_answered", case.id, await case.fetch_history())


SCENARIOS += (_callback_survey_answered,)  # issue #16 item 4


async def _complaint_paused_then_resumed(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16 item 1: the customer clocks paused and resumed by hand, then paused again until the
    # pause reaches its maximum and ends by itself (whoever paused is told).
    from workflows.pauses import PauseClocks, ResumeClocks

    case = await start(env, filing(await env.get_current_time()), queue)
    pause = PauseClocks(actor=AGENT, reason="waiting_for_customer", max_working_hours=0.5)
    await _once_taken(env, case, ComplaintWorkflow.pause_clocks, pause)
    await env.sleep(timedelta(minutes=20))
    await case.execute_update(ComplaintWorkflow.resume_clocks, ResumeClocks(actor=AGENT, note="the customer called"))
    await case.execute_update(ComplaintWorkflow.pause_clocks, pause)
    await env.sleep(timedelta(days=10))  # past the half working hour, whatever the calendar
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    save(f"{version}_complaint_paused_then_resumed", case.id, await case.fetch_history())


async def _dispatch_paused_then_resumed(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16 item 1: a direct dispatch's clock paused and resumed by hand (its due instant and
    # ladder moved), paused again until the pause ends by itself, then answered.
    from workflows.pauses import PauseClocks, ResumeClocks

    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    case = await start(env, filing(await env.get_current_time()), queue)
    await case.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    dispatch_id = await case.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.DIRECT, unit="gd-gz-tianhe", instruction="call the customer",
        ladder=resolve_ladder(policy, "overdue_dispatch", "gd-gz-tianhe"), reply_checks=policy.reply_checks))
    dispatch = env.client.get_workflow_handle(dispatch_id)
    pause = PauseClocks(actor=AGENT, reason="waiting_for_customer", max_working_hours=0.5)
    await _once_taken(env, dispatch, DispatchWorkflow.pause_clock, pause)
    await env.sleep(timedelta(minutes=20))
    await dispatch.execute_update(DispatchWorkflow.resume_clock, ResumeClocks(actor=AGENT))
    await dispatch.execute_update(DispatchWorkflow.pause_clock, pause)
    await env.sleep(timedelta(days=10))  # the pause ends by itself, then the moved ladder is climbed
    await _ticket_answered_and_closed(case, dispatch)
    save(f"{version}_dispatch_paused_then_resumed", dispatch.id, await dispatch.fetch_history())


SCENARIOS += (_complaint_paused_then_resumed, _dispatch_paused_then_resumed)  # issue #16 item 1


# Scenarios that need a policy other than the shipped one: what they change in it.
POLICY_CHANGES: dict[str, Any] = {}


def _night_desk(policy: dict[str, Any]) -> None:
    policy["units"]["gd"]["calendar"] = "round_the_clock"  # the lead office keeps a night desk; hq does not


async def _night_misses(env: WorkflowEnvironment, queue: str) -> WorkflowHandle:
    """A delay complaint to gd's night desk received Monday 22:00: its first contact (120 min) is
    missed at midnight, its solution (4 h) at 02:00; each miss, to hq on the office calendar, is held."""
    from tests.workflows.test_dispatches import plain_monday

    monday = await plain_monday(env)
    await env.sleep(monday + timedelta(hours=22) - await env.get_current_time())
    case = await start(env, filing(await env.get_current_time()), queue)
    await env.sleep(monday + timedelta(days=1, hours=2, minutes=1) - await env.get_current_time())
    return case


async def _night_misses_held_then_sent(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16: the complaint's own notices held by quiet hours until hq opens at 08:00, then sent.
    case = await _night_misses(env, queue)
    await env.sleep(timedelta(hours=6))  # Tuesday 08:01
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    save(f"{version}_night_misses_held_then_sent", case.id, await case.fetch_history())


async def _night_misses_held_then_moot(env: WorkflowEnvironment, queue: str, version: str) -> None:
    # Issue #16: held misses made moot by the complaint's closing at 03:00 (recorded, not sent).
    case = await _night_misses(env, queue)
    await env.sleep(timedelta(hours=1))
    await case.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=AGENT, reason="done"))
    await case.result()
    save(f"{version}_night_misses_held_then_moot", case.id, await case.fetch_history())


SCENARIOS += (_night_misses_held_then_sent, _night_misses_held_then_moot)  # issue #16 item 3, a complaint's notices
POLICY_CHANGES.update({_night_misses_held_then_sent.__name__: _night_desk, _night_misses_held_then_moot.__name__: _night_desk})


async def record(version: str, only: str = "") -> None:
    """Each scenario on a time-skipping server of its own: the Java test server can stall (or refuse a
    workflow task with "invalid history builder state") once an earlier scenario's children ended."""
    for scenario in [s for s in SCENARIOS if only in s.__name__]:
        env = await WorkflowEnvironment.start_time_skipping(
            # Plaintext recordings (no payload codec): readable in review and by any key ring; the
            # replay test reads them through the encrypting converter, which passes them through.
            test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter)
        try:
            await register_search_attributes(env.client)
            queue = f"record-{uuid.uuid4().hex[:6]}"
            with tempfile.TemporaryDirectory() as tmp:
                policy = ROOT / "policies" / "express_carrier.yaml"
                if (change := POLICY_CHANGES.get(scenario.__name__)) is not None:
                    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
                    change(data)
                    policy = Path(tmp) / "policy.yaml"
                    policy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
                async with complaint_worker(env, Path(tmp), queue, policy):
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
