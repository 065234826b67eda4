"""The workspace's actions as forms (DOMAIN §4–§7): every step the API offers a role on a case, one
row each. A row names the API's own function that takes the step (a complaint step's table row of
api/routers/complaints.py `STEPS`, or the dispatch and judgement endpoints), its body, its
permission and when the workflow would accept it now, decided by the same rules its validator asks
(rules/lifecycle.py, rules/customer_clocks.py, rules/complex_case.py). A form is shown only then;
one posted anyway gets the workflow's refusal, shown with the API's own status and reason.

Every form carries the page's CSRF token (api/pages.py `form_token`) and a key drawn when it was
drawn: the step's Update id (api/case_actions.py `FORM_UPDATE_ID`), so a form submitted twice is
one Update, which Temporal takes once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from datetime import UTC, datetime
from typing import Annotated

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import WorkflowUpdateFailedError

from api.case_actions import FORM_UPDATE_ID, act_on_complaint
from api.dependencies import Services, require
from api.errors import update_refused
from api.routers import complaints, dispatches, judgements, pauses
from api.routers.complaints import ComplaintDetail, RevealRequest
from api.routers.dispatches import DispatchDetail, DispatchRequest, TicketRequest
from api.steps import Step, take_step
from rules.actors import Actor, Permission
from rules.complex_case import completion_refusal, resolve_refusal, step_refusal
from rules.merging import merge_refusal, split_refusal
from rules.pauses import dispatch_pause_refusal
from rules.policy import Policy
from rules.customer_clocks import FIRST_CONTACT, SOLUTION, dispatch_refusal, extension_refusal, first_contact_refusal
from rules.escalation import reviewing_office
from rules.dispatch import DispatchKind
from rules.lifecycle import OPEN_STATUSES, TRANSITIONS, ComplaintAction, ComplaintStatus
from rules.reply_checks import Reply
from workflows.clocks import Clock, ClockKind
from workflows.complaint_messages import ActionDone, CaseMerge, CaseSplit
from workflows.dispatch_messages import ReplyAnswer, ReplyReturn, UrgentReview
from workflows.pauses import ClockPauseRequest, ClockResumeRequest
from workflows.judgement_messages import Appeal, ArbitrationDecision, DraftEdit, FaultNaming, Sending

A = ComplaintAction
Case = Literal["complaints", "dispatches", "judgements"]
MEDIA = (("call", "call"), ("sms", "SMS"), ("email", "e-mail"), ("letter", "letter"), ("app", "app"))
YES_NO = (("true", "yes"), ("false", "no"))


@dataclass(frozen=True)
class Input:
    """One field of a form, named as the API body's field. `lines`: one entry a line; `evidence`:
    one `kind: reference` a line; `plan`: one `department | owner | description | due` a line."""

    name: str
    label: str
    kind: Literal["text", "textarea", "select", "lines", "evidence", "plan", "units", "number"] = "text"
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    hint: str = ""
    choices_of: Callable[[Policy], tuple[tuple[str, str], ...]] | None = None  # choices the policy gives


@dataclass(frozen=True)
class Facts:
    """What the case page knows of the complaint, for the rules that say which steps are open now."""

    status: ComplaintStatus
    level: int
    clocks: dict[str, Clock]
    complex_case: bool
    meeting_recorded: bool
    open_actions: list[int]
    lead_unit: str
    now: datetime
    complaint_id: str
    merged_cases: list[str]
    paused: bool  # the customer clocks are paused (rules/pauses.py)


# (services, actor, the case's id, the body) → the API function's answer
Take = Callable[[Services, Actor, str, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Form:
    name: str  # its address: POST /workspace/<on>/<id>/<name>
    title: str
    on: Case
    permission: Permission
    body: type[BaseModel]
    inputs: tuple[Input, ...]
    take: Take
    open_now: Callable[[Facts, Any, Services, Actor], bool]  # (complaint facts, the dispatch or judgement, …)


def _complaint_step(name: str) -> Take:
    step: Step = next(s for s in complaints.STEPS if s.name == name)

    async def take(services: Services, actor: Actor, case: str, body: Any) -> Any:
        numbers = {"number": body.number} if step.path_numbers else None
        if numbers:
            body = step.body.model_validate(body.model_dump(exclude={"number"}))
        return await take_step(step, services, actor, case, body, act_on_complaint, numbers)

    return take


def _moves(action: ComplaintAction) -> Callable[[Facts, Any, Services, Actor], bool]:
    """A lifecycle step: open from the states rules/lifecycle.py lets it start from."""
    return lambda f, _, __, ___: f.status in TRANSITIONS[action][0]


def _unit_at_or_above(services: Services, actor: Actor, unit: str | None) -> bool:
    return unit is not None and services.policy.org_chart.is_at_or_above(actor.unit, unit)


class ActionNumbered(ActionDone):
    """The plan action's form: the path's number beside the body (POST …/plan/{number}/done)."""

    number: Annotated[int, Field(ge=1)]


def _complaint_forms() -> list[Form]:
    H, C = Permission.HANDLE_COMPLAINT, Permission.MANAGE_COMPLEX_CASE
    steps = {s.name: s for s in complaints.STEPS}

    def form(name: str, title: str, inputs: tuple[Input, ...], open_now: Any, permission: Permission = H,
             body: type[BaseModel] | None = None) -> Form:
        return Form(name, title, "complaints", steps[name].permission if body is None else permission,
                    body or steps[name].body, inputs, _complaint_step(name), open_now)

    complex_step = lambda step: lambda f, _, __, ___: step_refusal(  # noqa: E731
        step, f.status, complex_case=f.complex_case, meeting_recorded=f.meeting_recorded,
        open_actions=f.open_actions) is None
    return [
        form("record_first_contact", "First contact (apology, why it matters, first direction)", (
            Input("apology", "Apology", "textarea"), Input("why_it_matters", "Why it matters", "textarea"),
            Input("first_direction", "First direction", "textarea")),
            lambda f, *_: first_contact_refusal(f.status, f.clocks.get(FIRST_CONTACT)) is None),
        form("answer_at_first_contact", "Answered at once (closes at first contact)",
             (Input("answer", "Answer", "textarea"),), _moves(A.ANSWER_AT_FIRST_CONTACT)),
        form("take_into_handling", "Take into handling", (Input("note", "Note", "textarea", required=False),),
             _moves(A.TAKE_INTO_HANDLING)),
        form("record_progress_update", "Progress update to the customer", (
            Input("message", "What the customer was told", "textarea"), Input("medium", "How", "select", MEDIA)),
            lambda f, *_: f.status in OPEN_STATUSES),
        form("extend_solution_clock", "Solution 4 → 8 working hours (customer told in time)", (
            Input("reason", "Reason", "textarea"), Input("medium", "How the customer was told", "select", MEDIA)),
            lambda f, *_: extension_refusal(f.status, f.clocks.get(SOLUTION), f.now) is None),
        form("resolve", "Resolve", (Input("solution", "Solution", "textarea"),),
             lambda f, *_: f.status in TRANSITIONS[A.RESOLVE][0] and resolve_refusal(f.open_actions) is None),
        form("confirm_with_customer", "Written confirmation sent", (
            Input("message", "Confirmation", "textarea"), Input("medium", "How", "select", MEDIA)),
            _moves(A.CONFIRM_WITH_CUSTOMER)),
        form("record_callback", "Satisfaction call-back", (
            Input("satisfied", "Satisfied", "select", YES_NO), Input("customer_words", "The customer's words", "textarea")),
            _moves(A.RECORD_SATISFIED_CALLBACK)),
        form("close_unresolvable", "Close as unresolvable", (Input("reason", "Reason", "textarea"),),
             _moves(A.CLOSE_UNRESOLVABLE)),
        form("make_complex", "Make complex", (Input("reason", "Reason", "textarea"),), complex_step(A.MAKE_COMPLEX)),
        form("record_coordination_meeting", "Coordination meeting", (
            Input("held_at", "Held at", hint="with its offset, e.g. 2026-03-02T10:00+08:00"),
            Input("departments", "Departments (units)", "units"), Input("attendees", "Attendees", "lines"),
            Input("findings", "Findings", "textarea"), Input("evidence", "Evidence", "evidence", required=False)),
            complex_step(A.RECORD_COORDINATION_MEETING)),
        form("agree_plan", "Agree the plan", (
            Input("actions", "Actions", "plan", hint="department | owner | description | due (with offset)"),),
            complex_step(A.AGREE_PLAN)),
        form("complete_action", "Plan action done", (
            Input("number", "Action", "number"), Input("outcome", "Outcome", "textarea")),
            lambda f, *_: any(completion_refusal(n, f.status, f.open_actions, []) is None for n in f.open_actions),
            body=ActionNumbered),
    ]


def _calling(endpoint: Callable[[str, Any, Services, Actor], Awaitable[Any]]) -> Take:
    """An endpoint of the dispatch or judgement routers, called as FastAPI calls it (the
    permission checked before, as its dependency does)."""
    return lambda services, actor, case, body: endpoint(case, body, services, actor)


def _raisable(f: Facts, *_: Any) -> bool:
    return dispatch_refusal(f.status, f.level) is None


def _reasons(allowed: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The reasons a pause is allowed for (policy `pauses`), each with its maximum."""
    return tuple((code, f"{code.replace('_', ' ')} (at most {rule.max_working_hours:g} working hours)")
                 for code, rule in sorted(allowed.items()))


def _reviewer(services: Services, d: DispatchDetail, lead_unit: str) -> str:
    raised_by = next((e.actor_unit for e in d.events if e.action == "raise"), lead_unit)
    return reviewing_office(DispatchKind(d.kind), raised_by_unit=raised_by, lead_unit=lead_unit)


def _forms() -> list[Form]:
    R, D = Permission.RAISE_DISPATCH, "dispatches"
    kinds = (("direct_dispatch", "direct dispatch (2 working hours)"), ("linked_dispatch", "linked dispatch"))
    judge = lambda status, office: lambda f, j, services, actor: (  # noqa: E731
        j.status.value in status and _unit_at_or_above(services, actor, j.lead_unit if office == "lead" else j.responsible_office))
    return [*_complaint_forms(),
            Form("ticket", "Open a ticket (工单, 20 working hours)", "complaints", R, TicketRequest, (
                Input("assisting_unit", "Assisting office", "units"), Input("instruction", "Instruction", "textarea"),
                Input("priority", "Priority", "select", (("", "as classified"), ("urgent", "urgent"), ("normal", "normal")),
                      required=False)), _calling(dispatches.open_ticket), _raisable),
            Form("dispatch", "Raise a dispatch", "complaints", R, DispatchRequest, (
                Input("kind", "Kind", "select", kinds), Input("unit", "Unit", "units"),
                Input("instruction", "Instruction", "textarea")), _calling(dispatches.raise_dispatch), _raisable),
            Form("pause", "Pause the customer clocks", "complaints", Permission.PAUSE_CUSTOMER_CLOCKS, ClockPauseRequest, (
                Input("reason", "Waiting on", "select", choices_of=lambda policy: _reasons(policy.pauses.complaint)),
                Input("note", "Note", "textarea", required=False)), _calling(pauses.pause_customer_clocks),
                 lambda f, *_: f.status in OPEN_STATUSES and not f.paused
                 and any(c.running and c.kind is not ClockKind.ACTION for c in f.clocks.values())),
            Form("resume", "Resume the customer clocks", "complaints", Permission.PAUSE_CUSTOMER_CLOCKS,
                 ClockResumeRequest, (Input("note", "Note", "textarea", required=False),),
                 _calling(pauses.resume_customer_clocks), lambda f, *_: f.paused),
            Form("merge", "Merge into another complaint (the same matter)", "complaints", Permission.MERGE_COMPLAINTS,
                 CaseMerge, (Input("into", "Into complaint"), Input("reason", "Reason", "textarea")),
                 _calling(complaints.merge_complaint),
                 lambda f, *_: merge_refusal(f.complaint_id, f.status.value, "", f.merged_cases,
                                             "paused" if f.paused else None) is None),
            Form("split", "Split back out", "complaints", Permission.MERGE_COMPLAINTS, CaseSplit,
                 (Input("reason", "Reason", "textarea"),), _calling(complaints.split_complaint),
                 lambda f, *_: split_refusal(f.complaint_id, f.status.value) is None),
            Form("reply", "Reply", D, Permission.REPLY_TO_DISPATCH, Reply, (
                Input("finding", "Finding", "textarea"), Input("failing_link", "Failing link", required=False),
                Input("evidence", "Evidence", "evidence", required=False),
                Input("still_following_up", "Still following up (please redispatch)", "select",
                      (("false", "no"), ("true", "yes")), required=False)), _calling(dispatches.reply_to_dispatch),
                 lambda f, d, services, actor: d.status.value == "open" and _unit_at_or_above(services, actor, d.unit)),
            Form("return", "Return the answer (退回)", D, Permission.RETURN_REPLY, ReplyReturn,
                 (Input("reason", "Reason", "textarea"),), _calling(dispatches.return_reply),
                 lambda f, d, services, actor: d.status.value == "answered" and f.status is not ComplaintStatus.CLOSED
                 and _unit_at_or_above(services, actor, _reviewer(services, d, f.lead_unit))),
            Form("review", "Urgent review", D, Permission.REVIEW_URGENT_TICKET, UrgentReview, (
                Input("confirm", "Confirm as urgent", "select", (("true", "confirm"), ("false", "downgrade to normal"))),
                Input("reason", "Reason", "textarea")), _calling(dispatches.review_urgent_ticket),
                 lambda f, d, *_: d.status.value == "awaiting_review"),
            Form("pause", "Pause the clock", D, Permission.PAUSE_DISPATCH_CLOCK, ClockPauseRequest, (
                Input("reason", "Waiting on", "select", choices_of=lambda policy: _reasons(policy.pauses.dispatch)),
                Input("note", "Note", "textarea", required=False)), _calling(dispatches.pause_dispatch_clock),
                 lambda f, d, services, actor: _unit_at_or_above(services, actor, d.unit) and dispatch_pause_refusal(
                     d.status.value, d.due, f.now, d.escalation_level, d.paused_at is not None) is None),
            Form("resume", "Resume the clock", D, Permission.PAUSE_DISPATCH_CLOCK, ClockResumeRequest,
                 (Input("note", "Note", "textarea", required=False),), _calling(dispatches.resume_dispatch_clock),
                 lambda f, d, services, actor: d.paused_at is not None and _unit_at_or_above(services, actor, d.unit)),
            Form("draft", "Correct the proposal", "judgements", Permission.SEND_JUDGEMENT, DraftEdit, (
                Input("responsible_office", "Responsible office", required=False),
                Input("party", "Party at fault", required=False), Input("at_fault_unit", "Unit at fault", required=False),
                Input("fault_type", "Fault type", required=False), Input("note", "Note", "textarea", required=False)),
                 _calling(judgements.edit_draft), judge(("draft",), "lead")),
            Form("send", "Send the judgement", "judgements", Permission.SEND_JUDGEMENT, Sending,
                 (Input("note", "Note", "textarea", required=False),), _calling(judgements.send), judge(("draft",), "lead")),
            Form("accept", "Accept: name the fault", "judgements", Permission.ANSWER_JUDGEMENT, FaultNaming, (
                Input("city_branch", "City branch"), Input("failing_link", "Failing link"),
                Input("smallest_unit", "Smallest unit")), _calling(judgements.accept), judge(("awaiting_response", "awaiting_refinement"), "responsible")),
            Form("appeal", "Appeal to arbitration", "judgements", Permission.ANSWER_JUDGEMENT, Appeal, (
                Input("reason", "Reason", "textarea"), Input("evidence", "Evidence (all of it)", "evidence")),
                 _calling(judgements.appeal), judge(("awaiting_response",), "responsible")),
            Form("decision", "Arbitration's decision", "judgements", Permission.DECIDE_APPEAL, ArbitrationDecision, (
                Input("at_fault", "At fault", "select", YES_NO), Input("reason", "Reason", "textarea")),
                 _calling(judgements.decide), lambda f, j, *_: j.status.value == "in_arbitration"),
            ]


FORMS: dict[tuple[Case, str], Form] = {(f.on, f.name): f for f in _forms()}

def _facts(case: ComplaintDetail) -> Facts:
    return Facts(status=ComplaintStatus(case.status), level=case.level, clocks={c.name: c for c in case.clocks},
                 complex_case=case.complex_case,
                 meeting_recorded=any(e.action == A.RECORD_COORDINATION_MEETING.value for e in case.timeline),
                 open_actions=[a.number for a in case.plan if a.done_at is None], lead_unit=case.lead_unit,
                 now=datetime.now(UTC), complaint_id=case.complaint_id, merged_cases=case.merged_cases,
                 paused=any(c.paused_at is not None for c in case.clocks))


def forms_open_now(services: Services, actor: Actor, case: ComplaintDetail, of: Any, on: Case) -> list[dict[str, Any]]:
    """The forms of `on` (the complaint, one dispatch or one judgement) this actor may post and the
    workflow would take now, each with a fresh key."""
    facts = _facts(case)
    shown = []
    for form in FORMS.values():
        if form.on != on or services.policy.permission_refusal(actor.role, form.permission) is not None:
            continue
        if form.open_now(facts, of, services, actor):
            target = case.complaint_id if on == "complaints" else (
                of.dispatch_id if on == "dispatches" else of.judgement_id)
            shown.append({"form": form, "action": f"/workspace/{on}/{target}/{form.name}",
                          "key": secrets.token_urlsafe(16),
                          "numbers": facts.open_actions if form.name == "complete_action" else [],
                          "choices": {i.name: i.choices_of(services.policy) for i in form.inputs if i.choices_of}})
    return shown


# -- taking a step -----------------------------------------------------------------------------


def form_fields(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=60))


def body_data(form: Form, given: dict[str, str]) -> dict[str, Any]:
    """The body the API would have been sent, from the form's fields (blank optional fields left out)."""
    data: dict[str, Any] = {}
    for field in form.inputs:
        value = given.get(field.name, "").strip()
        if not value and not field.required:
            continue
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        if field.kind in ("lines",):
            data[field.name] = lines
        elif field.kind == "units" and form.name == "record_coordination_meeting":
            data[field.name] = [u.strip() for line in lines for u in line.split(",") if u.strip()]
        elif field.kind == "evidence":
            data[field.name] = [dict(zip(("kind", "reference"), (p.strip() for p in line.partition(":")[::2]),
                                         strict=True)) for line in lines]
        elif field.kind == "plan":
            data[field.name] = [dict(zip(("department", "owner", "description", "due"),
                                         (p.strip() for p in line.split("|", 3)), strict=False)) for line in lines]
        else:
            data[field.name] = value
    return data


def refusal_text(detail: Any) -> str:
    """The API's `detail` as a sentence: its text, or each invalid field with what is wrong."""
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg', '')}"
                         if isinstance(e, dict) else str(e) for e in detail)
    return str(detail)


async def api_answer(call: Awaitable[Any]) -> tuple[int, Any]:
    """The status and answer the API's endpoint gives for this call: its value (200), or what its
    error handlers make of a refusal (api/errors.py)."""
    try:
        value = await call
    except HTTPException as err:
        return err.status_code, err.detail
    except WorkflowUpdateFailedError as err:
        value = update_refused(err)
    if isinstance(value, JSONResponse):
        return value.status_code, json.loads(bytes(value.body))["detail"]
    return 200, value


def _done(form: Form, value: Any) -> str:
    if isinstance(value, ReplyAnswer):
        said = {"accepted": "Reply accepted", "returned": "Reply returned (退回)", "redispatched": "Redispatched"}
        outcome = said.get(value.outcome.value, value.outcome.value)
        return f"{outcome}: {value.reason}" if value.outcome.value == "returned" else outcome
    if isinstance(value, dispatches.Raised):
        return f"{form.title}: {value.dispatch_id} raised"
    return f"Done: {form.title}"


def _complaint_of(services: Services, on: Case, case_id: str) -> str | None:
    if on == "complaints":
        return case_id
    store = services.read_model.dispatches if on == "dispatches" else services.read_model.judgements
    found = store.get(case_id)
    return found[0].complaint_id if found is not None else None


@dataclass(frozen=True)
class Outcome:
    """What the case page shows after a form: the notice, or the API's refusal with its status."""

    complaint_id: str | None  # the case page to show (None: no such case)
    status: int = 200
    notice: str | None = None
    refusal: str | None = None
    revealed: dict[str, str] | None = None


async def submit(services: Services, actor: Actor, on: str, case_id: str, name: str, given: dict[str, str]) -> Outcome:
    """A form's step, taken as its endpoint takes it (the CSRF token already checked)."""
    if name == "reveal" and on == "complaints":
        return await _reveal(services, actor, case_id, given)
    form = FORMS.get((on, name))  # type: ignore[call-overload]
    if form is None:
        return Outcome(None, 404, refusal=f"no step {name} on {on}")
    complaint_id = await run_in_threadpool(_complaint_of, services, form.on, case_id)
    if complaint_id is None:
        return Outcome(None, 404, refusal=f"no {on.removesuffix('s')} {case_id}")
    status, value = await _answer(form, services, actor, case_id, given)
    if status >= 400:
        return Outcome(complaint_id, status, refusal=refusal_text(value))
    return Outcome(complaint_id, notice=_done(form, value))


async def _answer(form: Form, services: Services, actor: Actor, case_id: str, given: dict[str, str]) -> tuple[int, Any]:
    try:
        require(form.permission)(actor, services)
        body = form.body.model_validate(body_data(form, given))
    except HTTPException as err:
        return err.status_code, err.detail
    except ValidationError as err:
        return 422, as_fastapi(err)
    key = given.get("form_key", "")
    token = FORM_UPDATE_ID.set(f"page-{form.on}-{form.name}-{key}" if 16 <= len(key) <= 64 else None)
    try:
        return await api_answer(form.take(services, actor, case_id, body))
    finally:
        FORM_UPDATE_ID.reset(token)


async def _reveal(services: Services, actor: Actor, complaint_id: str, given: dict[str, str]) -> Outcome:
    """One field whole, audited (POST /complaints/{id}/reveal's own function), shown on the page once."""
    try:
        require(Permission.REVEAL_CUSTOMER_DATA)(actor, services)
        body = RevealRequest.model_validate({"field": given.get("field", ""), "reason": given.get("reason", "")})
    except HTTPException as err:
        return Outcome(complaint_id, err.status_code, refusal=refusal_text(err.detail))
    except ValidationError as err:
        return Outcome(complaint_id, 422, refusal=refusal_text(as_fastapi(err)))
    status, value = await api_answer(complaints.reveal(complaint_id, body, services, Response(), actor))
    if status >= 400:
        return Outcome(complaint_id, status, refusal=refusal_text(value))
    return Outcome(complaint_id, revealed={"field": value.field.value, "value": value.value})


def as_fastapi(err: ValidationError) -> list[dict[str, Any]]:
    """A body's validation errors as FastAPI answers them (`loc` from "body")."""
    return jsonable_encoder([{**e, "loc": ["body", *e["loc"]]} for e in err.errors(include_url=False)])
