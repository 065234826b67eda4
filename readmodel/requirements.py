"""Requirements for the product side (DOMAIN §3): a level-3 suggestion is forwarded as one record.

Written in the transaction that writes a suggestion's opening rows, which the API (at intake) and
the workflow (with its first later change) both write, so neither losing its write loses the
requirement, and writing it twice keeps one. The product side reads them a page at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func
from sqlmodel import Session, select

from readmodel.tables import RequirementRow
from readmodel.writes import Store, insert_for
from rules.customer_clocks import SUGGESTION_LEVEL
from rules.knowledge import redact
from workflows.complaint_messages import ComplaintFiling


def requirement_id(complaint_id: str) -> str:
    return f"requirement-{complaint_id}"


def forward(conn: Connection, filing: ComplaintFiling) -> None:
    """A level-3 suggestion's requirement, once; nothing for any other complaint. The text keeps no
    name or phone of the complainant, sender or recipient (nor anything that looks like a phone)."""
    if filing.classification.level != SUGGESTION_LEVEL:
        return
    intake = filing.intake
    parties = [p for p in (intake.sender, intake.recipient) if p is not None]
    names = [intake.complainant.name, *(p.name or "" for p in parties)]
    phones = [intake.complainant.phone, *(p.phone or "" for p in parties)]
    row = {
        "id": requirement_id(filing.complaint_id),
        "complaint_id": filing.complaint_id,
        "category": filing.classification.category,
        "channel": intake.channel.value,
        "suggestion": redact(intake.description, names=names, phones=phones),
        "demand": redact(intake.demand, names=names, phones=phones) if intake.demand else None,
        "received_at": intake.received_at,
        "forwarded_at": filing.filed_at,
    }
    table = RequirementRow.__table__  # type: ignore[attr-defined]
    conn.execute(insert_for(conn.dialect.name)(table).values(row).on_conflict_do_nothing(index_elements=[table.c.id]))


class RequirementStore(Store):
    """The requirements the product side lists, newest received first."""

    def page(self, *, category: str | None, received_from: datetime | None, offset: int,
             limit: int) -> tuple[list[RequirementRow], int]:
        conditions = []
        if category is not None:
            conditions.append(RequirementRow.category == category)
        if received_from is not None:
            conditions.append(RequirementRow.received_at >= received_from)
        with Session(self.engine) as session:
            total = session.exec(select(func.count()).select_from(RequirementRow).where(*conditions)).one()
            rows = session.exec(select(RequirementRow).where(*conditions)
                                .order_by(RequirementRow.received_at.desc(), RequirementRow.id)  # type: ignore[attr-defined]
                                .offset(offset).limit(limit)).all()
            return list(rows), int(total)
