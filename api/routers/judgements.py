"""Responsibility judgements (判责单, DOMAIN §7): inboxes, the lead office's draft, the responsible
office's answer (accept or appeal), arbitration's decision, and each office's invalid-appeal rate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.case_actions import act_on_case, at_or_above_or_403, found_or_404, row_only
from api.dependencies import Services, ServicesDep, require
from api.errors import invalid_field
from api.figures import organisation_zone
from api.routers.measures import parse_period
from api.timelines import DispatchEventView as EventView
from readmodel.judgements import view_of
from readmodel.tables import JudgementRow
from rules.actors import Actor, Permission
from rules.judgement import AppealRights, appeal_rights, fault_naming_problems
from rules.measures import PeriodKind
from workflows.judgement import JudgementWorkflow
from workflows.judgement_messages import (
    APPEAL_RIGHTS_SUSPENDED,
    MISSING_EVIDENCE,
    UNKNOWN_FAULT_TYPE,
    UNKNOWN_PARTY,
    Appeal,
    AppealJudgement,
    ArbitrationDecision,
    DecideAppeal,
    DraftEdit,
    EditJudgementDraft,
    FaultNaming,
    JudgementView,
    NameFault,
    SendJudgement,
    Sending,
)

router = APIRouter(tags=["judgements"])

Reader = Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))]
LeadOffice = Annotated[Actor, Depends(require(Permission.SEND_JUDGEMENT))]
ResponsibleOffice = Annotated[Actor, Depends(require(Permission.ANSWER_JUDGEMENT))]
Arbitration = Annotated[Actor, Depends(require(Permission.DECIDE_APPEAL))]


class JudgementDetail(JudgementView):
    events: list[EventView]  # the same shape as a dispatch's own timeline


@router.get("/units/{unit}/judgements", response_model=list[JudgementView])
async def judgement_inbox(unit: str, services: ServicesDep, _: Reader) -> Any:
    """The judgements a unit must act on now (send, answer or decide), soonest due first."""
    if unit not in services.policy.units:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {unit}")
    return await run_in_threadpool(services.read_model.judgements.inbox, unit)


@router.get("/judgements/appeal-rates", response_model=list[AppealRights])
async def appeal_rates(
    services: ServicesDep,
    _: Annotated[Actor, Depends(require(Permission.READ_MEASURES))],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="the month judged, e.g. 2026-10")],
) -> Any:
    """Each city branch's invalid-appeal rate of a month (of the judgements sent against its units),
    and whether it may appeal in the month after; `office` names the branch."""
    policy = services.policy
    period = parse_period(PeriodKind.MONTH, month, "month")
    start, end = period.bounds(organisation_zone(policy))
    counts = await run_in_threadpool(services.read_model.judgements.appeal_counts, start, end, policy.org_chart)
    bound = policy.judgement.invalid_appeal_rate_bound
    return [appeal_rights(office, period.label, *counted, bound) for office, counted in sorted(counts.items(), key=lambda kv: str(kv[0]))]


async def _judgement_or_404(services: Services, judgement_id: str) -> tuple[JudgementRow, list[Any]]:
    return await found_or_404(services.read_model.judgements.get, judgement_id, "judgement")


@router.get("/judgements/{judgement_id}", response_model=JudgementDetail)
async def get_judgement(judgement_id: str, services: ServicesDep, _: Reader) -> Any:
    row, events = await _judgement_or_404(services, judgement_id)
    return JudgementDetail(**view_of(row).model_dump(),
                           events=[EventView.model_validate(e, from_attributes=True) for e in events])


async def _acting_for(services: Services, judgement_id: str, actor: Actor, office: str) -> JudgementRow:
    """The judgement, if the actor's unit is the lead or responsible office or above it (else 403)."""
    row, _ = await _judgement_or_404(services, judgement_id)
    unit = row.lead_unit if office == "lead" else row.responsible_office
    at_or_above_or_403(services, actor.unit, unit, f"judgement {judgement_id} waits for the {office} office {unit}")
    return row


async def _update(services: Services, judgement_id: str, update: Any, req: Any) -> Any:
    """Run an Update: a wrong step is 409 (with the current status), missing evidence 422, an
    office without the right to appeal 403 with the reason and its rate."""
    try:
        return await act_on_case(services, judgement_id, update, req, what=f"judgement {judgement_id}",
                                 row=row_only(services.read_model.judgements.get, judgement_id))
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        details = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else {}
        kind = cause.type if isinstance(cause, ApplicationError) else None
        if kind == APPEAL_RIGHTS_SUSPENDED:
            return JSONResponse(status_code=403, content={"detail": cause.message, **details})  # type: ignore[union-attr]
        if kind == MISSING_EVIDENCE:
            return JSONResponse(status_code=422, content={"detail": [{
                "type": "missing_evidence", "loc": ["body", "evidence"], "msg": cause.message,  # type: ignore[union-attr]
                "missing": details.get("missing", [])}]})
        if kind == UNKNOWN_PARTY:
            return invalid_field("party", cause.message, req.party)  # type: ignore[union-attr]
        if kind == UNKNOWN_FAULT_TYPE:
            return invalid_field("fault_type", cause.message, req.fault_type)  # type: ignore[union-attr]
        raise


@router.post("/judgements/{judgement_id}/draft", response_model=JudgementView)
async def edit_draft(judgement_id: str, body: DraftEdit, services: ServicesDep, actor: LeadOffice) -> Any:
    """The lead office corrects the proposed office, party, unit or fault type before sending."""
    await _acting_for(services, judgement_id, actor, "lead")
    for field in ("responsible_office", "at_fault_unit"):
        value = getattr(body, field)
        if value is not None and value not in services.policy.units:
            return invalid_field(field, "unknown unit", value)
    return await _update(services, judgement_id, JudgementWorkflow.edit_draft, EditJudgementDraft(actor=actor, **body.model_dump()))


@router.post("/judgements/{judgement_id}/send", response_model=JudgementView)
async def send(judgement_id: str, body: Sending, services: ServicesDep, actor: LeadOffice) -> Any:
    """Sent to the responsible office: its 5 working days start on its calendar."""
    await _acting_for(services, judgement_id, actor, "lead")
    return await _update(services, judgement_id, JudgementWorkflow.send, SendJudgement(actor=actor, **body.model_dump()))


@router.post("/judgements/{judgement_id}/accept", response_model=JudgementView)
async def accept(judgement_id: str, body: FaultNaming, services: ServicesDep, actor: ResponsibleOffice) -> Any:
    """Accept (or, after a lost appeal, refine): the city branch, the failing link, the smallest unit."""
    row = await _acting_for(services, judgement_id, actor, "responsible")
    for field, message, value in fault_naming_problems(services.policy.org_chart, row.responsible_office or "",
                                                       body.city_branch, body.smallest_unit):
        return invalid_field(field, message, value)
    return await _update(services, judgement_id, JudgementWorkflow.accept, NameFault(actor=actor, **body.model_dump()))


@router.post("/judgements/{judgement_id}/appeal", response_model=JudgementView)
async def appeal(judgement_id: str, body: Appeal, services: ServicesDep, actor: ResponsibleOffice) -> Any:
    """Appeal to head-office arbitration with all the evidence in one submission; an office whose
    invalid-appeal rate last month was above the bound is refused (403 with the reason and the rate)."""
    await _acting_for(services, judgement_id, actor, "responsible")
    return await _update(services, judgement_id, JudgementWorkflow.appeal, AppealJudgement(actor=actor, **body.model_dump()))


@router.post("/judgements/{judgement_id}/decision", response_model=JudgementView)
async def decide(judgement_id: str, body: ArbitrationDecision, services: ServicesDep, actor: Arbitration) -> Any:
    """Only the arbitration group: no fault cancels the responsibility; at fault makes the appeal invalid."""
    await _judgement_or_404(services, judgement_id)
    return await _update(services, judgement_id, JudgementWorkflow.decide, DecideAppeal(actor=actor, **body.model_dump()))
