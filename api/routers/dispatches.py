"""Tickets, dispatches, urgent review, replies, unit inboxes and escalations in flight."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.dependencies import Services, ServicesDep, require
from api.errors import update_or_409
from api.routers.complaints import act_on_complaint
from notifications.directory import units_above
from rules.actors import Actor, Permission
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import resolve_ladder
from rules.reply_checks import Reply
from workflows.complaint import ComplaintWorkflow
from workflows.dispatch import DispatchWorkflow
from workflows.case import Text
from workflows.dispatch_messages import (
    DispatchView,
    RaiseDispatch,
    ReplyAnswer,
    ReplyToDispatch,
    ReviewUrgentTicket,
    UrgentReview,
)

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


class DispatchEventView(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None
    to_status: str
    detail: Any


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
    policy = services.policy
    row = await run_in_threadpool(services.read_model.find, complaint_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}")
    priority = body.priority or (TicketPriority.URGENT if row.urgency == "urgent" else TicketPriority.NORMAL)
    urgent = priority is TicketPriority.URGENT
    review_unit = next((u for u, d in policy.units.items() if d.kind == "group" and u.endswith("urgent")), None)
    req = RaiseDispatch(
        actor=actor,
        kind=DispatchKind.TICKET,
        priority=priority,
        unit=body.assisting_unit,
        instruction=body.instruction,
        review_unit=review_unit if urgent else None,
        ladder=resolve_ladder(policy, "urgent_ticket" if urgent else "normal_ticket", body.assisting_unit),
        confirm_notice=_first(resolve_ladder(policy, "urgent_confirmed", body.assisting_unit)) if urgent else None,
        review_overdue_notice=_first(resolve_ladder(policy, "urgent_review", body.assisting_unit)) if urgent else None,
        reply_checks=policy.reply_checks,
    )
    return await _raise(services, complaint_id, req)


@router.post("/complaints/{complaint_id}/dispatches", status_code=201, response_model=Raised)
async def raise_dispatch(complaint_id: str, body: DispatchRequest, services: ServicesDep, actor: Raiser) -> Any:
    _unit_or_422(services, body.unit, "unit")
    req = RaiseDispatch(
        actor=actor,
        kind=DispatchKind(body.kind),
        unit=body.unit,
        instruction=body.instruction,
        ladder=resolve_ladder(services.policy, "overdue_dispatch", body.unit),
        reply_checks=services.policy.reply_checks,
    )
    return await _raise(services, complaint_id, req)


async def _dispatch_or_404(services: Services, dispatch_id: str) -> Any:
    found = await run_in_threadpool(services.read_model.dispatch, dispatch_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dispatch {dispatch_id}")
    return found


async def _update_dispatch(services: Services, dispatch_id: str, update: Any, req: Any) -> Any:
    async def current_status() -> str:
        row, _ = await _dispatch_or_404(services, dispatch_id)
        return str(row.status)

    handle = services.temporal.get_workflow_handle(dispatch_id)
    return await update_or_409(handle, update, req, current_status, f"dispatch {dispatch_id}")


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
    if actor.unit != row.unit and actor.unit not in units_above(services.policy, row.unit):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"dispatch {dispatch_id} is addressed to {row.unit}; {actor.unit} is neither that unit nor above it",
        )
    return await _update_dispatch(services, dispatch_id, DispatchWorkflow.reply, ReplyToDispatch(actor=actor, reply=body))


@router.get("/dispatches/{dispatch_id}", response_model=DispatchDetail)
async def get_dispatch(dispatch_id: str, services: ServicesDep, _: Reader) -> Any:
    row, events = await _dispatch_or_404(services, dispatch_id)
    return DispatchDetail(
        **_view(row).model_dump(),
        events=[DispatchEventView.model_validate(e, from_attributes=True) for e in events],
    )


@router.get("/complaints/{complaint_id}/dispatches", response_model=list[DispatchView])
async def dispatches_of_complaint(complaint_id: str, services: ServicesDep, _: Reader) -> Any:
    rows = await run_in_threadpool(lambda: services.read_model.dispatches(complaint_id=complaint_id))
    return [_view(r) for r in rows]


@router.get("/units/{unit}/inbox", response_model=list[DispatchView])
async def unit_inbox(unit: str, services: ServicesDep, _: Reader) -> Any:
    """A unit's open dispatches and tickets: overdue first, then by due instant."""
    if unit not in services.policy.units:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {unit}")
    rows = await run_in_threadpool(lambda: services.read_model.dispatches(units=[unit], open_only=True))
    return [_view(r) for r in rows]


@router.get("/escalations", response_model=list[DispatchView])
async def escalations_in_flight(services: ServicesDep, _: Reader) -> Any:
    rows = await run_in_threadpool(lambda: services.read_model.dispatches(open_only=True, escalated_only=True))
    return [_view(r) for r in rows]


def _view(row: Any) -> DispatchView:
    return DispatchView(dispatch_id=row.id, **{k: getattr(row, k) for k in DispatchView.model_fields if k != "dispatch_id"})


def _first(steps: list[Any]) -> Any:
    return steps[0] if steps else None

