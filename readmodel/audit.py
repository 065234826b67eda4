"""The audit log of customer data (PIPL art. 51): who revealed, exported, decoded or erased which
customer's data, for which case, why and when. Only inserts; the auditor reads it a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, func
from sqlmodel import Session, select

from readmodel.tables import AuditRow
from readmodel.writes import Store
from rules.actors import Actor


class AuditAction(StrEnum):
    REVEAL = "reveal"  # a full phone number shown to someone who must call the customer
    EXPORT = "export"  # the complaints CSV
    DECODE = "decode"  # the codec server decrypted workflow payloads for the Web UI or the CLI
    ERASE = "erase"  # one customer's cases de-identified at their request
    DEIDENTIFY = "deidentify"  # the retention schedule de-identified closed cases past the policy's term


def append(conn: Connection, actor: Actor, action: AuditAction, what: str, *, case_id: str | None = None,
           reason: str | None = None, at: datetime | None = None) -> int:
    """Append one row in the caller's transaction (a de-identification writes its row with the data it
    changes) and return its id. `what` names data, never holds it: "complainant.phone", not the number."""
    row = {"at": at or datetime.now(UTC), "actor_id": actor.id, "role": actor.role.value, "unit": actor.unit,
           "action": action.value, "what": what, "case_id": case_id, "reason": reason}
    result = conn.execute(AuditRow.__table__.insert().values(row))  # type: ignore[attr-defined]
    return int(result.inserted_primary_key[0])


class AuditLog(Store):
    def record(self, actor: Actor, action: AuditAction, what: str, *, case_id: str | None = None,
               reason: str | None = None, at: datetime | None = None) -> int:
        """Append one row in a transaction of its own and return its id."""
        with self.transaction() as conn:
            return append(conn, actor, action, what, case_id=case_id, reason=reason, at=at)

    def page(self, *, action: AuditAction | None = None, case_id: str | None = None, actor_id: str | None = None,
             offset: int = 0, limit: int = 50) -> tuple[list[AuditRow], int]:
        """Newest first."""
        conditions = []
        if action is not None:
            conditions.append(AuditRow.action == action.value)
        if case_id is not None:
            conditions.append(AuditRow.case_id == case_id)
        if actor_id is not None:
            conditions.append(AuditRow.actor_id == actor_id)
        with Session(self.engine) as session:
            total = session.exec(select(func.count()).select_from(AuditRow).where(*conditions)).one()
            rows = session.exec(select(AuditRow).where(*conditions)
                                .order_by(AuditRow.id.desc())  # type: ignore[union-attr]
                                .offset(offset).limit(limit)).all()
            return list(rows), int(total)
