"""Responsibility judgements in the read model: one row per judgement and its own timeline.

Written by a local activity of JudgementWorkflow (idempotent: an event is keyed by workflow id +
seq, the row only moves forward), read by the API: an office's inbox, a complaint's judgements,
and the invalid-appeal counts per office and month that decide the right to appeal.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from readmodel import measures
from readmodel.tables import JudgementEventRow, JudgementRow
from readmodel.writes import Forward, ForwardStore, event_columns
from rules.judgement import FINAL_STATUSES, per_branch
from rules.org_chart import OrgChart
from workflows.judgement_messages import JudgementChange, JudgementView

__all__ = ["JudgementEventRow", "JudgementRow", "JudgementStore", "view_of"]


OPEN_STATUSES = ("draft", "awaiting_response", "in_arbitration", "awaiting_refinement")
assert not set(OPEN_STATUSES) & {s.value for s in FINAL_STATUSES}


class JudgementStore(ForwardStore[JudgementChange]):
    """Judgement reads and idempotent writes on the read model's engine (SQLite or PostgreSQL)."""

    rows, events, owner = JudgementRow, JudgementEventRow, "judgement_id"

    def forward(self, change: JudgementChange) -> Forward:
        view, event = change.view, change.event
        row = {**view.model_dump(mode="python", exclude={"judgement_id"}),
               "last_seq": event.seq, "updated_at": datetime.now(UTC), "status": view.status.value}
        events = [{**event_columns(change.workflow_id, event), "judgement_id": view.judgement_id,
                   "complaint_id": view.complaint_id}]
        return Forward(view.judgement_id, row, events, created={"id": view.judgement_id})

    def get(self, judgement_id: str) -> tuple[JudgementRow, list[JudgementEventRow]] | None:
        return self.with_events(judgement_id)

    def of_complaint(self, complaint_id: str) -> list[JudgementView]:
        with Session(self.engine) as session:
            rows = session.exec(select(JudgementRow).where(JudgementRow.complaint_id == complaint_id)
                                .order_by(JudgementRow.opened_at, JudgementRow.id)).all()  # type: ignore[arg-type]
            return [view_of(r) for r in rows]

    def inbox(self, unit: str) -> list[JudgementView]:
        """What the unit must act on now, soonest due first (a draft, which has no clock, last)."""
        with Session(self.engine) as session:
            rows = list(session.exec(select(JudgementRow).where(
                JudgementRow.acting_unit == unit, JudgementRow.status.in_(OPEN_STATUSES))).all())  # type: ignore[attr-defined]
        far = datetime.max.replace(tzinfo=UTC)
        return [view_of(r) for r in sorted(rows, key=lambda r: (r.due or far, r.id))]

    def appeal_counts(self, start: datetime, end: datetime, chart: OrgChart,
                      branch: str | None = None) -> dict[str, tuple[int, int]]:
        """Per city branch (市局, DOMAIN §7): (appeals decided as at fault, judgements sent) for the
        judgements sent in [start, end) against a unit of that branch: the invalid-appeal rate of
        the measures (DOMAIN §8), folded from the units at fault into their branches."""
        counted = measures.counts(self.engine, "invalid_appeal_rate", start, end, end, "unit")
        folded = per_branch({u: n for u, n in counted.items() if u is not None}, chart)
        return {b: n for b, n in folded.items() if branch is None or b == branch}


def view_of(row: JudgementRow) -> JudgementView:
    return JudgementView(judgement_id=row.id, **{k: getattr(row, k) for k in JudgementView.model_fields if k != "judgement_id"})
