"""Complaints in the read model: one `complaint` row each and its timeline in `timeline_event`.

Written by a local activity of the complaint workflow and by the API at intake (the same rows),
read by the API: a complaint with its timeline, the filtered and sorted list (high priority first
unless asked otherwise), and what intake needs (a retried filing, the customer's or the parcel's
earlier complaints, the customer known by the phone's normalised form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from readmodel import knowledge, requirements
from readmodel.tables import ComplaintRow, TimelineEventRow
from readmodel.writes import Forward, ForwardStore, timeline_columns
from rules.classification import Priority
from rules.lifecycle import OPEN_STATUSES
from rules.customer_data import normalised_phone
from rules.lifecycle import ComplaintAction
from rules.repeats import EarlierComplaint
from workflows.complaint_messages import ComplaintChange


@dataclass(frozen=True)
class ComplaintFilter:
    status: str | None = None
    category: str | None = None
    urgency: str | None = None
    level: int | None = None
    channel: str | None = None
    tracking_number: str | None = None
    unit: str | None = None
    queue: str | None = None  # the VIP queue (policy vip_service.queue)
    received_from: datetime | None = None
    received_to: datetime | None = None
    open_only: bool = False  # open to steps (rules/lifecycle.py OPEN_STATUSES): a workspace's inbox
    as_of: datetime | None = None  # the instant `sort='due'` judges a clock overdue at


# Enough to judge a repeat or a duplicate; a customer with more is high priority either way.
EARLIER_COMPLAINTS_LIMIT = 50

SORTABLE = {"received_at", "filed_at", "updated_at", "level", "status", "category", "priority"}

# `sort=priority`, the inbox's order: high priority first (a VIP tier, a repeat, earlier complaints,
# urgent, level 1: rules/classification.py), then the soonest next due clock (none, or closed: last),
# then the longest waiting. `-priority` puts normal priority first, the rest alike.
_HIGH_FIRST = case((ComplaintRow.priority == Priority.HIGH.value, 0), else_=1)
_NO_CLOCK_LAST = case((or_(ComplaintRow.next_due.is_(None), ComplaintRow.status == "closed"), 1),  # type: ignore[union-attr]
                      else_=0)


def _overdue_first(as_of: datetime) -> Any:
    """0 for a complaint with a clock overdue at `as_of` (marked by its workflow, or past due and not yet marked)."""
    return case((or_(ComplaintRow.overdue_since.is_not(None), ComplaintRow.next_due < as_of), 0),  # type: ignore[union-attr,operator]
                else_=1)


def _order(sort: str, descending: bool, as_of: datetime | None = None) -> list[Any]:
    if sort == "due":  # a workspace's inbox: overdue first, then as `priority`, overdue by its oldest miss
        return [_overdue_first(as_of or datetime.now(UTC)), _HIGH_FIRST, _NO_CLOCK_LAST,
                func.coalesce(ComplaintRow.overdue_since, ComplaintRow.next_due), ComplaintRow.received_at, ComplaintRow.id]
    if sort == "priority":
        return [_HIGH_FIRST.desc() if descending else _HIGH_FIRST, _NO_CLOCK_LAST,
                case((ComplaintRow.status == "closed", None), else_=ComplaintRow.next_due),
                ComplaintRow.received_at, ComplaintRow.id]
    column = getattr(ComplaintRow, sort)
    return [column.desc() if descending else column.asc(), ComplaintRow.id]


class ComplaintStore(ForwardStore[ComplaintChange]):
    """Complaint reads and idempotent writes on the read model's engine (SQLite or PostgreSQL)."""

    rows, events, owner = ComplaintRow, TimelineEventRow, "complaint_id"

    def record(self, changes: Sequence[ComplaintChange]) -> None:
        """Apply changes in one transaction, one write per complaint (intake writes three changes
        at once): its row in the state after the last of them, all their timeline rows in one
        statement, a level-3 suggestion's requirement with its opening rows, and at a closing the
        knowledge entry, once, in the closing's transaction."""
        with self.transaction() as conn:
            for complaint_changes in _per_complaint(changes):
                self.advance(conn, _forward(complaint_changes))
                for change in complaint_changes:
                    if change.filing is not None:
                        requirements.forward(conn, change.filing)
                    if change.status.value == "closed":
                        knowledge.capture(conn, change)

    def forward(self, change: ComplaintChange) -> Forward:
        """One change as one write of the row and its timeline entry (ops/reconcile.py's mapping too)."""
        return _forward([change])

    # -- reads --------------------------------------------------------------------------------

    def get(self, complaint_id: str) -> tuple[ComplaintRow, list[TimelineEventRow]] | None:
        return self.with_events(complaint_id)

    def find(self, complaint_id: str) -> ComplaintRow | None:
        with Session(self.engine) as session:
            return session.get(ComplaintRow, complaint_id)

    def merged_into(self, target_id: str) -> list[str]:
        """The complaints merged into `target_id` now (rules/merging.py), oldest first."""
        with Session(self.engine) as session:
            return list(session.exec(select(ComplaintRow.id).where(ComplaintRow.merged_into == target_id)
                                     .order_by(ComplaintRow.received_at, ComplaintRow.id)).all())

    def search(
        self, flt: ComplaintFilter, *, offset: int, limit: int, sort: str, descending: bool
    ) -> tuple[list[ComplaintRow], int]:
        conditions = []
        for name in ("status", "category", "urgency", "level", "channel", "tracking_number"):
            value = getattr(flt, name)
            if value is not None:
                conditions.append(getattr(ComplaintRow, name) == value)
        if flt.unit is not None:
            conditions.append(ComplaintRow.lead_unit == flt.unit)
        if flt.queue is not None:
            conditions.append(ComplaintRow.queue == flt.queue)
        if flt.received_from is not None:
            conditions.append(ComplaintRow.received_at >= flt.received_from)
        if flt.received_to is not None:
            conditions.append(ComplaintRow.received_at < flt.received_to)
        if flt.open_only:
            conditions.append(ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]))  # type: ignore[attr-defined]
        order = _order(sort, descending, flt.as_of)
        with Session(self.engine) as session:
            total = session.exec(select(func.count()).select_from(ComplaintRow).where(*conditions)).one()
            rows = session.exec(
                select(ComplaintRow).where(*conditions).order_by(*order).offset(offset).limit(limit)
            ).all()
            return list(rows), int(total)

    def earlier_complaints(
        self, *, phone: str, tracking_number: str | None, since: datetime, exclude_id: str
    ) -> int:
        """Complaints by the same phone (however written) or about the same parcel received or closed
        since a given instant."""
        with self.engine.connect() as conn:
            return len(_earlier(conn, phone, tracking_number, since, exclude_id))

    def intake_context(
        self, complaint_id: str, *, phone: str, tracking_number: str | None, since: datetime
    ) -> tuple[ComplaintRow | None, list[EarlierComplaint]]:
        """What intake needs: the complaint if this id was filed already, else the earlier
        complaints of the customer (by the phone's normalised form, which `complainant_phone` of
        each holds) or the parcel (for repeats and duplicates)."""
        with self.engine.connect() as conn:
            if conn.execute(_FILED, {"id": complaint_id}).first() is None:
                return None, _earlier(conn, phone, tracking_number, since, complaint_id)
        with Session(self.engine) as session:  # a retried filing: the whole row, for the answer
            return session.get(ComplaintRow, complaint_id), []


# Intake's reads, built once: building a statement costs more CPU than SQLite takes to run it.
_FILED = sa_select(ComplaintRow.__table__.c.id).where(ComplaintRow.__table__.c.id == bindparam("id"))


def _earlier_statement(by_parcel: bool) -> Any:
    c = ComplaintRow.__table__.c
    who = c.phone_key == bindparam("phone")
    if by_parcel:
        who = or_(who, c.tracking_number == bindparam("tracking_number"))
    return (
        sa_select(c.id, c.status, c.category, c.phone_key, c.tracking_number, c.received_at, c.closed_at)
        # received in the window, or closed in it: the repeat window runs from the closing (rules/repeats.py)
        .where(who, or_(c.received_at >= bindparam("since"), c.closed_at >= bindparam("since")),
               c.id != bindparam("exclude_id"))
        .order_by(c.received_at.desc())
        .limit(EARLIER_COMPLAINTS_LIMIT)
    )


_EARLIER = {by_parcel: _earlier_statement(by_parcel) for by_parcel in (False, True)}


def _earlier(
    conn: Connection, phone: str, tracking_number: str | None, since: datetime, exclude_id: str
) -> list[EarlierComplaint]:
    params = {"phone": normalised_phone(phone), "since": since, "exclude_id": exclude_id, "tracking_number": tracking_number}
    rows = conn.execute(_EARLIER[bool(tracking_number)], params if tracking_number else
                        {k: v for k, v in params.items() if k != "tracking_number"}).all()
    return [EarlierComplaint(*r) for r in rows]


def _per_complaint(changes: Sequence[ComplaintChange]) -> list[list[ComplaintChange]]:
    by_complaint: dict[str, list[ComplaintChange]] = {}
    for change in changes:
        by_complaint.setdefault(change.complaint_id, []).append(change)
    return [sorted(run, key=lambda c: c.entry.seq) for run in by_complaint.values()]


def _forward(changes: list[ComplaintChange]) -> Forward:
    """One complaint's changes, in seq order, as one write."""
    state: dict[str, Any] = {}
    created_by: ComplaintChange | None = None
    for change in changes:
        state |= _state_after(change)
        created_by = created_by or (change if change.filing is not None else None)
    return Forward(changes[0].complaint_id, state,
                   [timeline_columns(c.workflow_id, c.complaint_id, c.entry) for c in changes],
                   _row_from_filing(created_by) if created_by is not None else None)


def _state_after(change: ComplaintChange) -> dict[str, Any]:
    """The complaint row's columns this change sets (a later change's values win)."""
    entry = change.entry
    state: dict[str, Any] = {
        "status": change.status.value,
        "handling_round": change.handling_round,
        "one_time_resolution": change.one_time_resolution,
        "last_seq": entry.seq,
        "updated_at": datetime.now(UTC),
        "closed_at": entry.at if change.status.value == "closed" else None,
    }
    if change.clocks is not None:
        state["clocks"] = [c.model_dump(mode="json") for c in change.clocks]
        # The dashboard reads these two through indexes: the earliest running clock, the oldest overdue one.
        state["next_due"] = min((c.due for c in change.clocks if c.running), default=None)
        state["overdue_since"] = min((c.due for c in change.clocks if c.overdue_at and not c.met_at), default=None)
        # Due soon (issue #16) from a running clock's first warning instant until it is met or due.
        state["due_soon_from"] = min((c.warnings[0].at for c in change.clocks if c.running and c.warnings), default=None)
        # Paused while waiting on the customer or a third party: owes nothing, shown as paused.
        state["paused_since"] = min((c.paused_at for c in change.clocks if c.pending and c.paused_at), default=None)
    if entry.action is ComplaintAction.MERGE_INTO:
        state["merged_into"] = entry.detail["into"]
    elif entry.action in (ComplaintAction.SPLIT_OUT, ComplaintAction.MERGE_REFUSED):
        state["merged_into"] = None
    if change.missed_clocks is not None:
        state["missed_clocks"] = change.missed_clocks
    if change.complex_case is not None:
        state["complex_case"] = change.complex_case
    if change.plan is not None:
        state["plan"] = [a.model_dump(mode="json") for a in change.plan]
    if change.owner is not None:
        state |= {"owner_id": change.owner.id, "owner_name": change.owner.name, "owner_unit": change.owner.unit}
    return state


def _row_from_filing(change: ComplaintChange) -> dict[str, Any]:
    filing = change.filing
    assert filing is not None
    intake, cls = filing.intake, filing.classification

    def dump(model: Any) -> Any:
        return model.model_dump(mode="json") if model is not None else None

    return {
        "id": filing.complaint_id,
        "workflow_id": change.workflow_id,
        "category": cls.category,
        "category_group": cls.category_group,
        "urgency": cls.urgency.value,
        "urgent_reasons": [r.model_dump(mode="json") for r in cls.urgent_reasons],
        "level": cls.level,
        "level_reasons": cls.level_reasons,
        "priority": cls.priority.value,
        "priority_reasons": cls.priority_reasons,
        "channel": intake.channel.value,
        "channel_message_id": intake.channel_message_id,
        "received_at": intake.received_at,
        "filed_at": filing.filed_at,
        "filed_by": filing.filed_by.id,
        "lead_unit": filing.lead_unit,
        "tracking_number": intake.tracking_number,
        "nature": intake.nature.value,
        "complainant_name": intake.complainant.name,
        "complainant_phone": intake.complainant.phone,
        "phone_key": normalised_phone(intake.complainant.phone),
        "complainant_tier": intake.complainant.tier,
        "sender": dump(intake.sender),
        "recipient": dump(intake.recipient),
        "contents": dump(intake.contents),
        "demand": intake.demand,
        "description": intake.description,
        "evidence": [e.model_dump(mode="json") for e in intake.evidence],
        "is_repeat": bool(filing.repeat_of),
        "repeat_of": filing.repeat_of,
        "queue": filing.vip.queue if filing.vip is not None else None,
    }

