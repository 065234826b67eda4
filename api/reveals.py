"""A reveal (DOMAIN §9): one field of one case whole, for a member of staff who must call or reach the
customer. Asked with a reason, audited before it is answered, answered once: never cached."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import StringConstraints

from api.dependencies import Services
from readmodel.audit import AuditAction
from rules.actors import Actor
from rules.customer_data import reveal_refusal

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


async def reveal_once(services: Services, actor: Actor, response: Response, *, case_id: str, field: str,
                      value: str | None, reason: str, sent_to: list[str]) -> str:
    """The value, after the audit row: 403 with why for whoever may not (`reveal_refusal`), 404 when
    the case holds no such value."""
    if refusal := reveal_refusal(actor.role, actor.unit, services.policy, sent_to):
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    if not value:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{case_id} has no {field}")
    await run_in_threadpool(lambda: services.read_model.audit.record(
        actor, AuditAction.REVEAL, field, case_id=case_id, reason=reason))
    response.headers["Cache-Control"] = "no-store"
    return value
