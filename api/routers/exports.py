"""/exports: the complaints as CSV for supervisors (permission `export_complaints`), every person field
masked as in every other answer (DOMAIN §9), and each export written to the audit log: who, how many
rows, which filter. A path of its own, so it can never be read as a complaint id under /complaints."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.dependencies import Services, ServicesDep, require
from api.routers.complaints import summary_fields
from readmodel.audit import AuditAction
from readmodel.complaints import ComplaintFilter
from readmodel.tables import ComplaintRow
from rules.actors import Actor, Permission
from rules.customer_data import masked_party
from rules.lifecycle import ComplaintStatus

router = APIRouter(prefix="/exports", tags=["exports"])

EXPORT_ROWS_LIMIT = 50_000  # one file a spreadsheet opens; more asks for a narrower filter
_BATCH = 5_000

COLUMNS = ["complaint_id", "received_at", "status", "category", "urgency", "level", "priority", "channel",
           "lead_unit", "tracking_number", "complainant_name", "complainant_phone", "complainant_tier",
           "sender_name", "sender_phone", "sender_address", "recipient_name", "recipient_phone", "recipient_address",
           "handling_round", "one_time_resolution", "closed_at"]


def _line(row: ComplaintRow) -> list[Any]:
    shown = summary_fields(row)
    for who in ("sender", "recipient"):
        party = masked_party(getattr(row, who)) or {}
        shown |= {f"{who}_{part}": party.get(part) or "" for part in ("name", "phone", "address")}
    return [("" if shown[c] is None else shown[c].isoformat() if isinstance(shown[c], datetime) else shown[c])
            for c in COLUMNS]


def _rows(services: Services, flt: ComplaintFilter) -> list[ComplaintRow]:
    rows, total = services.read_model.complaints.search(flt, offset=0, limit=_BATCH, sort="received_at",
                                                        descending=False)
    if total > EXPORT_ROWS_LIMIT:
        raise HTTPException(422, [{"loc": ["query", "received_from"], "input": None,
                                   "msg": f"{total} complaints match; an export holds at most {EXPORT_ROWS_LIMIT}:"
                                          " narrow it with received_from / received_to"}])
    while len(rows) < total:
        more, _ = services.read_model.complaints.search(flt, offset=len(rows), limit=_BATCH, sort="received_at",
                                                        descending=False)
        if not more:
            break
        rows += more
    return rows


@router.get("/complaints.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one line per complaint, masked"}})
async def export_complaints(
    services: ServicesDep,
    actor: Annotated[Actor, Depends(require(Permission.EXPORT_COMPLAINTS))],
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    category: Annotated[str | None, Query(max_length=60)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    unit: Annotated[str | None, Query(max_length=100)] = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
) -> Response:
    """The complaints matching every filter given, oldest received first, as CSV (UTF-8 with a BOM, so a
    spreadsheet reads the Chinese); the export is audited with its row count and its filter."""
    for name, value in (("received_from", received_from), ("received_to", received_to)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, [{"loc": ["query", name], "msg": "must include a time zone offset", "input": str(value)}])
    asked = {"status": status_.value if status_ else None, "category": category, "channel": channel, "unit": unit,
             "received_from": received_from, "received_to": received_to}
    flt = ComplaintFilter(**asked)
    rows = await run_in_threadpool(_rows, services, flt)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_line(r) for r in rows)
    given = ", ".join(f"{k}={v.isoformat() if isinstance(v, datetime) else v}" for k, v in asked.items() if v is not None)
    await run_in_threadpool(lambda: services.read_model.audit.record(
        actor, AuditAction.EXPORT, f"complaints.csv ({len(rows)} rows)", reason=f"filter: {given or 'none'}"))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="complaints.csv"', "Cache-Control": "no-store"})
