"""/requirements: level-3 suggestions forwarded to the product side (DOMAIN §3), a page at a time.
Each holds the suggestion's text and category, never the customer's name or phone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.dependencies import PageQuery, ServicesDep, require
from rules.actors import Actor, Permission

router = APIRouter(prefix="/requirements", tags=["requirements"])


class Requirement(BaseModel):
    requirement_id: str
    complaint_id: str  # the suggestion's case, for the product side to ask the desk about it
    category: str
    channel: str
    suggestion: str  # the customer's words, names and phone numbers taken out
    demand: str | None
    received_at: datetime
    forwarded_at: datetime


class RequirementPage(BaseModel):
    items: list[Requirement]
    total: int
    page: int
    page_size: int


@router.get("", response_model=RequirementPage)
async def list_requirements(
    services: ServicesDep,
    _: Annotated[Actor, Depends(require(Permission.READ_REQUIREMENTS))],
    category: str | None = None,
    received_from: datetime | None = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Newest received first."""
    if received_from is not None and received_from.tzinfo is None:
        raise HTTPException(422, [{"loc": ["query", "received_from"], "msg": "must include a time zone offset",
                                   "input": str(received_from)}])
    rows, total = await run_in_threadpool(lambda: services.read_model.requirements.page(
        category=category, received_from=received_from, offset=(page - 1) * page_size, limit=page_size))
    items = [Requirement(requirement_id=r.id, **r.model_dump(exclude={"id"})) for r in rows]
    return RequirementPage(items=items, total=total, page=page, page_size=page_size)
