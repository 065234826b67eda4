"""/queues/{queue}: one routing queue's inbox — today the VIP queue (差异化服务, policy `vip_service`),
where intake routes a VIP customer's case — in the inbox's order (high priority first, then the
soonest next due clock, then the longest waiting), a page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from api.dependencies import PageQuery, ServicesDep, require
from api.routers.complaints import ComplaintPage, ComplaintSummary, summary_fields
from readmodel.complaints import ComplaintFilter
from rules.actors import Actor, Permission
from rules.lifecycle import ComplaintStatus

router = APIRouter(prefix="/queues", tags=["complaints"])


@router.get("/{queue}", response_model=ComplaintPage)
async def queue_inbox(
    queue: str,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The complaints routed to `queue` (404 for a queue the policy does not name)."""
    vip = services.policy.vip_service
    if vip is None or queue != vip.queue:
        known = [vip.queue] if vip else []
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue {queue}; queues: {', '.join(known) or 'none'}")
    flt = ComplaintFilter(queue=queue, status=status_.value if status_ else None)
    rows, total = await run_in_threadpool(lambda: services.read_model.complaints.search(
        flt, offset=(page - 1) * page_size, limit=page_size, sort="priority", descending=False))
    return ComplaintPage(items=[ComplaintSummary(**summary_fields(r)) for r in rows], total=total, page=page,
                         page_size=page_size)
