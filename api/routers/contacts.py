"""/contacts: consultations, rescue requests and new failure modes (DOMAIN §2) — intake, the desk's
and the department's actions, and reads from the read model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.calendar import deadline_for
from api.case_actions import act_on_case, at_or_above_or_403, found_or_404
from api.dependencies import RATE_LIMITED, Services, ServicesDep, require, within_intake_rate
from api.errors import invalid_field
from api.intake import RECEIVED_AT_TOLERANCE, case_id, fingerprint, key_misuse, wait_for_case
from api.reveals import Reason, reveal_once
from api.timelines import TimelineEvent
from readmodel.tables import ContactRow
from rules.actors import Actor, Permission
from rules.customer_data import (ContactRevealableField, masked_address, masked_name, masked_phone, masked_strings,
                                 masked_text)
from rules.contact import TRANSITIONS, ContactAction, ContactIntake, ContactKind, ContactStatus, InvalidContactStep
from rules.org_chart import UnitKind
from workflows.contact import CONTACT_PATCHES, CONTACT_WORKFLOWS, ConsultationWorkflow
from workflows.contact_messages import (
    AnswerAtOnce,
    AnswerContactAtOnce,
    CallBack,
    CallCustomerBack,
    ContactFiling,
    ContactState,
    DepartmentAnswer,
    HandOver,
    HandOverContact,
    RecordDepartmentAnswer,
    contact_details,
    contact_search_attributes,
    contact_summary,
    contact_workflow_id,
    opening_changes,
    opening_requests,
)
from workflows.clocks import Clock

router = APIRouter(prefix="/contacts", tags=["contacts"])


class ContactCreated(BaseModel):
    contact_id: str
    workflow_id: str
    kind: ContactKind
    status: str
    clocks: list[Clock]  # each with its due instant (UTC) and on the acting unit's wall clock
    replayed: bool  # true when an Idempotency-Key or channel message id matched an earlier request
    temporal_ui_url: str


class ContactDetail(BaseModel):
    contact_id: str
    workflow_id: str
    kind: ContactKind
    status: str
    channel: str
    channel_message_id: str | None
    received_at: datetime
    filed_at: datetime
    filed_by: str
    desk_unit: str
    customer_name: str
    customer_phone: str
    customer_tier: str
    tracking_number: str | None
    description: str
    location: str | None
    evidence: Any
    handed_to: str | None
    clocks: list[Clock]
    missed_clocks: int  # clocks missed so far (each told to the supervisor of the unit that owed it)
    closed_at: datetime | None
    temporal_ui_url: str
    timeline: list[TimelineEvent]


def _seed(idempotency_key: str | None, intake: ContactIntake) -> str | None:
    """What makes a retried filing the same request: its key, else the channel's message id."""
    return (f"contact-key:{idempotency_key}" if idempotency_key is not None
            else f"contact-msg:{intake.channel.value}:{intake.channel_message_id}" if intake.channel_message_id
            else None)


def _created(row: ContactRow, services: Services, replayed: bool) -> ContactCreated:
    return ContactCreated(contact_id=row.id, workflow_id=row.workflow_id, kind=row.kind, status=row.status,
                          clocks=row.clocks or [], replayed=replayed, temporal_ui_url=services.web_ui_url(row.workflow_id))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContactCreated,
             dependencies=[Depends(within_intake_rate)], responses=RATE_LIMITED)  # 429: api/limits.py
async def file_contact(
    intake: ContactIntake,
    services: ServicesDep,
    response: Response,
    actor: Annotated[Actor, Depends(require(Permission.FILE_CONTACT))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> Any:
    policy = services.policy
    if intake.customer.tier not in policy.priority.tiers:
        return invalid_field("customer.tier", f"unknown tier; one of: {', '.join(policy.priority.tiers)}", intake.customer.tier)
    if intake.received_at > datetime.now(UTC) + RECEIVED_AT_TOLERANCE:
        return invalid_field("received_at", "lies in the future", intake.received_at.isoformat())
    if intake.kind is ContactKind.RESCUE_REQUEST and intake.location is None:
        return invalid_field("location", "a rescue request needs where the customer is, to find the nearest service point")

    seed = _seed(idempotency_key, intake)
    contact_id = case_id("K", seed)  # from the key or message id when there is one (see `case_id`)
    store = services.read_model.contacts
    if seed is not None:  # bound to its caller and body; a concurrent retry waits for the first's contact
        body, now = fingerprint(intake), datetime.now(UTC)
        binding = await run_in_threadpool(lambda: services.read_model.claims.bind_key(
            seed, caller=actor.id, fingerprint=body, case_id=contact_id, now=now))
        assert binding is not None
        if idempotency_key is not None and (misuse := key_misuse(binding, actor.id, body, idempotency_key)):
            return misuse
        if not binding.taken and (earlier := await wait_for_case(services, seed, binding, store.find)) is not None:
            response.status_code = status.HTTP_200_OK
            return _created(earlier[0], services, replayed=True)
    existing = await run_in_threadpool(store.find, contact_id)
    if existing is None:
        filing = ContactFiling(contact_id=contact_id, intake=intake, filed_by=actor, filed_at=datetime.now(UTC),
                               desk_unit=actor.unit, built_with=list(CONTACT_PATCHES))
        # The calendar activity's own function: the deadlines travel in the input, recorded in history.
        filing = filing.model_copy(update={"opening": [deadline_for(policy, req) for _, req in opening_requests(filing)]})
        try:
            await services.temporal.start_workflow(
                CONTACT_WORKFLOWS[intake.kind].run, filing, id=contact_workflow_id(contact_id),
                task_queue=services.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=contact_search_attributes(filing),
                static_summary=contact_summary(filing), static_details=contact_details(filing),
            )
        except WorkflowAlreadyStartedError:
            pass  # already ran to the end for this key: the read model has it
        else:
            # Written here too (the same rows the workflow writes first), so it is readable at once.
            await run_in_threadpool(store.record, opening_changes(filing, filing.opening))
            row = await run_in_threadpool(store.find, contact_id)
            assert row is not None
            return _created(row, services, replayed=False)
        existing = await run_in_threadpool(store.find, contact_id)
        if existing is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "this idempotency key belongs to a contact being filed")
    response.status_code = status.HTTP_200_OK
    return _created(existing, services, replayed=True)


@router.get("/{contact_id}", response_model=ContactDetail)
async def get_contact(
    contact_id: str, services: ServicesDep, actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))]
) -> Any:
    found = await run_in_threadpool(services.read_model.contacts.get, contact_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no contact {contact_id}")
    row, events = found
    shown = {
        "contact_id": row.id, "clocks": row.clocks or [], "temporal_ui_url": services.web_ui_url(row.workflow_id),
        # Every person field masked for every role (DOMAIN §9); a rescue's location is an address.
        "customer_name": masked_name(row.customer_name), "customer_phone": masked_phone(row.customer_phone),
        "location": masked_address(row.location) if row.location else row.location,
        "description": masked_text(row.description, names=[row.customer_name]),
        "evidence": masked_strings(row.evidence, names=[row.customer_name]),
        "timeline": [TimelineEvent.model_validate(e, from_attributes=True).model_copy(
            update={"detail": masked_strings(e.detail, names=[row.customer_name])}) for e in events],
    }
    return ContactDetail(**{k: getattr(row, k) for k in ContactDetail.model_fields if k not in shown}, **shown)


class ContactRevealRequest(BaseModel):
    """One field of one contact, whole, and why it is needed now (written to the audit log)."""

    model_config = ConfigDict(extra="forbid")

    field: ContactRevealableField
    reason: Reason


class ContactRevealed(BaseModel):
    contact_id: str
    field: ContactRevealableField
    value: str


@router.post("/{contact_id}/reveal", response_model=ContactRevealed)
async def reveal(
    contact_id: str,
    body: ContactRevealRequest,
    services: ServicesDep,
    response: Response,
    actor: Annotated[Actor, Depends(require(Permission.REVEAL_CUSTOMER_DATA))],
) -> Any:
    """The customer's phone or a rescue's location whole, to call back or reach them (DOMAIN §9): answered
    once and audited; a production unit only for a contact handed over to it or a unit below it."""
    row = await _contact_or_404(services, contact_id)
    value = row.customer_phone if body.field is ContactRevealableField.CUSTOMER_PHONE else row.location
    shown = await reveal_once(services, actor, response, case_id=contact_id, field=body.field.value, value=value,
                              reason=body.reason, sent_to=[row.handed_to] if row.handed_to else [])
    return ContactRevealed(contact_id=contact_id, field=body.field, value=shown)


async def _contact_or_404(services: Services, contact_id: str) -> ContactRow:
    return await found_or_404(services.read_model.contacts.find, contact_id, "contact")


async def _act(services: Services, row: ContactRow, action: ContactAction, update: Any, req: Any) -> Any:
    """Send an action to the contact's workflow: 409 with the current status for a step its kind
    does not have, a step out of order (the workflow's validator) or a contact that has finished."""
    kind = ContactKind(row.kind)
    if (kind, action) not in TRANSITIONS:
        message = str(InvalidContactStep(kind, action, ContactStatus(row.status)))
        return JSONResponse(status_code=409, content={"detail": message, "current_status": row.status})

    return await act_on_case(services, row.workflow_id, update, req, what=f"{kind.value.replace('_', ' ')} {row.id}",
                             row=lambda: services.read_model.contacts.find(row.id))


DeskAgent = Annotated[Actor, Depends(require(Permission.HANDLE_CONTACT))]


@router.post("/{contact_id}/answer", response_model=ContactState)
async def answer_at_once(contact_id: str, body: AnswerAtOnce, services: ServicesDep, actor: DeskAgent) -> Any:
    """A consultation the desk can answer at once: it closes at first contact."""
    row = await _contact_or_404(services, contact_id)
    req = AnswerContactAtOnce(actor=actor, **body.model_dump())
    return await _act(services, row, ContactAction.ANSWER_AT_ONCE, ConsultationWorkflow.answer_at_once, req)


@router.post("/{contact_id}/hand-over", response_model=ContactState)
async def hand_over(contact_id: str, body: HandOver, services: ServicesDep, actor: DeskAgent) -> Any:
    """To the owning department (consultation; its answer clock starts on its calendar), or to the
    nearest service point, a production unit (rescue request, new failure mode)."""
    row = await _contact_or_404(services, contact_id)
    unit = services.policy.units.get(body.unit)
    if unit is None:
        return invalid_field("unit", "unknown unit", body.unit)
    if row.kind != ContactKind.CONSULTATION and unit.kind is not UnitKind.PRODUCTION:
        return invalid_field("unit", f"not a service point: a {row.kind.replace('_', ' ')} goes to a production unit", body.unit)
    req = HandOverContact(actor=actor, **body.model_dump())
    return await _act(services, row, ContactAction.HAND_OVER, CONTACT_WORKFLOWS[ContactKind(row.kind)].hand_over, req)


@router.post("/{contact_id}/department-answer", response_model=ContactState)
async def record_department_answer(
    contact_id: str,
    body: DepartmentAnswer,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.ANSWER_CONSULTATION))],
) -> Any:
    """Only the department the consultation was handed to, or a unit above it, answers."""
    row = await _contact_or_404(services, contact_id)
    if row.handed_to is not None:
        at_or_above_or_403(services, actor.unit, row.handed_to, f"contact {contact_id} was handed to {row.handed_to}")
    req = RecordDepartmentAnswer(actor=actor, **body.model_dump())
    return await _act(services, row, ContactAction.RECORD_DEPARTMENT_ANSWER, ConsultationWorkflow.record_department_answer, req)


@router.post("/{contact_id}/callback", response_model=ContactState)
async def call_back(contact_id: str, body: CallBack, services: ServicesDep, actor: DeskAgent) -> Any:
    """The desk calls the customer back with the department's answer: the consultation closes."""
    row = await _contact_or_404(services, contact_id)
    req = CallCustomerBack(actor=actor, **body.model_dump())
    return await _act(services, row, ContactAction.CALL_BACK, ConsultationWorkflow.call_back, req)
