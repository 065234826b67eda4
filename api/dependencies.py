"""What every endpoint may ask for: the services, the current actor, a permission check."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.limits import SlidingWindow
from api.tokens import KnownTokens
from readmodel.store import ReadModel
from rules.actors import Actor, Permission
from rules.policy import Policy, PolicyFile
from settings import Settings


@dataclass
class Services:
    settings: Settings
    policy_file: PolicyFile
    tokens: KnownTokens
    temporal: Client
    read_model: ReadModel
    intake_rate: SlidingWindow = field(default_factory=SlidingWindow)  # this process's count per actor

    @property
    def policy(self) -> Policy:
        """The policy as it is now: an edited file applies to the next request, like in the worker."""
        return self.policy_file.current()

    def web_ui_url(self, workflow_id: str) -> str:
        """Where operations open a case's workflow in the Temporal Web UI."""
        namespace = quote(self.settings.temporal_namespace)
        return f"{self.settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id)}"


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

bearer_token = HTTPBearer(auto_error=False)


def current_actor(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)]
) -> Actor:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    actor = services.tokens.actor_for(credentials.credentials)
    if actor is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown or revoked bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]

# The page of a listing: its offset, (page - 1) × page size, must fit the database's integers.
PageQuery = Annotated[int, Query(ge=1, le=100_000)]


def require(permission: Permission) -> Callable[..., Actor]:
    def check(actor: ActorDep, services: ServicesDep) -> Actor:
        if refusal := services.policy.permission_refusal(actor.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
        return actor

    return check


async def within_intake_rate(actor: ActorDep, services: ServicesDep) -> Actor:
    """429 with Retry-After once a token has filed `intake_rate_limit` cases within the window (an
    async dependency: it runs on the event loop, so the count needs no lock)."""
    settings = services.settings
    if settings.intake_rate_limit:
        wait = services.intake_rate.wait_needed(actor.id, time.monotonic(), settings.intake_rate_limit,
                                                settings.intake_rate_window_seconds)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"more than {settings.intake_rate_limit} filings within {settings.intake_rate_window_seconds:g} s"
                f" with this token; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
    return actor


# Declared on the routes that count against the intake rate.
RATE_LIMITED: dict[int | str, dict[str, Any]] = {429: {
    "description": "more filings with this token than the intake rate allows",
    "headers": {"Retry-After": {"description": "seconds until a filing is admitted again", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}}}
