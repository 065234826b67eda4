"""Complaint intake (DOMAIN §2): a channel's or an agent's complaint becomes a case — checked against
the policy, given an id from its idempotency key, joined to the open case it duplicates or marked as
a repeat, classified, given its first-contact deadline, started as a workflow and written to the read
model at once. POST /complaints calls `file_complaint`."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.calendar import deadline_for
from api.dependencies import Services
from api.errors import invalid_field
from readmodel.tables import ComplaintRow
from rules.actors import Actor
from rules.classification import Classification, ComplainantHistory, classify
from rules.customer_clocks import FIRST_CONTACT
from rules.intake import ComplaintIntake
from rules.lifecycle import ComplaintStatus
from rules.repeats import duplicate_of, repeat_of
from workflows.complaint import COMPLAINT_PATCHES, ComplaintWorkflow
from workflows.complaint_messages import (
    ComplaintFiling,
    LinkDuplicate,
    complaint_details,
    complaint_summary,
    complaint_workflow_id,
    opening_changes,
    search_attributes_at_filing,
)
from workflows.deadlines import DeadlineRequest

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


@dataclass(frozen=True)
class Filed:
    """What intake answers: the case, and whether this request opened it (201) or found it (200)."""

    created: ComplaintCreated
    opened: bool


def case_id(letter: str, seed: str | None) -> str:
    """A case id derived from `seed` (the idempotency key or the channel's message id) when there is
    one, so that a retried request maps to the same workflow id and Temporal itself refuses a second
    execution; a random one without."""
    digest = hashlib.sha256(seed.encode() if seed is not None else uuid.uuid4().bytes).digest()
    return letter + base64.b32encode(digest).decode()[:12]


def complaint_id(idempotency_key: str | None, intake: ComplaintIntake) -> str:
    if idempotency_key is not None:
        return case_id("C", f"key:{idempotency_key}")
    if intake.channel_message_id is not None:
        return case_id("C", f"msg:{intake.channel.value}:{intake.channel_message_id}")
    return case_id("C", None)


def classification_of(row: ComplaintRow) -> Classification:
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


def _found(services: Services, row: ComplaintRow, **how: object) -> Filed:
    """An answer for a complaint the read model already has: a replayed request or a duplicate joined."""
    return Filed(ComplaintCreated(
        complaint_id=row.id, workflow_id=row.workflow_id, status=row.status, classification=classification_of(row),
        repeat_of=row.repeat_of or [], temporal_ui_url=services.web_ui_url(row.workflow_id), **how,
    ), opened=False)


def refusal(services: Services, intake: ComplaintIntake, now: datetime) -> JSONResponse | None:
    """The 422 for an intake the policy refuses: an unknown category or tier, a received time ahead."""
    policy = services.policy
    if policy.category(intake.category) is None:
        known = ", ".join(c.code for c in policy.categories)
        return invalid_field("category", f"unknown category; one of: {known}", intake.category)
    if intake.complainant.tier not in policy.priority.tiers:
        return invalid_field(
            "complainant.tier", f"unknown tier; one of: {', '.join(policy.priority.tiers)}", intake.complainant.tier
        )
    if intake.received_at > now + RECEIVED_AT_TOLERANCE:
        return invalid_field("received_at", "lies in the future", intake.received_at.isoformat())
    return None


async def file_complaint(
    services: Services, intake: ComplaintIntake, actor: Actor, idempotency_key: str | None
) -> Filed | JSONResponse:
    """File one complaint: a new case (opened), the same one again (the open case it joined), or a
    retried request (the case it filed the first time)."""
    now = datetime.now(UTC)
    if (refused := refusal(services, intake, now)) is not None:
        return refused
    policy, read_model = services.policy, services.read_model
    new_id = complaint_id(idempotency_key, intake)
    duplicate_window = timedelta(hours=policy.priority.duplicate_window_hours)
    repeat_window = timedelta(days=policy.priority.repeat_window_days)
    existing, earlier = await run_in_threadpool(
        lambda: read_model.complaints.intake_context(
            new_id, phone=intake.complainant.phone, tracking_number=intake.tracking_number,
            since=intake.received_at - max(repeat_window, duplicate_window),
        )
    )
    if existing is None and (duplicate := duplicate_of(intake, earlier, duplicate_window)):
        joined = await _link_duplicate(services, duplicate, new_id, intake, actor)
        if joined is not None:
            return _found(services, joined, replayed=False, duplicate_of=joined.id)
    if existing is None:
        repeats = repeat_of(intake, [e for e in earlier if e.received_at >= intake.received_at - repeat_window])
        history = ComplainantHistory(earlier_complaints=len(earlier), repeat_of=tuple(repeats))
        classification = classify(intake, policy, history)
        first_contact = deadline_for(policy, DeadlineRequest(
            unit=actor.unit, start=intake.received_at, clock=FIRST_CONTACT,
            category=intake.category, level=classification.level,
        ))
        filing = ComplaintFiling(
            complaint_id=new_id, intake=intake, classification=classification, filed_by=actor, filed_at=now,
            lead_unit=actor.unit, first_contact=first_contact, repeat_of=repeats, built_with=list(COMPLAINT_PATCHES),
            automatic_progress_text=policy.clocks.customer.automatic_progress_text,
        )
        if await _start(services, filing):
            workflow_id = complaint_workflow_id(new_id)
            return Filed(ComplaintCreated(
                complaint_id=new_id, workflow_id=workflow_id, status=ComplaintStatus.CLASSIFIED,
                classification=classification, replayed=False, repeat_of=repeats,
                temporal_ui_url=services.web_ui_url(workflow_id),
            ), opened=True)
        existing = await run_in_threadpool(read_model.complaints.find, new_id)
        if existing is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "this idempotency key belongs to a complaint being filed")
    return _found(services, existing, replayed=True)


async def _start(services: Services, filing: ComplaintFiling) -> bool:
    """Start the case's workflow and write its opening rows; False when a workflow with this id has
    already run to the end (the read model has the case)."""
    try:
        await services.temporal.start_workflow(
            ComplaintWorkflow.run,
            filing,
            id=complaint_workflow_id(filing.complaint_id),
            task_queue=services.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=search_attributes_at_filing(filing),
            static_summary=complaint_summary(filing),
            static_details=complaint_details(filing),
        )
    except WorkflowAlreadyStartedError:
        return False
    # Written here too (idempotently, same rows as the workflow's first write) so the complaint is
    # readable the moment the caller has its id.
    await run_in_threadpool(services.read_model.complaints.record, opening_changes(filing))
    return True


async def _link_duplicate(
    services: Services, open_id: str, key: str, intake: ComplaintIntake, actor: Actor
) -> ComplaintRow | None:
    """Record the duplicate on the open case; None when that case has closed meanwhile (then the
    complaint is filed as a new one, a repeat)."""
    handle = services.temporal.get_workflow_handle(complaint_workflow_id(open_id))
    link = LinkDuplicate(actor=actor, key=key, channel=intake.channel.value, received_at=intake.received_at,
                         channel_message_id=intake.channel_message_id)
    try:
        await handle.execute_update(ComplaintWorkflow.link_duplicate, link)
    except (WorkflowUpdateFailedError, RPCError):
        return None
    return await run_in_threadpool(services.read_model.complaints.find, open_id)
