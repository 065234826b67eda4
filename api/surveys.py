"""The satisfaction call-back by survey link (rules/survey.py): the link, its signature, and how an
answer becomes the case's call-back.

A link is `<survey_url>/survey/<link id>.<signature>`: a random id and its HMAC-SHA256 under
`SURVEY_SECRET` (else `SESSION_SECRET`), so a link nobody issued, or one altered, is refused before
the read model is asked. The read model keeps the token's digest, never the token. A handler's
`POST /complaints/{id}/callback-survey` makes the link and has the workflow text it (the workflow
sets its round and expiry); the customer's answer is taken once (readmodel/surveys.py) and goes to
the workflow as `record_callback`, the agent's call-back Update, under an update id of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.case_actions import act_on_complaint
from api.dependencies import Services
from api.tokens import token_digest
from readmodel.tables import SurveyLinkRow
from rules.actors import Actor, Role
from rules.lifecycle import ComplaintStatus
from rules.survey import is_satisfied, link_refusal
from workflows.case import INVALID_TRANSITION
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import CallbackSurveyLink, RecordCallback, SendCallbackSurvey, complaint_workflow_id

# Without SURVEY_SECRET or SESSION_SECRET: this process's own key (its links die when it stops).
_PROCESS_KEY = secrets.token_bytes(32)
RECORDED = "recorded"  # the outcome of an answer the case took as its call-back
TOKEN = re.compile(r"^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$")


def _key(services: Services) -> bytes:
    secret = services.settings.survey_secret or services.settings.session_secret
    return secret.get_secret_value().encode() if secret else _PROCESS_KEY


def _signature(services: Services, link_id: str) -> str:
    mac = hmac.new(_key(services), f"survey-link.{link_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def signed_link_id(services: Services, token: str) -> str | None:
    """The link id of a token whose signature holds, else None (made up, altered or cut short)."""
    found = TOKEN.fullmatch(token)
    if found is None or not hmac.compare_digest(found.group(2), _signature(services, found.group(1))):
        return None
    return found.group(1)


async def send_survey(services: Services, complaint_id: str, actor: Actor) -> CallbackSurveyLink | JSONResponse:
    """Make a link and have the case's workflow text it to the customer. A refusal (the call-back is
    not owed now) propagates as the workflow gave it, a finished case is the 409 every step gets
    (api/case_actions.py); the link then is withdrawn."""
    link_id = secrets.token_urlsafe(16)
    token = f"{link_id}.{_signature(services, link_id)}"
    surveys = services.read_model.surveys
    await run_in_threadpool(lambda: surveys.issue(link_id, token_digest=token_digest(token), complaint_id=complaint_id,
                                                  issued_by=actor.id, now=datetime.now(UTC)))
    request = SendCallbackSurvey(actor=actor, link_id=link_id, url=f"{services.settings.survey_url}/survey/{token}",
                                 link_hours=services.policy.callback_survey.link_hours)
    try:
        sent = await act_on_complaint(services, complaint_id, ComplaintWorkflow.send_callback_survey, request)
    except BaseException:
        await run_in_threadpool(surveys.withdraw, link_id)
        raise
    if isinstance(sent, JSONResponse):
        await run_in_threadpool(surveys.withdraw, link_id)
        return sent
    await run_in_threadpool(lambda: surveys.sent(link_id, handling_round=sent.handling_round, expires_at=sent.expires_at))
    return sent


@dataclass(frozen=True)
class Link:
    """A link as the survey page finds it: its row, and why it takes no answer now (None: it does)."""

    row: SurveyLinkRow
    refusal: str | None


def find_link(services: Services, token: str) -> Link | None:
    """The sent link a token names, or None when it names none (its signature does not hold, or no
    such link was sent)."""
    if signed_link_id(services, token) is None:
        return None
    row = services.read_model.surveys.find(token_digest(token))
    if row is None or row.expires_at is None or row.handling_round is None:
        return None
    case = services.read_model.complaints.find(row.complaint_id)
    if case is None:
        return None
    refusal = link_refusal(status=ComplaintStatus(case.status), handling_round=case.handling_round,
                           link_round=row.handling_round, expires_at=row.expires_at, now=datetime.now(UTC),
                           used=row.used_at is not None)
    if row.used_at is not None and row.outcome not in (None, RECORDED):
        refusal = row.outcome  # the answer was taken, and the case refused it: say why again
    return Link(row, refusal)


class AnswerNotDelivered(Exception):
    """The case could not be reached: the link was given back and takes an answer again."""


async def answer(services: Services, token: str, link: Link, rating: int, comment: str) -> str | None:
    """The customer's answer as the case's call-back: None when recorded, else why it was refused
    (taken by another answer first, expired, or refused by the case: closed, reopened, called back)."""
    row = link.row
    satisfied = is_satisfied(rating, services.policy.callback_survey)
    now = datetime.now(UTC)
    surveys = services.read_model.surveys
    if not await run_in_threadpool(lambda: surveys.take(token_digest(token), now=now, rating=rating, satisfied=satisfied)):
        again = await run_in_threadpool(find_link, services, token)
        return (again.refusal if again else None) or "this link has been used: the answer was recorded"
    case = await run_in_threadpool(services.read_model.complaints.find, row.complaint_id)
    customer = Actor(id="customer-survey", name="the customer, by survey link", role=Role.CUSTOMER,
                     unit=case.lead_unit if case else "hq")
    request = RecordCallback(actor=customer, satisfied=satisfied, survey_link=row.id, rating=rating,
                             customer_words=comment.strip() or f"rated {rating} of 5 on the survey page")
    handle = services.temporal.get_workflow_handle(complaint_workflow_id(row.complaint_id))
    try:
        await handle.execute_update(ComplaintWorkflow.record_callback, request, id=f"survey-answer-{row.id}")
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == INVALID_TRANSITION:
            return await _settled(services, row.id, cause.message)
        await run_in_threadpool(surveys.give_back, row.id, now)
        raise AnswerNotDelivered() from err
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:  # the workflow has ended: the case is closed
            return await _settled(services, row.id, "this case is closed")
        await run_in_threadpool(surveys.give_back, row.id, now)
        raise AnswerNotDelivered() from err
    await _settled(services, row.id, RECORDED)
    return None


async def _settled(services: Services, link_id: str, outcome: str) -> str:
    await run_in_threadpool(services.read_model.surveys.settle, link_id, outcome)
    return outcome
