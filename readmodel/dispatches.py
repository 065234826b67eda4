"""Dispatches and tickets in the read model: one `dispatch` row each and its own `dispatch_event`
timeline. Written by a local activity of the dispatch workflow, read by the API: a unit's inbox,
a complaint's dispatches, the escalated ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session, select

from readmodel.tables import DispatchEventRow, DispatchRow
from readmodel.writes import Forward, ForwardStore, event_columns
from workflows.dispatch_messages import DispatchChange


class DispatchStore(ForwardStore[DispatchChange]):
    """Dispatch reads and idempotent writes on the read model's engine (SQLite or PostgreSQL)."""

    rows, events, owner = DispatchRow, DispatchEventRow, "dispatch_id"

    def forward(self, change: DispatchChange) -> Forward:
        view, event = change.view, change.event
        row = {**view.model_dump(mode="python", exclude={"dispatch_id"}), "last_seq": event.seq}
        row = {k: (v.value if hasattr(v, "value") else v) for k, v in row.items()}
        events = [{**event_columns(view.dispatch_id, event), "dispatch_id": view.dispatch_id,
                   "complaint_id": view.complaint_id}]
        return Forward(view.dispatch_id, row, events, created={"id": view.dispatch_id})

    def matching(self, *, complaint_id: str | None = None, units: Sequence[str] | None = None,
                 open_only: bool = False, escalated_only: bool = False,
                 now: datetime | None = None) -> list[DispatchRow]:
        """Sorted for an inbox: overdue first, then by due instant."""
        conditions = []
        if complaint_id is not None:
            conditions.append(DispatchRow.complaint_id == complaint_id)
        if units is not None:
            conditions.append(DispatchRow.unit.in_(units))  # type: ignore[attr-defined]
        if open_only:
            conditions.append(DispatchRow.status.in_(["open", "awaiting_review"]))  # type: ignore[attr-defined]
        if escalated_only:
            conditions.append(DispatchRow.escalation_level > 0)
        with Session(self.engine) as session:
            rows = list(session.exec(select(DispatchRow).where(*conditions)).all())
        now = now or datetime.now(UTC)
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(rows, key=lambda r: (not (r.due is not None and r.due < now and r.status == "open" and r.paused_at is None), r.due or far, r.id))

    def get(self, dispatch_id: str) -> tuple[DispatchRow, list[DispatchEventRow]] | None:
        return self.with_events(dispatch_id)
