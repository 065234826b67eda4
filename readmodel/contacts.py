"""Contacts in the read model: one `contact` row each, their timeline in the shared `timeline_event`.

Written by a local activity of the contact workflows and by the API at intake (the same rows):
idempotent, an event is keyed by workflow id + seq and the row only moves forward.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from readmodel.tables import ContactRow, TimelineEventRow
from readmodel.writes import Forward, ForwardStore, timeline_columns
from workflows.contact_messages import ContactChange, ContactFiling


class ContactStore(ForwardStore[ContactChange]):
    """Contact reads and idempotent writes on the read model's engine (SQLite or PostgreSQL)."""

    rows, events, owner = ContactRow, TimelineEventRow, "complaint_id"

    def forward(self, change: ContactChange) -> Forward:
        state, event = change.state, change.event
        row = {"status": state.status.value, "handed_to": state.handed_to,
               "clocks": [c.model_dump(mode="json") for c in state.clocks],
               "missed_clocks": state.missed_clocks, "closed_at": state.closed_at,
               "last_seq": event.seq, "updated_at": datetime.now(UTC)}
        created = _row_from_filing(change.workflow_id, change.filing) if change.filing is not None else None
        return Forward(state.contact_id, row, [timeline_columns(change.workflow_id, state.contact_id, event)], created)

    def find(self, contact_id: str) -> ContactRow | None:
        with Session(self.engine) as session:
            return session.get(ContactRow, contact_id)

    def get(self, contact_id: str) -> tuple[ContactRow, list[TimelineEventRow]] | None:
        return self.with_events(contact_id)


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
