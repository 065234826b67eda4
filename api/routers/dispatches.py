"""Tickets, dispatches, urgent review, replies, unit inboxes and escalations in flight."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.case_actions import act_on_case, at_or_above_or_403, act_on_complaint, found_or_404, row_only
from api.dependencies import Services, ServicesDep, require
from api.routers.pauses import pause_request
from api.timelines import DispatchEventView
from rules.actors import Actor, Permission
from rules.customer_data import masked_strings, masked_text, people_named
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import PriorityRefused, dispatch_terms, reviewing_office, ticket_priority
from rules.reply_checks import Reply
from workflows.case import Text
from workflows.complaint import ComplaintWorkflow
from workflows.dispatch import DispatchWorkflow
from workflows.dispatch_messages import (
    DispatchView,
    RaiseDispatch,
    ReplyAnswer,
    ReplyReturn,
    ReplyToDispatch,
    ReturnReply,
    ReviewUrgentTicket,
    UrgentReview,
)
from workflows.pauses import ClockPauseRequest, ClockResumeRequest, ResumeClocks

router = APIRouter(tags=["dispatches"])


class TicketRequest(BaseModel):
    """Open a ticket (工单) to the assisting office; urgency follows the classification unless given."""

    model_config = ConfigDict(extra="forbid")

    assisting_unit: str
    instruction: Text
    priority: TicketPriority | None = None


class DispatchRequest(BaseModel):
    """A direct dispatch (front seat → production unit) or a linked one (assisting office → unit)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["direct_dispatch", "linked_dispatch"]
    unit: str
    instruction: Text


class Raised(BaseModel):
    dispatch_id: str
    complaint_id: str


class DispatchDetail(DispatchView):
    events: list[DispatchEventView]


Raiser = Annotated[Actor, Depends(require(Permission.RAISE_DISPATCH))]
Reader = Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))]


def _unit_or_422(services: Services, unit: str, field: str) -> None:
    if unit not in services.policy.units:
        raise HTTPException(422, [{"loc": ["body", field], "msg": f"unknown unit {unit!r}", "input": unit}])


async def _raise(services: Services, complaint_id: str, req: RaiseDispatch) -> Any:
    dispatch_id = await act_on_complaint(services, complaint_id, ComplaintWorkflow.raise_dispatch, req)
    if isinstance(dispatch_id, JSONResponse):
        return dispatch_id
    return Raised(dispatch_id=dispatch_id, complaint_id=complaint_id)


@router.post("/complaints/{complaint_id}/tickets", status_code=201, response_model=Raised)
async def open_ticket(complaint_id: str, body: TicketRequest, services: ServicesDep, actor: Raiser) -> Any:
    _unit_or_422(services, body.assisting_unit, "assisting_unit")
    row = await found_or_404(services.read_model.complaints.find, complaint_id, "complaint")
    try:
        priority = ticket_priority(body.priority, row.urgency)
    except PriorityRefused as err:
        raise HTTPException(422, [{"loc": ["body", "priority"], "msg": str(err), "input": body.priority}]) from err
    terms = dispatch_terms(services.policy, DispatchKind.TICKET, priority, body.assisting_unit)
    req = RaiseDispatch(actor=actor, kind=DispatchKind.TICKET, priority=priority, unit=body.assisting_unit,
                        instruction=body.instruction, **dict(terms), reply_checks=services.policy.reply_checks)
    return await _raise(services, complaint_id, req)


@router.post("/complaints/{complaint_id}/dispatches", status_code=201, response_model=Raised)
async def raise_dispatch(complaint_id: str, body: DispatchRequest, services: ServicesDep, actor: Raiser) -> Any:
    _unit_or_422(services, body.unit, "unit")
    kind = DispatchKind(body.kind)
    terms = dispatch_terms(services.policy, kind, TicketPriority.NORMAL, body.unit)
    req = RaiseDispatch(actor=actor, kind=kind, unit=body.unit, instruction=body.instruction, **dict(terms),
                        reply_checks=services.policy.reply_checks)
    return await _raise(services, complaint_id, req)


async def _dispatch_or_404(services: Services, dispatch_id: str) -> Any:
    return await found_or_404(services.read_model.dispatches.get, dispatch_id, "dispatch")


async def _update_dispatch(services: Services, dispatch_id: str, update: Any, req: Any) -> Any:
    """The workflow's answer, its dispatch view masked as every read is (`_views`)."""
    answer = await act_on_case(services, dispatch_id, update, req, what=f"dispatch {dispatch_id}",
                               row=row_only(services.read_model.dispatches.get, dispatch_id))
    if isinstance(answer, DispatchView):
        return (await _views(services, [answer]))[0]
    if isinstance(answer, ReplyAnswer):
        return answer.model_copy(update={"dispatch": (await _views(services, [answer.dispatch]))[0]})
    return answer


@router.post("/dispatches/{dispatch_id}/review", response_model=DispatchView)
async def review_urgent_ticket(
    dispatch_id: str,
    body: UrgentReview,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.REVIEW_URGENT_TICKET))],
) -> Any:
    """The urgent-item group confirms (dispatch at once, director texted) or downgrades."""
    await _dispatch_or_404(services, dispatch_id)
    req = ReviewUrgentTicket(actor=actor, **body.model_dump())
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.review, req)


@router.post("/dispatches/{dispatch_id}/reply", response_model=ReplyAnswer)
async def reply_to_dispatch(
    dispatch_id: str,
    body: Reply,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.REPLY_TO_DISPATCH))],
) -> Any:
    """Only the unit the dispatch is addressed to, or a unit above it, may answer."""
    row, _ = await _dispatch_or_404(services, dispatch_id)
    at_or_above_or_403(services, actor.unit, row.unit, f"dispatch {dispatch_id} is addressed to {row.unit}")
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.reply, ReplyToDispatch(actor=actor, reply=body))


@router.post("/dispatches/{dispatch_id}/return", response_model=DispatchView)
async def return_reply(
    dispatch_id: str,
    body: ReplyReturn,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.RETURN_REPLY))],
) -> Any:
    """The reviewing office (or a unit above it) returns an accepted answer by hand, with a reason:
    a linked dispatch's reviewer is the office that raised it, a ticket's or direct dispatch's the
    complaint's lead office. 409 when there is no accepted answer to return."""
    row, events = await _dispatch_or_404(services, dispatch_id)
    complaint = await found_or_404(services.read_model.complaints.find, row.complaint_id, "complaint")
    raised_by_unit = next((e.actor_unit for e in events if e.action == "raise"), complaint.lead_unit)
    reviewer = reviewing_office(DispatchKind(row.kind), raised_by_unit=raised_by_unit, lead_unit=complaint.lead_unit)
    at_or_above_or_403(services, actor.unit, reviewer, f"dispatch {dispatch_id}'s answer is reviewed by {reviewer}")
    if complaint.status == "closed":
        return JSONResponse(status_code=409, content={
            "detail": f"complaint {row.complaint_id} is closed; its answers stand", "current_status": row.status})
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.return_reply,
                                  ReturnReply(actor=actor, reason=body.reason))


@router.get("/dispatches/{dispatch_id}", response_model=DispatchDetail)
async def get_dispatch(dispatch_id: str, services: ServicesDep, _: Reader) -> Any:
    row, events = await _dispatch_or_404(services, dispatch_id)
    [view] = await _views(services, [row])
    return DispatchDetail(
        **view.model_dump(),
        events=[DispatchEventView.model_validate(e, from_attributes=True).model_copy(
            update={"detail": masked_strings(e.detail)}) for e in events],
    )


@router.get("/complaints/{complaint_id}/dispatches", response_model=list[DispatchView])
async def dispatches_of_complaint(complaint_id: str, services: ServicesDep, _: Reader) -> Any:
    """The complaint's dispatches, and those of the complaints merged into it (rules/merging.py)."""
    await found_or_404(services.read_model.complaints.find, complaint_id, "complaint")

    def rows() -> list[Any]:
        read_model = services.read_model
        return [row for case_id in [complaint_id, *read_model.complaints.merged_into(complaint_id)]
                for row in read_model.dispatches.matching(complaint_id=case_id)]

    return await _views(services, await run_in_threadpool(rows))


@router.get("/units/{unit}/inbox", response_model=list[DispatchView])
async def unit_inbox(unit: str, services: ServicesDep, _: Reader) -> Any:
    """A unit's open dispatches and tickets: overdue first, then by due instant."""
    if unit not in services.policy.units:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {unit}")
    rows = await run_in_threadpool(lambda: services.read_model.dispatches.matching(units=[unit], open_only=True))
    return await _views(services, rows)


@router.get("/escalations", response_model=list[DispatchView])
async def escalations_in_flight(services: ServicesDep, _: Reader) -> Any:
    rows = await run_in_threadpool(lambda: services.read_model.dispatches.matching(open_only=True, escalated_only=True))
    return await _views(services, rows)


async def _views(services: Services, rows: Sequence[Any]) -> list[DispatchView]:
    """Dispatches as the API shows them: the complaint's people's names, and the phone numbers, e-mail
    addresses and ID cards an instruction or a finding quotes, masked (DOMAIN §9); the unit that must
    call reveals the number (POST /complaints/{id}/reveal)."""
    views = [r if isinstance(r, DispatchView) else DispatchView(
        dispatch_id=r.id, **{k: getattr(r, k) for k in DispatchView.model_fields if k != "dispatch_id"}) for r in rows]

    def names() -> dict[str, list[str]]:
        found = {cid: services.read_model.complaints.find(cid) for cid in {v.complaint_id for v in views}}
        return {cid: people_named(c.complainant_name, c.sender, c.recipient) for cid, c in found.items() if c is not None}

    named = await run_in_threadpool(names)
    return [v.model_copy(update={
        "instruction": masked_text(v.instruction, names=named.get(v.complaint_id, [])),
        "finding": masked_text(v.finding, names=named.get(v.complaint_id, [])) if v.finding else v.finding})
        for v in views]


# -- clock pause (rules/pauses.py; the reasons' check shared with the complaint's: api/routers/pauses.py) --

DispatchClockPauser = Annotated[Actor, Depends(require(Permission.PAUSE_DISPATCH_CLOCK))]


async def _addressed_unit_or_403(services: Services, dispatch_id: str, actor: Actor) -> None:
    row, _ = await found_or_404(services.read_model.dispatches.get, dispatch_id, "dispatch")
    at_or_above_or_403(services, actor.unit, row.unit, f"dispatch {dispatch_id} is addressed to {row.unit}")


@router.post("/dispatches/{dispatch_id}/pause", response_model=DispatchView)
async def pause_dispatch_clock(dispatch_id: str, body: ClockPauseRequest, services: ServicesDep,
                               actor: DispatchClockPauser) -> Any:
    """The addressed unit pauses its clock before it is due (its warnings and ladder wait too)."""
    await _addressed_unit_or_403(services, dispatch_id, actor)
    req = pause_request(services.policy.pauses.dispatch, body, actor)
    if isinstance(req, JSONResponse):
        return req
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.pause_clock, req)


@router.post("/dispatches/{dispatch_id}/resume", response_model=DispatchView)
async def resume_dispatch_clock(dispatch_id: str, body: ClockResumeRequest, services: ServicesDep,
                                actor: DispatchClockPauser) -> Any:
    """The clock runs again with the working time it had left; its rungs move with it."""
    await _addressed_unit_or_403(services, dispatch_id, actor)
    req = ResumeClocks(actor=actor, note=body.note)
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.resume_clock, req)
