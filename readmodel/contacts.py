"""Contacts in the read model: one `contact` row each, their timeline in the shared `timeline_event`.

Written by a local activity of the contact workflows and by the API at intake (the same rows):
idempotent, an event is keyed by workflow id + seq and the row only moves forward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from readmodel.tables import ContactRow, TimelineEventRow
from workflows.contact_messages import ContactChange, ContactFiling


class ContactStore:
    def __init__(self, engine: Engine, write_lock: AbstractContextManager[Any] | None = None) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._write_lock = write_lock or contextlib.nullcontext()

    @classmethod
    def of(cls, read_model: Any) -> ContactStore:
        """On a ReadModel: its engine, and its writer mutex (SQLite)."""
        return cls(read_model.engine, read_model.write_lock)

    def record(self, changes: Sequence[ContactChange]) -> None:
        table, timeline = ContactRow.__table__, TimelineEventRow.__table__  # type: ignore[attr-defined]
        with self._write_lock, self.engine.begin() as conn:
            for change in changes:
                state, event = change.state, change.event
                row = {"status": state.status.value, "handed_to": state.handed_to,
                       "clocks": [c.model_dump(mode="json") for c in state.clocks],
                       "missed_clocks": state.missed_clocks, "closed_at": state.closed_at,
                       "last_seq": event.seq, "updated_at": datetime.now(UTC)}
                if change.filing is not None:
                    insert = self._insert(table).values(**_row_from_filing(change.workflow_id, change.filing), **row)
                    conn.execute(insert.on_conflict_do_update(
                        index_elements=[table.c.id], set_={k: getattr(insert.excluded, k) for k in row},
                        where=table.c.last_seq < insert.excluded.last_seq,
                    ))
                else:
                    conn.execute(table.update().where(table.c.id == state.contact_id, table.c.last_seq < event.seq)
                                 .values(**row))
                actor = event.actor
                conn.execute(self._insert(timeline).values(
                    id=f"{change.workflow_id}:{event.seq}", complaint_id=state.contact_id, seq=event.seq, at=event.at,
                    actor_id=actor.id, actor_name=actor.name, actor_role=actor.role.value, actor_unit=actor.unit,
                    action=event.action.value, from_status=event.from_status.value if event.from_status else None,
                    to_status=event.to_status.value, detail=event.detail,
                ).on_conflict_do_nothing(index_elements=[timeline.c.id]))

    def find(self, contact_id: str) -> ContactRow | None:
        with Session(self.engine) as session:
            return session.get(ContactRow, contact_id)

    def get(self, contact_id: str) -> tuple[ContactRow, list[TimelineEventRow]] | None:
        with Session(self.engine) as session:
            row = session.get(ContactRow, contact_id)
            if row is None:
                return None
            events = session.exec(select(TimelineEventRow).where(TimelineEventRow.complaint_id == contact_id)
                                  .order_by(TimelineEventRow.seq)).all()  # type: ignore[arg-type]
            return row, list(events)


def _row_from_filing(workflow_id: str, filing: ContactFiling) -> dict[str, Any]:
    intake = filing.intake
    return {
        "id": filing.contact_id, "workflow_id": workflow_id, "kind": intake.kind.value,
        "channel": intake.channel.value, "channel_message_id": intake.channel_message_id,
        "received_at": intake.received_at, "filed_at": filing.filed_at, "filed_by": filing.filed_by.id,
        "desk_unit": filing.desk_unit, "customer_name": intake.customer.name, "customer_phone": intake.customer.phone,
        "customer_tier": intake.customer.tier, "tracking_number": intake.tracking_number,
        "description": intake.description, "location": intake.location,
        "evidence": [e.model_dump(mode="json") for e in intake.evidence],
    }
