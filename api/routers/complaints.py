"""/complaints: intake, the lifecycle actions, and reads from the read model."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.calendar import deadline_for
from api.dependencies import Services, ServicesDep, require
from api.errors import invalid_field, update_or_409
from readmodel.store import SORTABLE, ComplaintFilter
from readmodel.tables import ComplaintRow, TimelineEventRow
from rules.actors import Actor, Permission
from rules.classification import Classification, ComplainantHistory, classify
from rules.intake import ComplaintIntake
from rules.repeats import duplicate_of, repeat_of
from rules.lifecycle import ComplaintStatus
from workflows.complaint import COMPLAINT_CHANGES, ComplaintWorkflow
from readmodel.judgements import JudgementStore
from workflows.judgement_messages import JudgementView
from workflows.clocks import Clock
from workflows.complaint_messages import (
    ActionDone,
    ActionPlan,
    AgreePlan,
    AnswerAtFirstContact,
    CloseUnresolvable,
    complaint_details,
    complaint_summary,
    complaint_workflow_id,
    ComplaintFiling,
    ComplaintState,
    CompleteAction,
    ComplexCaseOpening,
    ConfirmWithCustomer,
    CoordinationMeeting,
    CustomerConfirmation,
    ExtendSolutionClock,
    FirstContact,
    FirstContactAnswer,
    HandlingStart,
    LinkDuplicate,
    MakeComplex,
    opening_changes,
    PlanAction,
    ProgressUpdate,
    RecordCallback,
    RecordCoordinationMeeting,
    RecordFirstContact,
    RecordProgressUpdate,
    Resolution,
    Resolve,
    SatisfactionCallback,
    search_attributes_at_filing,
    SolutionExtension,
    TakeIntoHandling,
    UnresolvableClosure,
)
from workflows.deadlines import DeadlineRequest

router = APIRouter(prefix="/complaints", tags=["complaints"])

# A channel's clock may run a little ahead of ours; more than this is a wrong received time.
RECEIVED_AT_TOLERANCE = timedelta(minutes=5)


class ComplaintCreated(BaseModel):
    complaint_id: str
    workflow_id: str
    status: ComplaintStatus
    classification: Classification
    replayed: bool  # true when an Idempotency-Key or channel message id matched an earlier request
    duplicate_of: str | None = None  # set when this was the same complaint again: the open case it joined
    repeat_of: list[str] = []  # the earlier, closed complaints of the customer or parcel it repeats
    temporal_ui_url: str


class TimelineEvent(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_name: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None
    to_status: str
    detail: Any


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


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    total: int
    page: int
    page_size: int


def _complaint_id(idempotency_key: str | None, intake: ComplaintIntake) -> str:
    """Derived from the idempotency key when there is one, so that a retried request maps to the
    same workflow id and Temporal itself refuses a second execution."""
    if idempotency_key is not None:
        seed = f"key:{idempotency_key}".encode()
    elif intake.channel_message_id is not None:
        seed = f"msg:{intake.channel.value}:{intake.channel_message_id}".encode()
    else:
        seed = uuid.uuid4().bytes
    digest = hashlib.sha256(seed).digest()
    return "C" + base64.b32encode(digest).decode()[:12]


def _mask_phone(phone: str) -> str:
    digits = phone.replace(" ", "").replace("-", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def _ui_url(services: Services, workflow_id: str) -> str:
    namespace = quote(services.settings.temporal_namespace)
    return f"{services.settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id)}"


def _summary_fields(row: ComplaintRow, actor: Actor, services: Services) -> dict[str, Any]:
    can_see_phone = actor.role in services.policy.roles_with(Permission.SEE_CUSTOMER_PHONE)
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
        "complainant_name": row.complainant_name,
        "complainant_phone": row.complainant_phone if can_see_phone else _mask_phone(row.complainant_phone),
        "complainant_tier": row.complainant_tier,
        "handling_round": row.handling_round,
        "one_time_resolution": row.one_time_resolution,
        "closed_at": row.closed_at,
    }


def _classification(row: ComplaintRow) -> Classification:
    return Classification(
        category=row.category,
        category_group=row.category_group,
        urgency=row.urgency,
        urgent_reasons=row.urgent_reasons or [],
        level=row.level,
        level_reasons=row.level_reasons or [],
        priority=row.priority,
        priority_reasons=row.priority_reasons or [],
    )


def _detail(row: ComplaintRow, events: list[TimelineEventRow], actor: Actor, services: Services) -> ComplaintDetail:
    return ComplaintDetail(
        **_summary_fields(row, actor, services),
        classification=_classification(row),
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        nature=row.nature,
        channel_message_id=row.channel_message_id,
        sender=row.sender,
        recipient=row.recipient,
        contents=row.contents,
        demand=row.demand,
        description=row.description,
        evidence=row.evidence,
        temporal_ui_url=_ui_url(services, row.workflow_id),
        clocks=row.clocks or [],
        missed_clocks=row.missed_clocks,
        complex_case=row.complex_case,
        plan=row.plan or [],
        is_repeat=row.is_repeat,
        repeat_of=row.repeat_of or [],
        timeline=[TimelineEvent.model_validate(e, from_attributes=True) for e in events],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComplaintCreated)
async def file_complaint(
    intake: ComplaintIntake,
    services: ServicesDep,
    response: Response,
    actor: Annotated[Actor, Depends(require(Permission.FILE_COMPLAINT))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> Any:
    policy = services.policy
    if policy.category(intake.category) is None:
        known = ", ".join(c.code for c in policy.categories)
        return invalid_field("category", f"unknown category; one of: {known}", intake.category)
    if intake.complainant.tier not in policy.priority.tiers:
        return invalid_field(
            "complainant.tier", f"unknown tier; one of: {', '.join(policy.priority.tiers)}", intake.complainant.tier
        )
    now = datetime.now(UTC)
    if intake.received_at > now + RECEIVED_AT_TOLERANCE:
        return invalid_field("received_at", "lies in the future", intake.received_at.isoformat())

    complaint_id = _complaint_id(idempotency_key, intake)
    workflow_id = complaint_workflow_id(complaint_id)
    read_model = services.read_model

    window = max(timedelta(days=policy.priority.repeat_window_days), timedelta(hours=policy.priority.duplicate_window_hours))
    existing, earlier = await run_in_threadpool(
        lambda: read_model.intake_context(
            complaint_id,
            phone=intake.complainant.phone,
            tracking_number=intake.tracking_number,
            since=intake.received_at - window,
        )
    )
    if existing is None and (duplicate := duplicate_of(intake, earlier, timedelta(hours=policy.priority.duplicate_window_hours))):
        joined = await _link_duplicate(services, duplicate, complaint_id, intake, actor)
        if joined is not None:
            response.status_code = status.HTTP_200_OK
            return ComplaintCreated(
                complaint_id=joined.id, workflow_id=joined.workflow_id, status=joined.status,
                classification=_classification(joined), replayed=False, duplicate_of=joined.id,
                repeat_of=joined.repeat_of or [], temporal_ui_url=_ui_url(services, joined.workflow_id),
            )
    if existing is None:
        repeats = repeat_of(intake, [e for e in earlier if e.received_at >= intake.received_at - timedelta(days=policy.priority.repeat_window_days)])
        history = ComplainantHistory(earlier_complaints=len(earlier), repeat_of=tuple(repeats))
        classification = classify(intake, policy, history)
        first_contact = deadline_for(policy, DeadlineRequest(
            unit=actor.unit, start=intake.received_at, clock="first_contact",
            category=intake.category, level=classification.level,
        ))
        filing = ComplaintFiling(
            complaint_id=complaint_id,
            intake=intake,
            classification=classification,
            filed_by=actor,
            filed_at=now,
            lead_unit=actor.unit,
            first_contact=first_contact,
            repeat_of=repeats,
            built_with=list(COMPLAINT_CHANGES),
        )
        try:
            await services.temporal.start_workflow(
                ComplaintWorkflow.run,
                filing,
                id=workflow_id,
                task_queue=services.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes_at_filing(filing),
                static_summary=complaint_summary(filing),
                static_details=complaint_details(filing),
            )
        except WorkflowAlreadyStartedError:
            pass  # already ran to the end for this key: the read model has it
        else:
            # Written here too (idempotently, same rows as the workflow's first write) so the
            # complaint is readable the moment the caller has its id.
            await run_in_threadpool(read_model.record, opening_changes(filing))
            return ComplaintCreated(
                complaint_id=complaint_id,
                workflow_id=workflow_id,
                status=ComplaintStatus.CLASSIFIED,
                classification=classification,
                replayed=False,
                repeat_of=repeats,
                temporal_ui_url=_ui_url(services, workflow_id),
            )
        existing = await run_in_threadpool(read_model.find, complaint_id)
        if existing is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "this idempotency key belongs to a complaint being filed")
    row = existing
    response.status_code = status.HTTP_200_OK
    return ComplaintCreated(
        complaint_id=row.id,
        workflow_id=row.workflow_id,
        status=row.status,
        classification=_classification(row),
        replayed=True,
        repeat_of=row.repeat_of or [],
        temporal_ui_url=_ui_url(services, row.workflow_id),
    )


async def _link_duplicate(
    services: Services, complaint_id: str, key: str, intake: ComplaintIntake, actor: Actor
) -> ComplaintRow | None:
    """Record the duplicate on the open case; None when that case has closed meanwhile (then the
    complaint is filed as a new one, a repeat)."""
    handle = services.temporal.get_workflow_handle(complaint_workflow_id(complaint_id))
    link = LinkDuplicate(actor=actor, key=key, channel=intake.channel.value, received_at=intake.received_at,
                         channel_message_id=intake.channel_message_id)
    try:
        await handle.execute_update(ComplaintWorkflow.link_duplicate, link)
    except (WorkflowUpdateFailedError, RPCError):
        return None
    return await run_in_threadpool(services.read_model.find, complaint_id)


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
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    sort: Annotated[str, Query(description="a column, '-' first for descending")] = "-received_at",
) -> Any:
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
        lambda: services.read_model.search(
            flt, offset=(page - 1) * page_size, limit=page_size, sort=column, descending=sort.startswith("-")
        )
    )
    return ComplaintPage(
        items=[ComplaintSummary(**_summary_fields(r, actor, services)) for r in rows],
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
    found = await run_in_threadpool(services.read_model.get, complaint_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}")
    judgements = await run_in_threadpool(JudgementStore.of(services.read_model).of_complaint, complaint_id)
    return _detail(*found, actor, services).model_copy(update={"judgements": judgements})


async def act_on_complaint(services: Services, complaint_id: str, update: Any, request: Any) -> Any:
    """Send an agent action to the complaint's workflow: 404 if unknown, 409 once it has finished."""
    if await run_in_threadpool(services.read_model.find, complaint_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}")

    async def current_status() -> str:
        row = await run_in_threadpool(services.read_model.find, complaint_id)
        return row.status if row else "unknown"

    handle = services.temporal.get_workflow_handle(complaint_workflow_id(complaint_id))
    return await update_or_409(handle, update, request, current_status, f"complaint {complaint_id}")


Handler = Annotated[Actor, Depends(require(Permission.HANDLE_COMPLAINT))]


@router.post("/{complaint_id}/first-contact-answer", response_model=ComplaintState)
async def answer_at_first_contact(complaint_id: str, body: FirstContactAnswer, services: ServicesDep, actor: Handler) -> Any:
    """Simple query answered at once: the case closes at first contact."""
    req = AnswerAtFirstContact(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.answer_at_first_contact, req)


@router.post("/{complaint_id}/first-contact", response_model=ComplaintState)
async def record_first_contact(complaint_id: str, body: FirstContact, services: ServicesDep, actor: Handler) -> Any:
    """First contact with the customer (apology, why it matters, first direction): stops that clock."""
    req = RecordFirstContact(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.record_first_contact, req)


@router.post("/{complaint_id}/handling", response_model=ComplaintState)
async def take_into_handling(complaint_id: str, body: HandlingStart, services: ServicesDep, actor: Handler) -> Any:
    req = TakeIntoHandling(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.take_into_handling, req)


@router.post("/{complaint_id}/resolution", response_model=ComplaintState)
async def resolve(complaint_id: str, body: Resolution, services: ServicesDep, actor: Handler) -> Any:
    req = Resolve(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.resolve, req)


@router.post("/{complaint_id}/customer-confirmation", response_model=ComplaintState)
async def confirm_with_customer(
    complaint_id: str, body: CustomerConfirmation, services: ServicesDep, actor: Handler
) -> Any:
    req = ConfirmWithCustomer(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.confirm_with_customer, req)


@router.post("/{complaint_id}/callback", response_model=ComplaintState)
async def record_callback(complaint_id: str, body: SatisfactionCallback, services: ServicesDep, actor: Handler) -> Any:
    """Satisfaction call-back: satisfied closes, dissatisfied sends the case back to handling."""
    req = RecordCallback(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.record_callback, req)


@router.post("/{complaint_id}/unresolvable-closure", response_model=ComplaintState)
async def close_unresolvable(
    complaint_id: str,
    body: UnresolvableClosure,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.CLOSE_UNRESOLVABLE))],
) -> Any:
    req = CloseUnresolvable(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.close_unresolvable, req)


@router.post("/{complaint_id}/progress-updates", response_model=ComplaintState)
async def record_progress_update(complaint_id: str, body: ProgressUpdate, services: ServicesDep, actor: Handler) -> Any:
    """The customer was told how things stand: the automatic update of this interval is skipped."""
    req = RecordProgressUpdate(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.record_progress_update, req)


@router.post("/{complaint_id}/solution-extension", response_model=ComplaintState)
async def extend_solution_clock(complaint_id: str, body: SolutionExtension, services: ServicesDep, actor: Handler) -> Any:
    """4 → 8 hours to the solution, accepted only while the 4 hours have not run out (409 after)."""
    req = ExtendSolutionClock(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.extend_solution_clock, req)


ComplexCaseManager = Annotated[Actor, Depends(require(Permission.MANAGE_COMPLEX_CASE))]


@router.post("/{complaint_id}/complex", response_model=ComplaintState)
async def make_complex(complaint_id: str, body: ComplexCaseOpening, services: ServicesDep, actor: ComplexCaseManager) -> Any:
    req = MakeComplex(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.make_complex, req)


@router.post("/{complaint_id}/coordination-meeting", response_model=ComplaintState)
async def record_coordination_meeting(
    complaint_id: str, body: CoordinationMeeting, services: ServicesDep, actor: ComplexCaseManager
) -> Any:
    for index, unit in enumerate(body.departments):
        if unit not in services.policy.units:
            return invalid_field(f"departments.{index}", "unknown unit", unit)
    req = RecordCoordinationMeeting(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.record_coordination_meeting, req)


@router.post("/{complaint_id}/plan", response_model=ComplaintState)
async def agree_plan(complaint_id: str, body: ActionPlan, services: ServicesDep, actor: ComplexCaseManager) -> Any:
    """The agreed actions, each with a department, an owner and a due date, tracked on its own clock."""
    for index, action in enumerate(body.actions):
        if action.department not in services.policy.units:
            return invalid_field(f"actions.{index}.department", "unknown unit", action.department)
    req = AgreePlan(actor=actor, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.agree_plan, req)


@router.post("/{complaint_id}/plan/{number}/done", response_model=ComplaintState)
async def complete_action(complaint_id: str, number: Annotated[int, Path(ge=1)], body: ActionDone, services: ServicesDep, actor: Handler) -> Any:
    """An action is reported done; the last one resolves the case."""
    req = CompleteAction(actor=actor, number=number, **body.model_dump())
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.complete_action, req)
