"""Map workflow outcomes to HTTP: a rejected transition is 409 with the current state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.options import INVALID_TRANSITION


def invalid_field(field: str, message: str, value: object = None) -> JSONResponse:
    """A 422 shaped like FastAPI's own validation errors, for checks that need the policy."""
    return JSONResponse(
        status_code=422,
        content={"detail": [{"type": "value_error", "loc": ["body", *field.split(".")], "msg": message, "input": value}]},
    )


# A workflow in one of these has ended: an update it can no longer take is a 409, not an outage.
FINISHED_STATUSES = frozenset({"closed", "answered", "redispatched", "cancelled", "accepted", "accepted_by_silence"})


async def update_or_409(
    handle: WorkflowHandle[Any, Any], update: Any, request: Any, current_status: Callable[[], Awaitable[str]], what: str
) -> Any:
    """Run an Update; a workflow that has already finished answers 409 with the state it ended in."""
    try:
        return await handle.execute_update(update, request)
    except RPCError as err:
        current = await current_status()
        # NOT_FOUND is how the server says "already completed"; under load it may say it otherwise,
        # so a case the read model knows to be finished answers 409 whatever the code.
        if err.status is not RPCStatusCode.NOT_FOUND and current not in FINISHED_STATUSES:
            raise
        return JSONResponse(
            status_code=409,
            content={"detail": f"{what} is {current}; it takes no more changes", "current_status": current},
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(_: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == INVALID_TRANSITION:
            details = cause.details[0] if cause.details else {}
            return JSONResponse(status_code=409, content={"detail": cause.message, **details})
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        return JSONResponse(status_code=422, content={"detail": message})

    @app.exception_handler(RPCError)
    async def _rpc_failed(_: Request, err: RPCError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"workflow service unavailable: {err.message}"})
