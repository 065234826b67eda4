"""What a shift hand-over (交接班) reads: the open complaints a seat owns, or a unit's — owned by its
seats, or led by it and not taken by anyone yet — soonest next due first (indexed on owner_id,
owner_unit and lead_unit)."""

from __future__ import annotations

from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, select

from readmodel.tables import ComplaintRow

C = ComplaintRow.__table__.c  # type: ignore[attr-defined]


def open_work(engine: Engine, *, seat: str | None = None, unit: str | None = None, limit: int = 500) -> list[ComplaintRow]:
    """The open complaints of a seat (`seat`: its actor id) or of a unit, soonest next due first
    (none: last), then the longest waiting."""
    if seat is not None:
        whose = C.owner_id == seat
    else:
        whose = or_(C.owner_unit == unit, and_(C.owner_id.is_(None), C.lead_unit == unit))
    query = (select(ComplaintRow).where(C.status != "closed", whose)
             .order_by(C.next_due.is_(None), C.next_due, C.received_at, C.id).limit(limit))
    with Session(engine) as session:
        return list(session.exec(query).all())
