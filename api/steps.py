"""An agent's step on a case as one row of a table: the row says the path, the body, the workflow
Update it becomes, who may take it and what the endpoint is called; `add_steps` makes the endpoints.
Adding a step to a case kind is one row."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.dependencies import Services, ServicesDep, require
from rules.actors import Actor, Permission
from rules.policy import Policy

# Sends the update (the workflow method) with its argument to the case named by id.
Act = Callable[[Services, str, Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    path: str  # below the router's prefix, with the case id first: "/{complaint_id}/resolution"
    name: str  # the endpoint's name since it was written: its summary and operationId come from it
    body: type[BaseModel]  # what the agent sends
    request: type[BaseModel]  # the Update's argument: the body, the acting agent and any path number
    update: Any  # the workflow's Update method
    permission: Permission
    doc: str | None = None  # the endpoint's description
    # A check that needs the policy (an unknown unit): the 422 naming the field, or None to go on.
    check: Callable[[Policy, Any], JSONResponse | None] | None = None
    path_numbers: Mapping[str, Any] = field(default_factory=dict)  # more path parameters: name → annotation


def add_steps(router: APIRouter, steps: Iterable[Step], *, case_id: str, response_model: Any, act: Act) -> None:
    """One POST endpoint per step; `case_id` is the path parameter naming the case."""
    for step in steps:
        router.add_api_route(
            step.path, _endpoint(step, case_id, act), methods=["POST"], response_model=response_model,
            name=step.name,
            # As FastAPI derives it from a function's name: clients generated from the schema keep theirs.
            operation_id=re.sub(r"\W", "_", f"{step.name}{router.prefix}{step.path}") + "_post",
        )


async def take_step(step: Step, services: Services, actor: Actor, case: str, body: BaseModel, act: Act,
                    numbers: Mapping[str, Any] | None = None) -> Any:
    """The step as its endpoint takes it (the permission already checked): the policy's check, then
    the Update on the case; the workspace's forms (api/workspace.py) take steps through it too."""
    if step.check is not None and (refused := step.check(services.policy, body)) is not None:
        return refused
    request = step.request(actor=actor, **(numbers or {}), **body.model_dump())
    return await act(services, case, step.update, request)


def _endpoint(step: Step, case_id: str, act: Act) -> Callable[..., Awaitable[Any]]:
    async def endpoint(**given: Any) -> Any:
        numbers = {name: given[name] for name in step.path_numbers}
        return await take_step(step, given["services"], given["actor"], given[case_id], given["body"], act, numbers)

    # FastAPI reads the parameters (path, body, dependencies) from the signature.
    keyword = inspect.Parameter.KEYWORD_ONLY
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(case_id, keyword, annotation=str),
            *(inspect.Parameter(name, keyword, annotation=kind) for name, kind in step.path_numbers.items()),
            inspect.Parameter("body", keyword, annotation=step.body),
            inspect.Parameter("services", keyword, annotation=ServicesDep),
            inspect.Parameter("actor", keyword, annotation=Annotated[Actor, Depends(require(step.permission))]),
        ],
        return_annotation=Any,
    )
    endpoint.__name__ = endpoint.__qualname__ = step.name
    endpoint.__doc__ = step.doc
    return endpoint
