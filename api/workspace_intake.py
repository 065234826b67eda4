"""Filing a complaint from a call, in the workspace (DOMAIN §2): the intake form, the knowledge
base's solved cases like the one being typed (POST /knowledge/suggestions' own function), and the
duplicate / repeat warning before filing (api/intake.py `intake_warnings`, the rules filing applies).
Filing is POST /complaints' own function, with the form's key as its Idempotency-Key: a form
submitted twice files one complaint.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.dependencies import Services, ServicesDep, require, within_intake_rate
from api.intake import intake_warnings, request_seed
from api.pages import PAGE_RESPONSES, form_token, page_actor, render, secured
from api.routers import complaints, knowledge
from api.workspace import posted_form, router, show_case
from api.workspace_forms import api_answer, as_fastapi, refusal_text
from rules.actors import Actor, Permission
from rules.intake import Channel, ComplaintIntake, Nature

SUGGESTED = 5  # solved cases shown beside the form

# The form's fields, named by their path in the intake body ("complainant.phone").
FIELDS = ("channel", "received_at", "complainant.name", "complainant.phone", "complainant.tier", "tracking_number",
          "category", "nature", "description", "demand", "contents.description", "contents.declared_value_cny",
          "contents.valid_days", "sender.name", "sender.phone", "sender.address", "recipient.name", "recipient.phone",
          "recipient.address", "evidence", "progress_update_hours")


def intake_data(given: dict[str, str]) -> dict[str, Any]:
    """The body POST /complaints would be sent: blank fields left out, a party left out when blank."""
    data: dict[str, Any] = {}
    for path in FIELDS:
        value = given.get(path, "").strip()
        if not value:
            continue
        if path == "evidence":
            value = [dict(zip(("kind", "reference"), (p.strip() for p in line.partition(":")[::2]), strict=True))
                     for line in value.splitlines() if line.strip()]
        head, _, tail = path.partition(".")
        if tail:
            data.setdefault(head, {})[tail] = value
        else:
            data[head] = value
    return data


def _now_in(services: Services, actor: Actor) -> str:
    _, spec = services.policy.calendar_of(actor.unit)
    return datetime.now(UTC).astimezone(ZoneInfo(spec.time_zone)).isoformat(timespec="minutes")


def _page(request: Request, services: Services, actor: Actor, given: dict[str, str], *, status_code: int = 200,
          **shown: Any) -> Response:
    policy = services.policy
    return render(request, "workspace_intake.html", {
        "actor": actor, "given": given, "csrf": form_token(request, services),
        "form_key": given.get("form_key") or secrets.token_urlsafe(16),
        "channels": [c.value for c in Channel], "natures": [n.value for n in Nature],
        "categories": policy.categories, "tiers": policy.priority.tiers, "month": f"{datetime.now(UTC):%Y-%m}",
        "suggestions": None, "duplicate_of": None, "repeat_of": [], "refusal": None, **shown,
    }, status_code=status_code, own_script=True)


@router.get("/intake", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def intake_page(request: Request, services: ServicesDep) -> Response:
    actor = page_actor(request, services, Permission.FILE_COMPLAINT)
    if isinstance(actor, Response):
        return actor
    return _page(request, services, actor, {"channel": "hotline", "received_at": _now_in(services, actor)})


async def suggestions_for(services: Services, actor: Actor, given: dict[str, str]) -> Any:
    """The solved cases most like what is typed so far (none until a description is)."""
    draft = {k: v for k, v in intake_data(given).items() if k in ("description", "demand", "category")}
    if not draft.get("description"):
        return None
    try:
        body = knowledge.IntakeDraft.model_validate(draft)
    except ValidationError:
        return None
    status, found = await api_answer(knowledge.suggest_solved_cases(body, services, actor, SUGGESTED))
    return found.items if status == 200 else None


@router.post("/intake", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def intake_posted(request: Request, services: ServicesDep) -> Response:
    """`step=check`: the suggestions and the duplicate / repeat warning; `step=file`: files, after that
    warning has been shown once (then `confirmed`)."""
    posted = await posted_form(request, services, Permission.FILE_COMPLAINT)
    if isinstance(posted, Response):
        return posted
    actor, given = posted
    suggestions = await suggestions_for(services, actor, given)
    try:
        intake = ComplaintIntake.model_validate(intake_data(given))
    except ValidationError as err:
        return _page(request, services, actor, given, status_code=422, suggestions=suggestions,
                     refusal=refusal_text(as_fastapi(err)))
    key = given.get("form_key", "")
    idempotency_key = f"page-intake-{key}" if 16 <= len(key) <= 64 else None
    # this very form filed before (submitted twice): its case is the answer, not a duplicate to warn of
    filed_before = idempotency_key is not None and await run_in_threadpool(
        services.read_model.claims.binding, f"complaint:{request_seed(idempotency_key, intake)}") is not None
    duplicate, repeats = (None, []) if filed_before else await intake_warnings(services, intake)
    warned = bool(duplicate or repeats)
    if given.get("step") != "file" or (warned and given.get("confirmed") != "yes"):
        return _page(request, services, actor, given, suggestions=suggestions, duplicate_of=duplicate,
                     repeat_of=repeats, checked=True)
    try:
        require(Permission.FILE_COMPLAINT)(actor, services)
        await within_intake_rate(actor, services)
    except HTTPException as err:
        return _page(request, services, actor, given, status_code=err.status_code, refusal=refusal_text(err.detail))
    status, filed = await api_answer(complaints.file_complaint(intake, services, Response(), actor, idempotency_key))
    if status >= 400:
        return _page(request, services, actor, given, status_code=status, refusal=refusal_text(filed),
                     suggestions=suggestions)
    if filed.duplicate_of:
        notice = f"The same complaint as the open case {filed.duplicate_of}: linked to it, no new case"
    else:
        cls = filed.classification
        notice = f"Filed {filed.complaint_id}: {cls.urgency.value}, level {cls.level}, priority {cls.priority.value}"
    if filed.replayed:
        notice += " (this form was filed before: the same case, nothing filed twice)"
    return await show_case(request, services, actor, filed.complaint_id, notice=notice)


SCRIPT = Path(__file__).parent / "static" / "workspace_intake.js"


@router.get("/intake.js", include_in_schema=False)
async def intake_script() -> Response:
    """The intake page's one script (same origin, as its CSP allows)."""
    return secured(Response(SCRIPT.read_bytes(), media_type="text/javascript"))


@router.post("/intake/suggestions", response_class=HTMLResponse)
async def suggestions_fragment(request: Request, services: ServicesDep) -> Response:
    """The suggestions list for the form as typed so far: what the intake page's script asks for."""
    posted = await posted_form(request, services, Permission.FILE_COMPLAINT)
    if isinstance(posted, Response):
        return posted
    actor, given = posted
    return render(request, "workspace_suggestions.html",
                  {"suggestions": await suggestions_for(services, actor, given)})
