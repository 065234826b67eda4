"""The workspace (工作台) agents and units work in, in a browser: **My work** (what waits on the
signed-in actor's unit and role, each with its clock counting down in working time), the **case
page** (the record masked, with the audited reveal; classification with reasons; clocks, timeline,
dispatches, judgements; the Temporal Web UI link), every step the API offers as a **form**
(api/workspace_forms.py) and **filing a complaint** from a call (api/workspace_intake.py).

Server-rendered like the dashboard (log-in, session and CSP: api/pages.py), over the API's own
functions: the pages read through the routers' read functions and take steps through the code their
endpoints run, so a page shows what the API answers and refuses what it refuses, with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from api.dependencies import PageQuery, Services, ServicesDep
from api.pages import PAGE_RESPONSES, form_token, form_token_holds, page_actor, render
from api.workspace_forms import form_fields, forms_open_now, submit
from api.routers import complaints, dispatches
from readmodel.complaints import ComplaintFilter
from readmodel.tables import ComplaintRow
from rules.actors import Actor, Permission
from rules.calendar import WorkingCalendar
from rules.customer_data import RevealableField
from rules.escalation import urgent_review_unit
from rules.lifecycle import OPEN_STATUSES, ComplaintStatus
from workflows.clocks import Clock
from workflows.judgement_messages import JudgementView

router = APIRouter(prefix="/workspace", tags=["workspace"], include_in_schema=False)

PAGE_SIZE = 25  # rows of My work per page, unless the address asks for another
FAR = datetime.max.replace(tzinfo=UTC)


def may(services: Services, actor: Actor, permission: Permission) -> bool:
    return services.policy.permission_refusal(actor.role, permission) is None


class Countdown:
    """A due instant as the unit that owes it counts it: working time left (or overdue by) on its own
    calendar (rules/calendar.py), and the wall-clock instant in its time zone. One calendar per unit
    and page."""

    def __init__(self, services: Services, now: datetime) -> None:
        self._policy, self.now = services.policy, now
        self._calendars: dict[str, tuple[WorkingCalendar, ZoneInfo]] = {}

    def _calendar(self, unit: str) -> tuple[WorkingCalendar, ZoneInfo] | None:
        if unit not in self._policy.units:
            return None
        name, spec = self._policy.calendar_of(unit)
        if name not in self._calendars:
            self._calendars[name] = WorkingCalendar(spec), ZoneInfo(spec.time_zone)
        return self._calendars[name]

    def text(self, due: datetime | None, unit: str) -> str:
        """'due in 1 h 20 min of working time, Mon 09:20' or 'overdue by 25 min of working time, due Mon 09:20'."""
        if due is None:
            return "no running clock"
        found = self._calendar(unit)
        if found is None:  # a unit the policy no longer has: wall-clock time
            calendar, zone, left = None, UTC, due - self.now
        else:
            calendar, zone = found
            left = calendar.working_time_between(self.now, due)
        when = due.astimezone(zone).strftime("%a %H:%M")
        span = _span(abs(left))
        of = " of working time" if calendar is not None else ""
        if due <= self.now:
            return f"overdue by {span}{of}, due {when}"
        return f"due in {span}{of}, {when}"

    def local(self, due: datetime | None, unit: str) -> str:
        if due is None:
            return "—"
        found = self._calendar(unit)
        return due.astimezone(found[1] if found else UTC).strftime("%Y-%m-%d %H:%M")


def _span(left: timedelta) -> str:
    """Whole minutes, as a clock counting down shows them."""
    hours, minutes = divmod(int(left.total_seconds() // 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


# -- My work -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """One row of My work: a complaint, a dispatch, an urgent ticket to review or a judgement."""

    kind: str
    id: str
    complaint_id: str
    what: str  # the clock or step it waits for
    status: str
    unit: str  # whose calendar the clock runs on
    due: datetime | None
    overdue: bool
    high: bool
    waiting_since: datetime
    countdown: str = ""
    warned: bool = False  # a warning before the breach was given (the clock is due soon)

    @property
    def order(self) -> tuple[Any, ...]:
        """Overdue first; then high priority first, then the soonest due, then the longest waiting
        (the same order as readmodel/complaints.py `sort='due'`, which pages the complaints)."""
        return (not self.overdue, not self.high, self.due is None, self.due or FAR, self.waiting_since, self.id)


def warned(clock: dict[str, Any]) -> bool:
    """A warning before the breach was given (the policy's `warnings`) and the clock still runs."""
    return clock.get("met_at") is None and clock.get("overdue_at") is None and any(
        w.get("warned_at") for w in clock.get("warnings") or [])


def clock_state(clock: dict[str, Any], now: datetime) -> str:
    if clock.get("met_at"):
        return "met"
    if clock.get("overdue_at") or (not clock.get("paused_at") and datetime.fromisoformat(str(clock["due"])) <= now):
        return "overdue"
    return "paused" if clock.get("paused_at") else ("due soon" if warned(clock) else "running")


def _clock_waited_for(row: ComplaintRow, now: datetime) -> Clock | None:
    """The clock a complaint's row is listed by: its oldest unmet overdue clock, else its next running one."""
    clocks = [Clock.model_validate(c) for c in row.clocks or []]
    overdue = [c for c in clocks if c.met_at is None and (c.overdue_at is not None or c.due <= now)]
    running = [c for c in clocks if c.running]
    return min(overdue or running, key=lambda c: c.due, default=None)


def _complaint_item(row: ComplaintRow, now: datetime) -> WorkItem:
    clock = _clock_waited_for(row, now)
    due = row.overdue_since or row.next_due
    return WorkItem(
        kind="complaint", id=row.id, complaint_id=row.id, what=clock.label if clock else "no running clock",
        status=row.status, unit=clock.unit if clock else row.lead_unit, due=due,
        overdue=row.overdue_since is not None or (row.next_due is not None and row.next_due < now),
        high=row.priority == "high", waiting_since=row.received_at,
        warned=any(warned(c) for c in row.clocks or [] if clock is not None and c.get("name") == clock.name))


def _dispatch_item(row: Any, now: datetime, *, review: bool) -> WorkItem:
    what = f"urgent review of {row.kind}" if review else f"reply to {row.kind.replace('_', ' ')}"
    return WorkItem(kind="review" if review else "dispatch", id=row.id, complaint_id=row.complaint_id, what=what,
                    status=row.status, unit=row.unit, due=row.due, overdue=row.due is not None and row.due < now,
                    high=row.priority == "urgent", waiting_since=row.raised_at)


def _judgement_item(view: JudgementView, now: datetime) -> WorkItem:
    return WorkItem(kind="judgement", id=view.judgement_id, complaint_id=view.complaint_id,
                    what=f"judgement {view.status.value.replace('_', ' ')}", status=view.status.value,
                    unit=view.acting_unit or view.lead_unit, due=view.due,
                    overdue=view.due is not None and view.due < now, high=False, waiting_since=view.opened_at)


FILTERED = ("status", "category", "urgency", "level")  # My work's filters, on the complaint


def admits(flt: ComplaintFilter, row: ComplaintRow | None) -> bool:
    """A dispatch or judgement is listed when its complaint matches My work's filters."""
    wanted = {name: getattr(flt, name) for name in FILTERED if getattr(flt, name) is not None}
    return all(row is not None and getattr(row, name) == want for name, want in wanted.items())


def my_work(services: Services, actor: Actor, flt: ComplaintFilter, page: int, page_size: int,
            now: datetime) -> tuple[list[WorkItem], int]:
    """What waits on the actor's unit and role, one page of it, and how many there are in all: the open
    complaints it leads (handlers), the dispatches addressed to it (repliers), the urgent tickets to
    review (the urgent-item group), the judgements it must act on (their offices)."""
    read_model, policy = services.read_model, services.policy
    offset = (page - 1) * page_size
    items: list[WorkItem] = []
    complaint_total = 0
    if may(services, actor, Permission.HANDLE_COMPLAINT):
        rows, complaint_total = read_model.complaints.search(
            replace(flt, unit=actor.unit, open_only=True, as_of=now),
            offset=0, limit=offset + page_size, sort="due", descending=False)
        items += [_complaint_item(r, now) for r in rows]
    others: list[WorkItem] = []
    if may(services, actor, Permission.REPLY_TO_DISPATCH):
        others += [_dispatch_item(d, now, review=False) for d in read_model.dispatches.matching(
            units=[actor.unit], open_only=True, now=now) if d.status == "open"]
    if may(services, actor, Permission.REVIEW_URGENT_TICKET) and actor.unit == urgent_review_unit(policy):
        others += [_dispatch_item(d, now, review=True) for d in read_model.dispatches.matching(open_only=True, now=now)
                   if d.status == "awaiting_review"]
    if any(may(services, actor, p) for p in (Permission.SEND_JUDGEMENT, Permission.ANSWER_JUDGEMENT,
                                             Permission.DECIDE_APPEAL)):
        others += [_judgement_item(j, now) for j in read_model.judgements.inbox(actor.unit)]
    complaints_of = {cid: read_model.complaints.find(cid) for cid in {o.complaint_id for o in others}}
    others = [o for o in others if admits(flt, complaints_of[o.complaint_id])]
    listed = sorted(items + others, key=lambda i: i.order)[offset:offset + page_size]
    return listed, complaint_total + len(others)


@router.get("", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def my_work_page(
    request: Request,
    services: ServicesDep,
    status: Annotated[ComplaintStatus | None, Query()] = None,
    category: str | None = None,
    urgency: Annotated[str | None, Query(pattern="^(urgent|general)$")] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> Response:
    """My work: overdue first, then high priority, then the soonest due, then the longest waiting."""
    actor = page_actor(request, services, Permission.READ_COMPLAINTS)
    if isinstance(actor, Response):
        return actor
    if category is not None and services.policy.category(category) is None:
        raise HTTPException(422, [{"loc": ["query", "category"], "msg": "unknown category", "input": category}])
    now = datetime.now(UTC)
    flt = ComplaintFilter(status=status.value if status else None, category=category or None, urgency=urgency,
                          level=level)
    items, total = await run_in_threadpool(my_work, services, actor, flt, page, page_size, now)
    countdown = Countdown(services, now)
    rows = [{"item": i, "countdown": countdown.text(i.due, i.unit), "due_local": countdown.local(i.due, i.unit),
             "href": f"/workspace/complaints/{i.complaint_id}" + (f"#{i.id}" if i.kind != "complaint" else "")}
            for i in items]
    query = {k: v for k, v in (("status", flt.status), ("category", flt.category), ("urgency", urgency),
                               ("level", level), ("page_size", page_size if page_size != PAGE_SIZE else None)) if v}
    return render(request, "workspace_inbox.html", {
        "actor": actor, "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // page_size)),
        "filters": flt, "query": query, "statuses": [s.value for s in ComplaintStatus if s in OPEN_STATUSES],
        "categories": services.policy.categories, "month": f"{now:%Y-%m}",
    })


# -- the case page -----------------------------------------------------------------------------


async def case_context(request: Request, services: Services, actor: Actor, complaint_id: str) -> dict[str, Any]:
    """Everything the case page shows, read through the API's own read functions (404 as theirs)."""
    detail = await complaints.get_complaint(complaint_id, services, actor)
    views = await dispatches.dispatches_of_complaint(complaint_id, services, actor)
    dispatch_details = [await dispatches.get_dispatch(v.dispatch_id, services, actor) for v in views]
    now = datetime.now(UTC)
    countdown = Countdown(services, now)
    states = [clock_state(c.model_dump(mode="json"), now) for c in detail.clocks]
    clocks = [{"clock": c, "due_local": countdown.local(c.due, c.unit), "state": state,
               "countdown": countdown.text(c.due, c.unit) if state in ("running", "due soon") else ""}
              for c, state in zip(detail.clocks, states, strict=True)]
    policy = services.policy
    return {
        "actor": actor, "case": detail, "clocks": clocks,
        "category_label": next((c for c in policy.categories if c.code == detail.category), None),
        "dispatches": [{"view": d, "countdown": countdown.text(d.due, d.unit) if d.status.value == "open" else "",
                        "forms": forms_open_now(services, actor, detail, d, "dispatches")} for d in dispatch_details],
        "judgements": [{"view": j, "countdown": countdown.text(j.due, j.acting_unit or j.lead_unit) if j.due else "",
                        "forms": forms_open_now(services, actor, detail, j, "judgements")} for j in detail.judgements],
        "forms": forms_open_now(services, actor, detail, None, "complaints"),
        "may_reveal": may(services, actor, Permission.REVEAL_CUSTOMER_DATA),
        "revealable": [f.value for f in RevealableField],
        "units": sorted(policy.units), "csrf": form_token(request, services), "month": f"{now:%Y-%m}",
    }


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def case_page(complaint_id: str, request: Request, services: ServicesDep) -> Response:
    actor = page_actor(request, services, Permission.READ_COMPLAINTS)
    if isinstance(actor, Response):
        return actor
    return await show_case(request, services, actor, complaint_id)


async def show_case(request: Request, services: Services, actor: Actor, complaint_id: str, *,
                    notice: str | None = None, refusal: str | None = None, status_code: int = 200,
                    revealed: dict[str, str] | None = None) -> Response:
    """The case page, with the outcome of the step just taken: a notice, or the API's refusal and status."""
    try:
        context = await case_context(request, services, actor, complaint_id)
    except HTTPException as missing:
        return render(request, "refused.html", {"message": missing.detail, "actor": actor}, status_code=missing.status_code)
    return render(request, "workspace_case.html", {
        **context, "notice": notice, "refusal": refusal, "revealed": revealed}, status_code=status_code)


async def posted_form(request: Request, services: Services, permission: Permission) -> tuple[Actor, dict[str, str]] | Response:
    """The actor and the fields of a posted form, or the page to answer instead: the log-in form, the
    refusal, or a 403 when the form lacks the page's CSRF token."""
    actor = page_actor(request, services, permission)
    if isinstance(actor, Response):
        return actor
    given = form_fields(await request.body())
    if not form_token_holds(request, services, given.get("csrf", "")):
        return render(request, "refused.html", {"actor": actor, "message":
                      "this form's token is missing or stale (CSRF): reload the page and submit it again"}, status_code=403)
    return actor, given


@router.post("/{on}/{case_id}/{name}", response_class=HTMLResponse)
async def take_form_step(on: str, case_id: str, name: str, request: Request, services: ServicesDep) -> Response:
    """A form's step (api/workspace_forms.py); the case page again, with the notice or the API's refusal."""
    posted = await posted_form(request, services, Permission.READ_COMPLAINTS)
    if isinstance(posted, Response):
        return posted
    actor, given = posted
    outcome = await submit(services, actor, on, case_id, name, given)
    if outcome.complaint_id is None:
        return render(request, "refused.html", {"actor": actor, "message": outcome.refusal}, status_code=outcome.status)
    return await show_case(request, services, actor, outcome.complaint_id, notice=outcome.notice,
                           refusal=outcome.refusal, status_code=outcome.status, revealed=outcome.revealed)
