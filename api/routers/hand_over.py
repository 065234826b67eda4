"""Shift hand-over (交接班, seed 003): a seat's or a unit's open work at shift end — its cases, the
clocks due in the next hours, the promises made to customers — as a list (`GET /hand-over`) and a
page (`/pages/hand-over`), and the hand-over itself: one case (`POST /complaints/{id}/hand-over`)
or every open case a seat or unit owns (`POST /hand-overs`), each a workflow Update that moves the
case's owner and writes a row on its timeline (rules/hand_over.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from temporalio.client import WorkflowUpdateFailedError

from api.case_actions import act_on_complaint, at_or_above_or_403, found_or_404
from api.dependencies import Services, ServicesDep, require
from api.errors import invalid_field
from api.figures import category_label, organisation_zone
from api.pages import PAGE_RESPONSES, form_token, form_token_holds, local_time, page_actor, render, secured
from api.routers.dashboard import time_left
from readmodel import hand_over as work
from readmodel.tables import ComplaintRow
from rules.actors import Actor, Permission
from rules.hand_over import DueItem, clocks_due, promises
from workflows.case import Text
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import ComplaintState, CaseHandOver, HandOverCase

router = APIRouter(tags=["hand-over"])

# The longest look ahead a list may ask for (a week); the default horizon is the policy's.
LONGEST_HOURS = 168
SeatId = Annotated[str, Field(min_length=1, max_length=100)]


class Seat(BaseModel):
    id: str
    name: str
    unit: str


class DueView(BaseModel):
    kind: str  # the clock's name (first_contact, solution, progress_update, action-1, ...)
    label: str
    due: datetime
    due_local: str  # on the wall clock of the unit that owes it
    overdue: bool


class HandOverCaseView(BaseModel):
    complaint_id: str
    status: str
    category: str
    urgency: str
    level: int
    priority: str
    queue: str | None  # the VIP queue, for a VIP customer's case
    complainant_tier: str
    lead_unit: str
    owner: Seat | None  # None: nobody has taken it into handling yet
    next_due: datetime | None
    clocks_due: list[DueView]  # unmet clocks due within the horizon, the overdue ones included
    promises: list[DueView]  # what the customer is still owed, whatever its horizon


class HandOverList(BaseModel):
    seat: str | None
    unit: str | None
    hours: float
    as_of: datetime
    until: datetime
    cases: list[HandOverCaseView]
    clocks_due: int
    promises: int


class BulkHandOver(BaseModel):
    """Every open case a seat owns (`from_seat`), or a unit's seats own (`unit`), to one seat."""

    model_config = ConfigDict(extra="forbid")

    from_seat: SeatId | None = None
    unit: SeatId | None = None
    to_seat: SeatId
    note: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BulkHandOver:
        if (self.from_seat is None) == (self.unit is None):
            raise ValueError("give from_seat or unit, not both")
        return self


class HandOverRefused(BaseModel):
    complaint_id: str
    reason: str


class BulkHandedOver(BaseModel):
    to_seat: Seat
    handed_over: list[ComplaintState]
    refused: list[HandOverRefused]  # e.g. closed meanwhile


def _owner(row: ComplaintRow) -> Seat | None:
    if row.owner_id is None:
        return None
    return Seat(id=row.owner_id, name=row.owner_name or "", unit=row.owner_unit or "")


def _due(item: DueItem) -> DueView:
    return DueView(kind=item.kind, label=item.label, due=item.due, due_local=item.due_local, overdue=item.overdue)


def hand_over_list(services: Services, seat: str | None, unit: str | None, hours: float, now: datetime) -> HandOverList:
    rows = work.open_work(services.read_model.engine, seat=seat, unit=unit)
    cases = [HandOverCaseView(
        complaint_id=r.id, status=r.status, category=r.category, urgency=r.urgency, level=r.level, priority=r.priority,
        queue=r.queue, complainant_tier=r.complainant_tier, lead_unit=r.lead_unit, owner=_owner(r),
        next_due=r.next_due, clocks_due=[_due(c) for c in clocks_due(r.clocks or [], now, hours)],
        promises=[_due(c) for c in promises(r.clocks or [], now)],
    ) for r in rows]
    return HandOverList(seat=seat, unit=unit, hours=hours, as_of=now, until=now + timedelta(hours=hours), cases=cases,
                        clocks_due=sum(len(c.clocks_due) for c in cases), promises=sum(len(c.promises) for c in cases))


def _whose_work(services: Services, actor: Actor, seat: str | None, unit: str | None) -> tuple[str | None, str | None]:
    """The seat or unit asked for (the caller's own seat when neither): 422 for both or an unknown unit."""
    if seat is not None and unit is not None:
        raise HTTPException(422, [{"loc": ["query", "unit"], "msg": "give seat or unit, not both", "input": unit}])
    if unit is not None and unit not in services.policy.units:
        raise HTTPException(422, [{"loc": ["query", "unit"], "msg": "unknown unit", "input": unit}])
    return (seat or actor.id, None) if unit is None else (None, unit)


Hours = Annotated[float | None, Query(gt=0, le=LONGEST_HOURS, description=(
    "how far ahead to list the clocks due (default: the policy's hand_over.horizon_hours)"))]


@router.get("/hand-over", response_model=HandOverList)
async def get_hand_over(
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    seat: Annotated[str | None, Query(min_length=1, max_length=100, description="a seat's actor id")] = None,
    unit: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    hours: Hours = None,
) -> Any:
    """A seat's (default: the caller's) or a unit's open work at shift end: its open complaints, each
    with the clocks due within `hours` and the promises still owed to the customer."""
    seat, unit = _whose_work(services, actor, seat, unit)
    horizon = hours or services.policy.hand_over.horizon_hours
    return await run_in_threadpool(hand_over_list, services, seat, unit, horizon, datetime.now(UTC))


def _receiving_seat(services: Services, to_seat: str) -> Actor | JSONResponse:
    """The seat a case goes to: a known actor who may handle complaints, else the 422 naming to_seat."""
    seat = services.tokens.seat(to_seat)
    if seat is None:
        return invalid_field("to_seat", "unknown seat", to_seat)
    if refusal := services.policy.permission_refusal(seat.role, Permission.HANDLE_COMPLAINT):
        return invalid_field("to_seat", f"this seat cannot take complaints over: {refusal}", to_seat)
    return seat


def _may_hand_over(services: Services, actor: Actor, row: ComplaintRow) -> None:
    """The owner hands over its own case; anyone else only from the owner's unit or above it."""
    if row.owner_id is not None and row.owner_id != actor.id:
        at_or_above_or_403(services, actor.unit, row.owner_unit,
                           f"complaint {row.id} is owned by seat {row.owner_id} of {row.owner_unit}: "
                           "that seat, its unit or a unit above it hands it over")


@router.post("/complaints/{complaint_id}/hand-over", response_model=ComplaintState,
             responses={409: {"description": "refused in the current state (the body names it)"}})
async def hand_over(
    complaint_id: str,
    body: CaseHandOver,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.HANDLE_COMPLAINT))],
) -> Any:
    """Hand one case over to another seat (交接班): its owner changes, and its timeline says from whom
    to whom. 409 for a closed case or one nobody has taken into handling yet."""
    seat = _receiving_seat(services, body.to_seat)
    if isinstance(seat, JSONResponse):
        return seat
    row = await found_or_404(services.read_model.complaints.find, complaint_id, "complaint")
    _may_hand_over(services, actor, row)
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.hand_over,
                                  HandOverCase(actor=actor, to=seat, note=body.note))


@router.post("/hand-overs", response_model=BulkHandedOver)
async def hand_over_shift(
    body: BulkHandOver,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.HANDLE_COMPLAINT))],
) -> Any:
    """At shift end: every open case a seat owns (`from_seat`), or the seats of a unit own (`unit`),
    handed over to `to_seat`, one Update each; a case that refuses (closed meanwhile) is listed with
    its reason and the rest go on."""
    seat = _receiving_seat(services, body.to_seat)
    if isinstance(seat, JSONResponse):
        return seat
    if body.unit is not None:
        if body.unit not in services.policy.units:
            return invalid_field("unit", "unknown unit", body.unit)
        at_or_above_or_403(services, actor.unit, body.unit, f"the seats of {body.unit} are handed over by that unit or above it")
    rows = await run_in_threadpool(work.open_work, services.read_model.engine, seat=body.from_seat, unit=body.unit)
    owned = [r for r in rows if r.owner_id is not None and r.owner_id != seat.id]
    for row in owned:
        _may_hand_over(services, actor, row)
    done, refused = [], []
    for row in owned:
        try:
            answer = await act_on_complaint(services, row.id, ComplaintWorkflow.hand_over,
                                            HandOverCase(actor=actor, to=seat, note=body.note))
        except WorkflowUpdateFailedError as err:  # refused by the case: closed or not taken meanwhile
            refused.append(HandOverRefused(complaint_id=row.id, reason=getattr(err.cause, "message", str(err))))
            continue
        if isinstance(answer, JSONResponse):  # its workflow has finished
            refused.append(HandOverRefused(complaint_id=row.id, reason=json.loads(bytes(answer.body))["detail"]))
        else:
            done.append(answer)
    return BulkHandedOver(to_seat=Seat(id=seat.id, name=seat.name, unit=seat.unit), handed_over=done, refused=refused)


# -- the page -----------------------------------------------------------------------------------

def _page_context(services: Services, actor: Actor, seat: str | None, unit: str | None, hours: float,
                  now: datetime) -> dict[str, Any]:
    policy = services.policy
    zone = organisation_zone(policy)
    listing = hand_over_list(services, seat, unit, hours, now)
    seats = sorted((a for _, a in services.tokens.by_digest
                    if a.id != seat and not policy.permission_refusal(a.role, Permission.HANDLE_COMPLAINT)),
                   key=lambda a: (a.unit != actor.unit, a.id))
    return {
        "organisation": policy.organisation, "now": local_time(now, zone), "until": local_time(listing.until, zone),
        "month": f"{now.astimezone(zone):%Y-%m}", "listing": listing, "seats": seats,
        "owned": sum(1 for c in listing.cases if c.owner is not None),
        "overdue": any(d.overdue for c in listing.cases for d in c.clocks_due),
        "vip": sum(1 for c in listing.cases if c.queue is not None),
        "may_hand_over": not policy.permission_refusal(actor.role, Permission.HANDLE_COMPLAINT),
        "category_label": lambda code: category_label(policy, code), "left": lambda due: time_left(due, now),
    }


@router.get("/pages/hand-over", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def hand_over_page(
    request: Request,
    services: ServicesDep,
    seat: Annotated[str | None, Query(max_length=100)] = None,  # the page's own form sends its fields empty
    unit: Annotated[str | None, Query(max_length=100)] = None,
    hours: Annotated[str | None, Query(max_length=10)] = None,
    handed: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    refused: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    """The hand-over list as a page (roles with `read_complaints`; log in as api/pages.py says), with
    a form that hands the listed cases over to another seat."""
    actor = page_actor(request, services, Permission.READ_COMPLAINTS)
    if isinstance(actor, Response):
        return actor
    seat, unit = _whose_work(services, actor, seat or None, unit or None)
    horizon = _page_hours(hours) or services.policy.hand_over.horizon_hours
    context = await run_in_threadpool(_page_context, services, actor, seat, unit, horizon, datetime.now(UTC))
    message = None
    if handed is not None:
        message = f"{handed} case{'s' if handed != 1 else ''} handed over" + (f"; {refused} refused" if refused else "")
    return render(request, "hand_over.html", {**context, "actor": actor, "message": message, "refused": refused,
                                              "csrf": form_token(request, services)})


def _page_hours(given: str | None) -> float | None:
    """The form's hours (empty: the policy's), bounded as the API's are."""
    if not given:
        return None
    try:
        if 0 < (hours := float(given)) <= LONGEST_HOURS:
            return hours
    except ValueError:
        pass
    raise HTTPException(422, [{"loc": ["query", "hours"], "msg": f"hours between 0 and {LONGEST_HOURS}", "input": given}])


@router.post("/pages/hand-over", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def hand_over_from_page(request: Request, services: ServicesDep) -> Response:
    """The page's form (csrf, from_seat or unit, to_seat, note): the bulk hand-over, then back to the
    list of the seat that took the cases over."""
    actor = page_actor(request, services, Permission.HANDLE_COMPLAINT)
    if isinstance(actor, Response):
        return actor
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), max_num_fields=10))
    if not form_token_holds(request, services, form.get("csrf", "")):
        return render(request, "refused.html", {"actor": actor, "message":
                      "this form's token is missing or stale (CSRF): reload the page and submit it again"}, status_code=403)
    try:
        body = BulkHandOver(from_seat=form.get("from_seat") or None, unit=form.get("unit") or None,
                            to_seat=form.get("to_seat", ""), note=form.get("note") or None)
    except ValidationError as err:
        raise HTTPException(422, [{k: e[k] for k in ("loc", "msg")} for e in err.errors()]) from None
    answer = await hand_over_shift(body, services, actor)
    if isinstance(answer, JSONResponse):
        return answer
    query = urlencode({"seat": answer.to_seat.id, "handed": len(answer.handed_over), "refused": len(answer.refused)})
    return secured(RedirectResponse(f"/pages/hand-over?{query}", status_code=303))
