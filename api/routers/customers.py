"""/customers/erasure: a customer asks that the centre forget them (PIPL art. 47). A supervisor
(permission erase_customer_data) de-identifies every closed case of that phone at once
(readmodel/retention.py), each with an `erase` row in the audit log, and is told how many. While
one of the customer's cases is still being handled the whole request is refused with 409 naming
those cases and nothing changes: the complaint is handled (or closed unresolvable, giving the
customer's request as the reason) first, then the erasure is asked again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import ServicesDep, require
from readmodel.retention import CasesStillOpen, Retention
from rules.actors import Actor, Permission
from rules.intake import PhoneNumber

router = APIRouter(prefix="/customers", tags=["customer data"])


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: PhoneNumber = Field(description="the customer's phone, written any way (+86 138 0013 8000, 13800138000)")
    reason: Annotated[str, Field(min_length=1, max_length=500, description="how the customer asked, for the audit log")]


class ErasureDone(BaseModel):
    deidentified: int  # cases de-identified by this request
    complaints: list[str]
    contacts: list[str]


@router.post("/erasure", response_model=ErasureDone, responses={409: {"description": "a case of this customer is still open"}})
async def erase_customer(
    body: ErasureRequest, services: ServicesDep, actor: Annotated[Actor, Depends(require(Permission.ERASE_CUSTOMER_DATA))],
) -> Any:
    """De-identify every closed case of the customer with this phone, at once; 409 naming the open ones."""
    read_model = services.read_model
    retention = Retention(read_model.engine, read_model.write_lock)
    try:
        done = await run_in_threadpool(retention.erase_customer, body.phone, actor=actor, reason=body.reason,
                                       at=datetime.now(UTC))
    except CasesStillOpen as refused:
        return JSONResponse(status_code=409, content={
            "detail": "the customer has cases still being handled: close them, then ask again; nothing was erased",
            "open_cases": list(refused.open_cases)})
    return ErasureDone(deidentified=len(done), complaints=list(done.complaints), contacts=list(done.contacts))
