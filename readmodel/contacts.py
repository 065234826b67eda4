"""Contacts in the read model: one `contact` row each, their timeline in the shared `timeline_event`.

Written by a local activity of the contact workflows and by the API at intake (the same rows):
idempotent, an event is keyed by workflow id + seq and the row only moves forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from readmodel.tables import ContactRow, TimelineEventRow
from readmodel.writes import ForwardWriter, Store, timeline_columns
from workflows.contact_messages import ContactChange, ContactFiling


class ContactStore(Store):
    def __init__(self, engine: Engine, write_lock: AbstractContextManager[Any] | None = None) -> None:
        super().__init__(engine, write_lock)
        self._writer = ForwardWriter(engine.dialect.name, ContactRow.__table__, TimelineEventRow.__table__)  # type: ignore[attr-defined]

    def record(self, changes: Sequence[ContactChange]) -> None:
        with self._write_lock, self.engine.begin() as conn:
            for change in changes:
                state, event = change.state, change.event
                row = {"status": state.status.value, "handed_to": state.handed_to,
                       "clocks": [c.model_dump(mode="json") for c in state.clocks],
                       "missed_clocks": state.missed_clocks, "closed_at": state.closed_at,
                       "last_seq": event.seq, "updated_at": datetime.now(UTC)}
                created = _row_from_filing(change.workflow_id, change.filing) if change.filing is not None else None
                self._writer.write(conn, state.contact_id, row,
                                   [timeline_columns(change.workflow_id, state.contact_id, event)], created)

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
