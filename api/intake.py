"""Complaint intake (DOMAIN §2): a channel's or an agent's complaint becomes a case — checked against
the policy, given an id from its idempotency key (bound to its caller and body), joined to the open
case it duplicates (race-free across API replicas: a duplicate claim in the read model) or marked as
a repeat, classified, given its first-contact deadline, started as a workflow and written to the read
model at once. POST /complaints calls `file_complaint`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

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
from readmodel.intake import Binding, duplicate_key
from readmodel.tables import ComplaintRow
from rules.actors import Actor
from rules.classification import Classification, ComplainantHistory, classify
from rules.customer_clocks import FIRST_CONTACT
from rules.customer_data import normalised_phone
from rules.intake import ComplaintIntake
from rules.lifecycle import ComplaintStatus
from rules.repeats import EarlierComplaint, duplicate_of, repeat_of
from workflows.complaint import COMPLAINT_PATCHES, ComplaintWorkflow
from workflows.complaint_messages import (
    ComplaintFiling,
    LinkDuplicate,
    VipService,
    complaint_details,
    complaint_summary,
    complaint_workflow_id,
    opening_changes,
    search_attributes_at_filing,
)
from workflows.deadlines import DeadlineRequest

# A channel's clock may run a little ahead of ours; more than this is a wrong received time.
RECEIVED_AT_TOLERANCE = timedelta(minutes=5)
# How long a request waits for a case another request is filing (a retry with its key, the same
# complaint through another channel); a filing that has not appeared by then died, and is taken over.
FILING_TIMEOUT = timedelta(seconds=30)
IDEMPOTENCY_HEADER = "Idempotency-Key"


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


def request_seed(idempotency_key: str | None, intake: ComplaintIntake) -> str | None:
    """What makes a retried filing the same request: its key, else the channel's message id."""
    if idempotency_key is not None:
        return f"key:{idempotency_key}"
    if intake.channel_message_id is not None:
        return f"msg:{intake.channel.value}:{intake.channel_message_id}"
    return None


def complaint_id(idempotency_key: str | None, intake: ComplaintIntake) -> str:
    return case_id("C", request_seed(idempotency_key, intake))


def fingerprint(body: BaseModel) -> str:
    """The request body's digest: the same body in another key order or spacing is the same body."""
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def invalid_header(name: str, message: str, value: object = None) -> JSONResponse:
    """A 422 naming a request header, shaped like FastAPI's own validation errors."""
    return JSONResponse(status_code=422, content={
        "detail": [{"type": "value_error", "loc": ["header", name], "msg": message, "input": value}]})


def key_misuse(binding: Binding, caller: str, body_fingerprint: str, idempotency_key: str) -> JSONResponse | None:
    """The 422 for an idempotency key that an earlier request of another caller or body bound."""
    if binding.caller != caller:
        return invalid_header(IDEMPOTENCY_HEADER, "this key was used by another caller; use a key of your own",
                              idempotency_key)
    if binding.fingerprint != body_fingerprint:
        return invalid_header(IDEMPOTENCY_HEADER, "this key was used with another body; a new request needs a new key",
                              idempotency_key)
    return None


Row = TypeVar("Row")


async def wait_for_case(
    services: Services, scope_key: str, binding: Binding, find: Callable[[str], Row | None]
) -> tuple[Row, Binding] | None:
    """The case an earlier request with this key filed (or joined), once it is in the read model
    with the binding that names it; None when that request died before filing it and this one
    has taken the key over (it files the case itself)."""
    claims, pause = services.read_model.claims, 0.02
    while True:
        row = await run_in_threadpool(find, binding.case_id)
        if row is not None:
            return row, binding
        now = datetime.now(UTC)
        if now - binding.claimed_at > FILING_TIMEOUT and await run_in_threadpool(
                lambda: claims.rebind(scope_key, claimed_at=binding.claimed_at, now=now)):
            return None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)
        binding = await run_in_threadpool(claims.binding, scope_key) or binding


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


def _found(services: Services, row: ComplaintRow, **how: Any) -> Filed:
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
    retried request (the case it filed the first time; another caller or body is a 422)."""
    now = datetime.now(UTC)
    if (refused := refusal(services, intake, now)) is not None:
        return refused
    new_id = complaint_id(idempotency_key, intake)
    seed = request_seed(idempotency_key, intake)
    scope_key = f"complaint:{seed}" if seed is not None else None
    if scope_key is not None:
        body = fingerprint(intake)
        binding = await run_in_threadpool(lambda: services.read_model.claims.bind_key(
            scope_key, caller=actor.id, fingerprint=body, case_id=new_id, now=now))
        assert binding is not None
        if idempotency_key is not None and (misuse := key_misuse(binding, actor.id, body, idempotency_key)):
            return misuse
        if not binding.taken and (earlier := await wait_for_case(
                services, scope_key, binding, services.read_model.complaints.find)) is not None:
            row, bound = earlier
            return _found(services, row, replayed=True, duplicate_of=row.id if bound.case_id != new_id else None)
    filed = await _file(services, intake, actor, new_id, now)
    if scope_key is not None and not filed.opened and filed.created.duplicate_of is not None:
        await run_in_threadpool(services.read_model.claims.answered_with, scope_key, filed.created.complaint_id)
    return filed


def compared(intake: ComplaintIntake) -> ComplaintIntake:
    """The intake as duplicates and repeats compare it: the complainant's phone in its one form."""
    complainant = intake.complainant.model_copy(update={"phone": normalised_phone(intake.complainant.phone)})
    return intake.model_copy(update={"complainant": complainant})


@dataclass(frozen=True)
class IntakeContext:
    """What the read model knows of an intake before it is filed."""

    existing: ComplaintRow | None  # this id filed already
    earlier: list[EarlierComplaint]  # the customer's or the parcel's earlier complaints
    duplicate_window: timedelta
    repeat_window: timedelta


async def intake_context(services: Services, new_id: str, intake: ComplaintIntake) -> IntakeContext:
    policy = services.policy
    duplicate_window = timedelta(hours=policy.priority.duplicate_window_hours)
    repeat_window = timedelta(days=policy.priority.repeat_window_days)
    existing, earlier = await run_in_threadpool(
        lambda: services.read_model.complaints.intake_context(
            new_id, phone=intake.complainant.phone, tracking_number=intake.tracking_number,
            since=intake.received_at - max(repeat_window, duplicate_window),
        )
    )
    return IntakeContext(existing, earlier, duplicate_window, repeat_window)


async def intake_warnings(services: Services, intake: ComplaintIntake) -> tuple[str | None, list[str]]:
    """Before filing (the workspace's intake form): the open case this complaint would join as a
    duplicate, and the closed cases it would repeat, by the same rules filing applies."""
    context = await intake_context(services, "", intake)
    same = compared(intake)
    return (duplicate_of(same, context.earlier, context.duplicate_window),
            repeat_of(same, context.earlier, context.repeat_window))


async def _file(services: Services, intake: ComplaintIntake, actor: Actor, new_id: str, now: datetime) -> Filed:
    policy, read_model = services.policy, services.read_model
    context = await intake_context(services, new_id, intake)
    existing, earlier = context.existing, context.earlier
    duplicate_window, repeat_window = context.duplicate_window, context.repeat_window
    if existing is not None:  # filed before this request's key was bound (an older version)
        return _found(services, existing, replayed=True)
    same = compared(intake)
    if (duplicate := duplicate_of(same, earlier, duplicate_window)) is not None:
        joined = await _link_duplicate(services, duplicate, new_id, intake, actor)
        if joined is not None:
            return _found(services, joined, replayed=False, duplicate_of=joined.id)
    claim = duplicate_key(intake.complainant.phone, intake.tracking_number, intake.category)
    if (joined := await _join_or_claim(services, claim, same, new_id, actor, duplicate_window)) is not None:
        return _found(services, joined, replayed=False, duplicate_of=joined.id)
    repeats = repeat_of(same, earlier, repeat_window)
    history = ComplainantHistory(earlier_complaints=len(earlier), repeat_of=tuple(repeats))
    classification = classify(intake, policy, history)
    first_contact = deadline_for(policy, DeadlineRequest(
        unit=actor.unit, start=intake.received_at, clock=FIRST_CONTACT,
        category=intake.category, level=classification.level, tier=intake.complainant.tier,
    ))
    vip = policy.vip_service
    served_as_vip = VipService(queue=vip.queue, desk=vip.desk) if vip and policy.vip_tier(intake.complainant.tier) else None
    filing = ComplaintFiling(
        complaint_id=new_id, intake=intake, classification=classification, filed_by=actor, filed_at=now,
        lead_unit=actor.unit, first_contact=first_contact, repeat_of=repeats, built_with=list(COMPLAINT_PATCHES),
        automatic_progress_text=policy.clocks.customer.automatic_progress_text, vip=served_as_vip,
    )
    try:
        started = await _start(services, filing)
    except BaseException:
        await run_in_threadpool(read_model.claims.release, claim, new_id)
        raise
    if started:
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


async def _join_or_claim(
    services: Services, claim: str, intake: ComplaintIntake, new_id: str, actor: Actor, window: timedelta
) -> ComplaintRow | None:
    """Claim the duplicate key for the new case (None: start it), or join the open case that holds
    it: waiting while that case is being filed, taking the claim over from one that has closed,
    lies outside the window, or never appeared within FILING_TIMEOUT."""
    claims, refused, pause = services.read_model.claims, set[str](), 0.02
    give_up = time.monotonic() + FILING_TIMEOUT.total_seconds()
    while True:
        now = datetime.now(UTC)
        holder = await run_in_threadpool(lambda: claims.claim_duplicate(
            claim, complaint_id=new_id, received_at=intake.received_at, now=now))
        if holder.complaint_id == new_id:
            return None
        as_earlier = EarlierComplaint(holder.complaint_id, holder.status or ComplaintStatus.RECEIVED.value,
                                      intake.category, intake.complainant.phone, intake.tracking_number,
                                      holder.received_at)
        being_filed = holder.status is None and now - holder.claimed_at <= FILING_TIMEOUT
        if holder.complaint_id not in refused and duplicate_of(intake, [as_earlier], window) is not None and (
                being_filed or holder.status is not None):
            if being_filed and time.monotonic() < give_up:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.5)
                continue
            if holder.status is not None:
                if (joined := await _link_duplicate(services, holder.complaint_id, new_id, intake, actor)) is not None:
                    return joined
                refused.add(holder.complaint_id)  # it closed meanwhile: this complaint is a case of its own
        if await run_in_threadpool(lambda: claims.take_over(
                claim, holder=holder.complaint_id, complaint_id=new_id, received_at=intake.received_at, now=now)):
            return None


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
    merged = await run_in_threadpool(services.read_model.complaints.find, open_id)
    if merged is not None and merged.merged_into is not None:
        open_id = merged.merged_into  # the customer's contact on a merged case goes to its target
    handle = services.temporal.get_workflow_handle(complaint_workflow_id(open_id))
    link = LinkDuplicate(actor=actor, key=key, channel=intake.channel.value, received_at=intake.received_at,
                         channel_message_id=intake.channel_message_id)
    try:
        await handle.execute_update(ComplaintWorkflow.link_duplicate, link)
    except (WorkflowUpdateFailedError, RPCError):
        return None
    return await run_in_threadpool(services.read_model.complaints.find, open_id)
