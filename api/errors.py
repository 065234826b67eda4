"""Map workflow outcomes to HTTP: a rejected transition is 409 with the current state, a check that
needs the policy a 422 shaped like FastAPI's own (acting on a finished case: api/case_actions.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from workflows.case import INVALID_TRANSITION


def invalid_field(field: str, message: str, value: object = None) -> JSONResponse:
    """A 422 shaped like FastAPI's own validation errors, for checks that need the policy."""
    return JSONResponse(
        status_code=422,
        content={"detail": [{"type": "value_error", "loc": ["body", *field.split(".")], "msg": message, "input": value}]},
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
