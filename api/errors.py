"""Map workflow outcomes to HTTP: a rejected transition is 409 with the current state, a check that
needs the policy a 422 shaped like FastAPI's own (acting on a finished case: api/case_actions.py).
A 422 echoes the input it refuses only in brief, and the OpenAPI schema names every error status a
route can answer (`document_error_statuses`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from workflows.case import INVALID_TRANSITION

# What a 422 echoes of the input it refuses: each text up to ECHO_CHARS, each list or object up to
# ECHO_ITEMS entries and ECHO_DEPTH levels, the whole echo up to ECHO_JSON characters of JSON.
ECHO_CHARS = 200
ECHO_ITEMS = 20
ECHO_DEPTH = 4
ECHO_JSON = 2_000


def brief(value: Any, depth: int = 0) -> Any:
    """The input as a 422 echoes it: long texts cut, with how long they were; big structures cut."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else f"{value[:ECHO_CHARS]}… ({len(value)} characters)"
    if isinstance(value, dict | list | tuple) and depth >= ECHO_DEPTH:
        return "…"
    if isinstance(value, dict):
        cut = {brief(str(k)): brief(v, depth + 1) for k, v in list(value.items())[:ECHO_ITEMS]}
        return cut | ({"…": f"{len(value) - ECHO_ITEMS} more"} if len(value) > ECHO_ITEMS else {})
    if isinstance(value, list | tuple):
        cut_list = [brief(v, depth + 1) for v in list(value)[:ECHO_ITEMS]]
        return cut_list + ([f"… {len(value) - ECHO_ITEMS} more"] if len(value) > ECHO_ITEMS else [])
    return value


def _brief_error(error: dict[str, Any]) -> dict[str, Any]:
    if "input" not in error:
        return error
    echoed = jsonable_encoder(brief(error["input"]))
    text = json.dumps(echoed, ensure_ascii=False, default=str)
    if len(text) > ECHO_JSON:
        echoed = f"{text[:ECHO_JSON]}… (cut)"
    return {**error, "input": echoed}


def invalid_field(field: str, message: str, value: object = None) -> JSONResponse:
    """A 422 shaped like FastAPI's own validation errors, for checks that need the policy."""
    return JSONResponse(
        status_code=422,
        content={"detail": [_brief_error({"type": "value_error", "loc": ["body", *field.split(".")], "msg": message,
                                          "input": value})]},
    )


def update_refused(err: WorkflowUpdateFailedError) -> JSONResponse:
    """A step the workflow refused: 409 with the current state for a wrong transition, else 422."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == INVALID_TRANSITION:
        details = cause.details[0] if cause.details else {}
        return JSONResponse(status_code=409, content={"detail": cause.message, **details})
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
    return JSONResponse(status_code=422, content={"detail": message})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder([_brief_error(e) for e in err.errors()])})

    @app.exception_handler(HTTPException)
    async def _refused(request: Request, err: HTTPException) -> Response:
        """A route's own 422 list, shaped like FastAPI's (each error has its `type`) and echoing in brief."""
        if err.status_code == 422 and isinstance(err.detail, list):
            errors = [_brief_error({"type": "value_error", **e}) if isinstance(e, dict) else e for e in err.detail]
            return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)}, headers=err.headers)
        return await http_exception_handler(request, err)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(_: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
        return update_refused(err)

    @app.exception_handler(RPCError)
    async def _rpc_failed(_: Request, err: RPCError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"workflow service unavailable: {err.message}"})


_PROBLEM = {"application/json": {"schema": {
    "type": "object", "required": ["detail"], "additionalProperties": True,
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}}}}}

# The error statuses every operation of a kind answers, besides FastAPI's own 422 and what a route
# declares itself (429 on the intake routes: api/dependencies.py RATE_LIMITED).
_BEHIND_A_TOKEN = {"401": "no bearer token, or one unknown or revoked", "403": "this role or unit may not do this"}
_NAMING_SOMETHING = {"404": "nothing of that id"}
_A_STEP = {"409": "refused in the current state (the body names it), or the same idempotency key in flight"}
_WITH_A_BODY = {"413": "request body larger than MAX_BODY_BYTES"}


def document_error_statuses(app: FastAPI) -> None:
    """Name in the OpenAPI schema the error statuses each operation answers: 401/403 behind a bearer
    token, 404 for a path naming something, 409 for a POST, 413 for a body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's own, cached; completing it again changes nothing
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                statuses: dict[str, str] = {}
                if operation.get("security"):
                    statuses |= _BEHIND_A_TOKEN
                if "{" in path:
                    statuses |= _NAMING_SOMETHING
                if method == "post":
                    statuses |= _A_STEP
                if "requestBody" in operation:
                    statuses |= _WITH_A_BODY
                responses = operation.setdefault("responses", {})
                page = "text/html" in responses.get("200", {}).get("content", {})  # refuses as a page too
                for code, description in statuses.items():
                    content = {"text/plain": {}} if code == "413" else _PROBLEM
                    if page and code in _BEHIND_A_TOKEN:
                        content = {**content, "text/html": {}}
                    responses.setdefault(code, {"description": description, "content": content})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
