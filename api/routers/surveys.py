"""The satisfaction call-back by survey link (api/surveys.py): a handler has the link texted
(`POST /complaints/{id}/callback-survey`); the customer opens it on their phone (`GET /survey/{token}`,
no log-in: the signed link is the key), rates 1–5, may comment, and sends (`POST /survey/{token}`).
A link that takes no answer is refused with a page saying why: 404 when it names no link sent
(made up or altered), 410 when it did but no longer takes one (answered, expired, the case closed,
reopened or called back)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from api import surveys
from api.dependencies import Services, ServicesDep, require
from api.pages import render
from rules.actors import Actor, Permission
from rules.survey import RATINGS

router = APIRouter(tags=["complaints"])
pages = APIRouter(include_in_schema=False)

COMMENT_CHARS = 1000


class SurveySent(BaseModel):
    complaint_id: str
    link_id: str  # the link's id (the link itself goes to the customer's phone only)
    handling_round: int  # the round it asks about: a reopened case's later round needs a new link
    sent_at: datetime
    expires_at: datetime  # sent_at + the policy's callback_survey.link_hours


class CallbackSurveyView(BaseModel):
    """A survey link sent for a case, as `GET /complaints/{id}` shows it (never the link itself)."""

    link_id: str
    handling_round: int | None
    issued_by: str
    issued_at: datetime
    expires_at: datetime | None
    used_at: datetime | None  # when the customer's answer was taken
    rating: int | None
    satisfied: bool | None  # by the policy's callback_survey.satisfied_ratings
    outcome: str | None  # "recorded", or why the case refused the answer


async def surveys_of(services: Services, complaint_id: str) -> list[CallbackSurveyView]:
    rows = await run_in_threadpool(services.read_model.surveys.of_complaint, complaint_id)
    return [CallbackSurveyView(link_id=row.id, **row.model_dump(exclude={"id", "token_digest", "complaint_id"}))
            for row in rows]


@router.post("/complaints/{complaint_id}/callback-survey", status_code=status.HTTP_201_CREATED,
             response_model=SurveySent)
async def send_callback_survey(
    complaint_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.HANDLE_COMPLAINT))],
) -> Any:
    """The satisfaction call-back by text: the customer is sent a signed, single-use link to rate the
    handling 1–5 (DOMAIN §5). Their answer is recorded as the call-back: satisfied closes the case,
    dissatisfied reopens it. 409 unless the call-back is owed now (after the written confirmation)."""
    sent = await surveys.send_survey(services, complaint_id, actor)
    if isinstance(sent, JSONResponse):
        return sent  # 409: the case has ended
    return SurveySent(complaint_id=complaint_id, **sent.model_dump())


def _page(request: Request, state: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "survey.html", {"state": state, "ratings": list(RATINGS), **context},
                  status_code=status_code)


async def _answerable(request: Request, services: Services, token: str) -> surveys.Link | HTMLResponse:
    """The link, if it takes an answer now; else the page refusing it (404 no such link, 410 no more)."""
    link = await run_in_threadpool(surveys.find_link, services, token)
    if link is None:
        return _page(request, "refused", status.HTTP_404_NOT_FOUND, message="this link is not valid")
    if link.refusal:
        return _page(request, "refused", status.HTTP_410_GONE, message=link.refusal, complaint_id=link.row.complaint_id)
    return link


@pages.get("/survey/{token}")
async def survey_page(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    link = await _answerable(request, services, token)
    if isinstance(link, HTMLResponse):
        return link
    return _page(request, "form", complaint_id=link.row.complaint_id)


@pages.post("/survey/{token}")
async def survey_answer(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    link = await _answerable(request, services, token)
    if isinstance(link, HTMLResponse):
        return link
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), max_num_fields=10))
    rating, comment = form.get("rating", ""), form.get("comment", "")
    problem = ("rating: choose one of 1 to 5" if rating not in {str(r) for r in RATINGS}
               else f"comment: at most {COMMENT_CHARS} characters" if len(comment) > COMMENT_CHARS else None)
    if problem:
        return _page(request, "form", 422, message=problem, comment=comment,
                     complaint_id=link.row.complaint_id)
    try:
        refusal = await surveys.answer(services, token, link, int(rating), comment)
    except surveys.AnswerNotDelivered:
        return _page(request, "form", status.HTTP_503_SERVICE_UNAVAILABLE, comment=comment,
                     message="your answer could not be recorded just now: please send it again in a minute",
                     complaint_id=link.row.complaint_id)
    if refusal:
        return _page(request, "refused", status.HTTP_410_GONE, message=refusal, complaint_id=link.row.complaint_id)
    return _page(request, "thanks", complaint_id=link.row.complaint_id, rating=int(rating))
