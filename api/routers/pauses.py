"""Clock pauses (rules/pauses.py): a handler pauses and resumes a complaint's customer clocks (a
dispatch's unit its clock: api/routers/dispatches.py). The reason must be one the policy allows
(`pauses`, else 422 naming `reason`); its maximum goes to the workflow with the request. A step
the case cannot take now (already paused, not paused, overdue, closed) is the workflow's 409."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.case_actions import act_on_complaint
from api.dependencies import ServicesDep, require
from api.errors import invalid_field
from rules.actors import Actor, Permission
from rules.pauses import PauseRule, reason_refusal
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import ComplaintState
from workflows.pauses import ClockPauseRequest, ClockResumeRequest, PauseClocks, ResumeClocks

router = APIRouter(tags=["pauses"])

CustomerClocksPauser = Annotated[Actor, Depends(require(Permission.PAUSE_CUSTOMER_CLOCKS))]


def pause_request(allowed: dict[str, PauseRule], body: ClockPauseRequest, actor: Actor) -> PauseClocks | JSONResponse:
    """The update with the reason's maximum, or the 422 naming `reason`."""
    if refusal := reason_refusal(allowed, body.reason):
        return invalid_field("reason", refusal, body.reason)
    return PauseClocks(actor=actor, reason=body.reason, note=body.note,
                       max_working_hours=allowed[body.reason].max_working_hours)


@router.post("/complaints/{complaint_id}/pause", response_model=ComplaintState)
async def pause_customer_clocks(complaint_id: str, body: ClockPauseRequest, services: ServicesDep,
                                actor: CustomerClocksPauser) -> Any:
    """Pause the complaint's running customer clocks while it waits on the customer or a third
    party: nothing is owed until they resume (by hand, or by themselves at the reason's maximum)."""
    req = pause_request(services.policy.pauses.complaint, body, actor)
    if isinstance(req, JSONResponse):
        return req
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.pause_clocks, req)


@router.post("/complaints/{complaint_id}/resume", response_model=ComplaintState)
async def resume_customer_clocks(complaint_id: str, body: ClockResumeRequest, services: ServicesDep,
                                 actor: CustomerClocksPauser) -> Any:
    """Each paused clock runs again with the working time it had left; 409 when none is paused."""
    req = ResumeClocks(actor=actor, note=body.note)
    return await act_on_complaint(services, complaint_id, ComplaintWorkflow.resume_clocks, req)
