"""/audit: every reveal, export, decode and erasure of customer data, newest first; the auditor's alone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.dependencies import PageQuery, ServicesDep, require
from readmodel.audit import AuditAction
from rules.actors import Actor, Permission

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: str
    role: str
    unit: str
    action: AuditAction
    what: str
    case_id: str | None
    reason: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


@router.get("", response_model=AuditPage)
async def list_audit(
    services: ServicesDep,
    _: Annotated[Actor, Depends(require(Permission.READ_AUDIT))],
    action: AuditAction | None = None,
    case_id: str | None = None,
    actor_id: str | None = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    rows, total = await run_in_threadpool(lambda: services.read_model.audit.page(
        action=action, case_id=case_id, actor_id=actor_id, offset=(page - 1) * page_size, limit=page_size))
    return AuditPage(items=[AuditEntry.model_validate(r, from_attributes=True) for r in rows], total=total,
                     page=page, page_size=page_size)
