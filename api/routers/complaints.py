"""/complaints: intake (api/intake.py), the lifecycle actions (one table, `STEPS`), and reads from the
read model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api import intake as desk
from api.case_actions import act_on_complaint, found_or_404
from api.dependencies import RATE_LIMITED, PageQuery, Services, ServicesDep, require, within_intake_rate
from api.errors import invalid_field
from api.intake import ComplaintCreated, classification_of
from api.reveals import Reason, reveal_once
from api.routers.surveys import CallbackSurveyView, surveys_of
from api.steps import Step, add_steps
from api.timelines import TimelineEvent
from readmodel.complaints import SORTABLE, ComplaintFilter
from readmodel.tables import ComplaintRow, TimelineEventRow
from rules.actors import Actor, Permission
from rules.classification import Classification
from rules.customer_data import (RevealableField, masked_name, masked_party, masked_phone, masked_strings, masked_text,
                                 people_named)
from rules.dispatch import DispatchKind, DispatchStatus
from rules.intake import ComplaintIntake
from rules.lifecycle import ComplaintStatus
from rules.merging import target_refusal
from rules.policy import Policy
from workflows.clocks import Clock
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import (
    ActionDone,
    ActionPlan,
    AgreePlan,
    AnswerAtFirstContact,
    CaseMerge,
    CaseSplit,
    CloseUnresolvable,
    CompleteAction,
    ComplaintState,
    ComplexCaseOpening,
    ConfirmWithCustomer,
    CoordinationMeeting,
    CustomerConfirmation,
    ExtendSolutionClock,
    FirstContact,
    FirstContactAnswer,
    HandlingStart,
    MakeComplex,
    MergeInto,
    PlanAction,
    ProgressUpdate,
    RecordCallback,
    RecordCoordinationMeeting,
    RecordFirstContact,
    RecordProgressUpdate,
    Resolution,
    Resolve,
    SatisfactionCallback,
    SolutionExtension,
    SplitOut,
    TakeIntoHandling,
    UnresolvableClosure,
)
from workflows.judgement_messages import JudgementView

router = APIRouter(prefix="/complaints", tags=["complaints"])


class ComplaintSummary(BaseModel):
    complaint_id: str
    workflow_id: str
    status: str
    category: str
    urgency: str
    level: int
    priority: str
    channel: str
    received_at: datetime
    tracking_number: str | None
    lead_unit: str
    complainant_name: str
    complainant_phone: str
    complainant_tier: str
    handling_round: int
    one_time_resolution: bool
    closed_at: datetime | None
    queue: str | None = None  # the VIP queue a VIP customer's case is routed to (policy vip_service)
    owner_id: str | None = None  # the seat that owns the case: took it into handling, or was handed it
    owner_name: str | None = None


class ComplaintDetail(ComplaintSummary):
    classification: Classification
    filed_at: datetime
    filed_by: str
    nature: str
    channel_message_id: str | None
    sender: Any
    recipient: Any
    contents: Any
    demand: str | None
    description: str
    evidence: Any
    temporal_ui_url: str
    clocks: list[Clock]  # each with its due instant (UTC) and on the acting unit's wall clock
    missed_clocks: int  # customer clocks missed so far (each told to the supervisor)
    complex_case: bool
    plan: list[PlanAction]  # a complex case's actions, with owners and due dates
    is_repeat: bool
    repeat_of: list[str]  # the earlier, closed complaints of the same customer or parcel
    timeline: list[TimelineEvent]
    judgements: list[JudgementView] = []  # responsibility judgements (DOMAIN §7), from closing on
    callback_surveys: list[CallbackSurveyView] = []  # survey links sent for the call-back (DOMAIN §5)
    merged_into: str | None = None  # merged (rules/merging.py): the complaint it is handled under
    merged_cases: list[str] = []  # the complaints merged into this one


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    total: int
    page: int
    page_size: int


def summary_fields(row: ComplaintRow) -> dict[str, Any]:
    """Every person field masked, for every role (DOMAIN §9): full data only by `POST .../reveal`."""
    return {
        "complaint_id": row.id,
        "workflow_id": row.workflow_id,
        "status": row.status,
        "category": row.category,
        "urgency": row.urgency,
        "level": row.level,
        "priority": row.priority,
        "channel": row.channel,
        "received_at": row.received_at,
        "tracking_number": row.tracking_number,
        "lead_unit": row.lead_unit,
        "complainant_name": masked_name(row.complainant_name),
        "complainant_phone": masked_phone(row.complainant_phone),
        "complainant_tier": row.complainant_tier,
        "handling_round": row.handling_round,
        "one_time_resolution": row.one_time_resolution,
        "closed_at": row.closed_at,
        "queue": row.queue,
        "owner_id": row.owner_id,
        "owner_name": row.owner_name,
    }


def _detail(row: ComplaintRow, events: list[TimelineEventRow], services: Services) -> ComplaintDetail:
    names = people_named(row.complainant_name, row.sender, row.recipient)
    return ComplaintDetail(
        **summary_fields(row),
        classification=classification_of(row),
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        nature=row.nature,
        channel_message_id=row.channel_message_id,
        sender=masked_party(row.sender),
        recipient=masked_party(row.recipient),
        contents=masked_strings(row.contents, names=names),
        demand=masked_text(row.demand, names=names) if row.demand else row.demand,
        description=masked_text(row.description, names=names),
        evidence=masked_strings(row.evidence, names=names),
        temporal_ui_url=services.web_ui_url(row.workflow_id),
        clocks=row.clocks or [],
        missed_clocks=row.missed_clocks,
        complex_case=row.complex_case,
        plan=row.plan or [],
        is_repeat=row.is_repeat,
        repeat_of=row.repeat_of or [],
        timeline=[TimelineEvent.model_validate(e, from_attributes=True).model_copy(
            update={"detail": masked_strings(e.detail, names=names)}) for e in events],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComplaintCreated,
             dependencies=[Depends(within_intake_rate)], responses=RATE_LIMITED)  # 429: api/limits.py
async def file_complaint(
    intake: ComplaintIntake,
    services: ServicesDep,
    response: Response,
    actor: Annotated[Actor, Depends(require(Permission.FILE_COMPLAINT))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> Any:
    filed = await desk.file_complaint(services, intake, actor, idempotency_key)
    if isinstance(filed, JSONResponse):
        return filed
    if not filed.opened:
        response.status_code = status.HTTP_200_OK
    return filed.created


@router.get("", response_model=ComplaintPage)
async def list_complaints(
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    category: str | None = None,
    urgency: Annotated[str | None, Query(pattern="^(urgent|general)$")] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    channel: str | None = None,
    tracking_number: str | None = None,
    unit: str | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    sort: Annotated[str, Query(description=(
        "a column, '-' first for descending; 'priority' (the default, the inbox's order): high priority first, "
        "then the soonest next due clock, then the longest waiting"))] = "priority",
) -> Any:
    """Complaints matching every filter given, a page at a time (docs/API.md: the orders)."""
    column = sort.removeprefix("-")
    if column not in SORTABLE:
        raise HTTPException(422, [{"loc": ["query", "sort"], "msg": f"sort by one of {sorted(SORTABLE)}", "input": sort}])
    for name, value in (("received_from", received_from), ("received_to", received_to)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, [{"loc": ["query", name], "msg": "must include a time zone offset", "input": str(value)}])
    flt = ComplaintFilter(
        status=status_.value if status_ else None,
        category=category,
        urgency=urgency,
        level=level,
        channel=channel,
        tracking_number=tracking_number,
        unit=unit,
        received_from=received_from,
        received_to=received_to,
    )
    rows, total = await run_in_threadpool(
        lambda: services.read_model.complaints.search(
            flt, offset=(page - 1) * page_size, limit=page_size, sort=column, descending=sort.startswith("-")
        )
    )
    return ComplaintPage(
        items=[ComplaintSummary(**summary_fields(r)) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/{complaint_id}", response_model=ComplaintDetail)
async def get_complaint(
    complaint_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
) -> Any:
    found = await run_in_threadpool(services.read_model.complaints.get, complaint_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}")
    judgements = await run_in_threadpool(services.read_model.judgements.of_complaint, complaint_id)
    merged_cases = await run_in_threadpool(services.read_model.complaints.merged_into, complaint_id)
    return _detail(*found, services).model_copy(update={
        "judgements": judgements, "callback_surveys": await surveys_of(services, complaint_id), "merged_into": found[0].merged_into, "merged_cases": merged_cases})


class RevealRequest(BaseModel):
    """One field of one case, whole, and why it is needed now (written to the audit log)."""

    model_config = ConfigDict(extra="forbid")

    field: RevealableField
    reason: Reason


class Revealed(BaseModel):
    complaint_id: str
    field: RevealableField
    value: str


@router.post("/{complaint_id}/reveal", response_model=Revealed)
async def reveal(
    complaint_id: str,
    body: RevealRequest,
    services: ServicesDep,
    response: Response,
    actor: Annotated[Actor, Depends(require(Permission.REVEAL_CUSTOMER_DATA))],
) -> Any:
    """One phone number or address of a complaint whole, to call or reach the customer (DOMAIN §9):
    answered once (`Cache-Control: no-store`) and audited. A production unit only while it holds an
    open direct dispatch of the case; 404 when the case has no such value."""
    row = await run_in_threadpool(services.read_model.complaints.find, complaint_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}")
    dispatches = await run_in_threadpool(
        lambda: services.read_model.dispatches.matching(complaint_id=complaint_id, open_only=True))
    person, _, part = body.field.value.partition(".")
    value = row.complainant_phone if person == "complainant" else (getattr(row, person) or {}).get(part)
    shown = await reveal_once(
        services, actor, response, case_id=complaint_id, field=body.field.value, value=value, reason=body.reason,
        sent_to=[d.unit for d in dispatches if d.kind == DispatchKind.DIRECT and d.status == DispatchStatus.OPEN])
    return Revealed(complaint_id=complaint_id, field=body.field, value=shown)


@router.post("/{complaint_id}/merge", response_model=ComplaintState)
async def merge_complaint(
    complaint_id: str,
    body: CaseMerge,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.MERGE_COMPLAINTS))],
) -> Any:
    """Merge this complaint into another open one, the same matter (rules/merging.py): its clocks stop,
    its dispatches' answers and the customer's later contacts go to the target, the customer is texted
    the target's id. 422 naming `into` for itself or an unknown complaint; 409 for a target that is
    closed or merged itself, or a complaint that is closed, merged or holds merged complaints."""
    await found_or_404(services.read_model.complaints.find, complaint_id, "complaint")
    if body.into == complaint_id:
        return invalid_field("into", "a complaint cannot be merged into itself", body.into)
    target = await run_in_threadpool(services.read_model.complaints.find, body.into)
    if target is None:
        return invalid_field("into", f"no complaint {body.into}", body.into)
    if reason := target_refusal(target.id, target.status, target.merged_into):
        return JSONResponse(status_code=409, content={"detail": f"into: {reason}", "current_status": target.status})
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.merge_into,
                                  MergeInto(actor=actor, **body.model_dump()))


@router.post("/{complaint_id}/split", response_model=ComplaintState)
async def split_complaint(
    complaint_id: str,
    body: CaseSplit,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.MERGE_COMPLAINTS))],
) -> Any:
    """Split a wrongly merged complaint back out: the status it had, each stopped clock running again
    with the working time it had left, the customer texted. 409 when it is not merged."""
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.split_out,
                                  SplitOut(actor=actor, **body.model_dump()))


def _departments_known(policy: Policy, body: CoordinationMeeting) -> JSONResponse | None:
    for index, unit in enumerate(body.departments):
        if unit not in policy.units:
            return invalid_field(f"departments.{index}", "unknown unit", unit)
    return None


def _plan_departments_known(policy: Policy, body: ActionPlan) -> JSONResponse | None:
    for index, action in enumerate(body.actions):
        if action.department not in policy.units:
            return invalid_field(f"actions.{index}.department", "unknown unit", action.department)
    return None


HANDLE, COMPLEX = Permission.HANDLE_COMPLAINT, Permission.MANAGE_COMPLEX_CASE
WF = ComplaintWorkflow

# The lifecycle actions: path, endpoint name, body, the Update and its argument, who may, what it does.
STEPS = (
    Step("/{complaint_id}/first-contact-answer", "answer_at_first_contact", FirstContactAnswer, AnswerAtFirstContact,
         WF.answer_at_first_contact, HANDLE, "Simple query answered at once: the case closes at first contact."),
    Step("/{complaint_id}/first-contact", "record_first_contact", FirstContact, RecordFirstContact,
         WF.record_first_contact, HANDLE,
         "First contact with the customer (apology, why it matters, first direction): stops that clock."),
    Step("/{complaint_id}/handling", "take_into_handling", HandlingStart, TakeIntoHandling, WF.take_into_handling, HANDLE),
    Step("/{complaint_id}/resolution", "resolve", Resolution, Resolve, WF.resolve, HANDLE),
    Step("/{complaint_id}/customer-confirmation", "confirm_with_customer", CustomerConfirmation, ConfirmWithCustomer,
         WF.confirm_with_customer, HANDLE),
    Step("/{complaint_id}/callback", "record_callback", SatisfactionCallback, RecordCallback, WF.record_callback, HANDLE,
         "Satisfaction call-back: satisfied closes, dissatisfied sends the case back to handling."),
    Step("/{complaint_id}/unresolvable-closure", "close_unresolvable", UnresolvableClosure, CloseUnresolvable,
         WF.close_unresolvable, Permission.CLOSE_UNRESOLVABLE),
    Step("/{complaint_id}/progress-updates", "record_progress_update", ProgressUpdate, RecordProgressUpdate,
         WF.record_progress_update, HANDLE,
         "The customer was told how things stand: the automatic update of this interval is skipped."),
    Step("/{complaint_id}/solution-extension", "extend_solution_clock", SolutionExtension, ExtendSolutionClock,
         WF.extend_solution_clock, HANDLE,
         "4 → 8 hours to the solution, accepted only while the 4 hours have not run out (409 after)."),
    Step("/{complaint_id}/complex", "make_complex", ComplexCaseOpening, MakeComplex, WF.make_complex, COMPLEX),
    Step("/{complaint_id}/coordination-meeting", "record_coordination_meeting", CoordinationMeeting,
         RecordCoordinationMeeting, WF.record_coordination_meeting, COMPLEX, check=_departments_known),
    Step("/{complaint_id}/plan", "agree_plan", ActionPlan, AgreePlan, WF.agree_plan, COMPLEX,
         "The agreed actions, each with a department, an owner and a due date, tracked on its own clock.",
         check=_plan_departments_known),
    Step("/{complaint_id}/plan/{number}/done", "complete_action", ActionDone, CompleteAction, WF.complete_action, HANDLE,
         "An action is reported done; the last one resolves the case.",
         path_numbers={"number": Annotated[int, Path(ge=1)]}),
)

add_steps(router, STEPS, case_id="complaint_id", response_model=ComplaintState, act=act_on_complaint)
