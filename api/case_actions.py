"""Acting on a case: an agent's step goes to the case's workflow (complaint, dispatch, judgement or
contact) as an Update — 404 when the read model does not know the case, 409 with the status it ended
in once its workflow has finished. Every router's actions go through `act_on_case`."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import Services
from workflows.complaint_messages import complaint_workflow_id

# The Update id a page's form gives its step (api/workspace.py): a form submitted twice is one
# Update, which Temporal answers once; None (the JSON API): a fresh id each time.
FORM_UPDATE_ID: ContextVar[str | None] = ContextVar("form_update_id", default=None)

# A workflow in one of these has ended: an update it can no longer take is a 409, not an outage.
FINISHED_STATUSES = frozenset({"closed", "answered", "redispatched", "cancelled", "accepted", "accepted_by_silence"})


class CaseRow(Protocol):
    @property
    def status(self) -> Any: ...


Row = TypeVar("Row")


async def found_or_404(find: Callable[[str], Row | None], case_id: str, noun: str) -> Row:
    """The case's read-model entry, or a 404 naming the case (`noun` as the caller knows it)."""
    found = await run_in_threadpool(find, case_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {noun} {case_id}")
    return found


def at_or_above_or_403(services: Services, actor_unit: str, unit: str | None, waits_for: str) -> None:
    """Some steps belong to one unit (the addressee, the reviewer, the office): it or a unit above it
    may take them, anyone else gets a 403 saying who may (`waits_for`: whose step it is, and why)."""
    if unit is None or not services.policy.org_chart.is_at_or_above(actor_unit, unit):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{waits_for}; {actor_unit} is neither that unit nor above it")


def row_only(get: Callable[[str], tuple[Row, Any] | None], case_id: str) -> Callable[[], Row | None]:
    """For a store whose `get` answers (row, events): reads the row alone, for `act_on_case`."""
    def row() -> Row | None:
        found = get(case_id)
        return found[0] if found is not None else None

    return row


async def act_on_case(
    services: Services, workflow_id: str, update: Any, request: Any, *, what: str, row: Callable[[], CaseRow | None]
) -> Any:
    """Run an Update on the case's workflow; once that workflow has finished, 409 with the status the
    read model (`row`, read again) shows it ended in. `what` names the case in the answer."""
    handle = services.temporal.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, request, id=FORM_UPDATE_ID.get())
    except RPCError as err:
        found = await run_in_threadpool(row)
        current = str(found.status) if found is not None else "unknown"
        # NOT_FOUND is how the server says "already completed"; under load it may say it otherwise,
        # so a case the read model knows to be finished answers 409 whatever the code.
        if err.status is not RPCStatusCode.NOT_FOUND and current not in FINISHED_STATUSES:
            raise
        return JSONResponse(
            status_code=409,
            content={"detail": f"{what} is {current}; it takes no more changes", "current_status": current},
        )


async def act_on_complaint(services: Services, complaint_id: str, update: Any, request: Any) -> Any:
    """An agent's action on a complaint (the lifecycle steps, raising a dispatch)."""
    find = services.read_model.complaints.find
    await found_or_404(find, complaint_id, "complaint")
    return await act_on_case(services, complaint_workflow_id(complaint_id), update, request,
                             what=f"complaint {complaint_id}", row=lambda: find(complaint_id))
