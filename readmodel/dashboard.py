"""What a supervisor's dashboard reads: open complaints by their next due instant and the clocks
already overdue, each an indexed query on the columns the store keeps beside the clocks JSON
(`next_due`: the earliest running clock; `overdue_since`: the earliest overdue, unmet one). Both
lists put high-priority complaints first (a VIP tier, a repeat, earlier complaints, urgent, level 1),
each group in due order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, or_, select
from sqlmodel import Session
from sqlmodel import select as select_rows

from readmodel.tables import ComplaintRow, DispatchRow
from rules.classification import Priority

C = ComplaintRow.__table__.c  # type: ignore[attr-defined]
OPEN = C.status.not_in(("closed", "merged"))  # a merged complaint's clocks are stopped: its target shows
# High priority first, then the rest: each group read along the (priority, next_due) index.
PRIORITY_GROUPS = (C.priority == Priority.HIGH.value, C.priority != Priority.HIGH.value)

# Open complaints by how soon their next clock falls due; the first that fits wins.
DUE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("overdue", timedelta(0)),
    ("due within 1 hour", timedelta(hours=1)),
    ("due within 4 hours", timedelta(hours=4)),
    ("due within 24 hours", timedelta(hours=24)),
    ("due later", None),
)
NO_RUNNING_CLOCK = "no running clock"


@dataclass(frozen=True)
class OverdueClock:
    complaint: ComplaintRow
    label: str
    unit: str
    due: datetime
    overdue_at: datetime | None  # None: still running past its due instant (the worker has not caught up)


def open_by_due(engine: Engine, now: datetime, queue: str | None = None) -> dict[str, int]:
    """How many open complaints (of one queue, e.g. the VIP queue, when given) fall in each due
    bucket, counted in one aggregate query. A complaint with an overdue clock counts as overdue
    whatever its running clocks."""
    overdue = or_(C.overdue_since.is_not(None), C.next_due < now)
    whens = [(overdue, DUE_BUCKETS[0][0])]
    whens += [(C.next_due < now + within, name) for name, within in DUE_BUCKETS[1:] if within is not None]
    whens += [(C.next_due.is_not(None), DUE_BUCKETS[-1][0])]
    # Bucketed in a subquery: PostgreSQL would not match a CASE with parameters to its GROUP BY copy.
    which = OPEN if queue is None else (OPEN & (C.queue == queue))
    buckets = select(case(*whens, else_=NO_RUNNING_CLOCK).label("bucket")).where(which).subquery()
    query = select(buckets.c.bucket, func.count()).group_by(buckets.c.bucket)
    with engine.connect() as conn:
        found = {name: int(n) for name, n in conn.execute(query).all()}
    return {name: found.get(name, 0) for name in [*(b for b, _ in DUE_BUCKETS), NO_RUNNING_CLOCK]}


@dataclass(frozen=True)
class DueSoon:
    """A running clock past its first warning instant and not yet due (issue #16): a complaint's
    customer clock, or a dispatch's clock before its ladder."""

    case_id: str  # the complaint's id, or the dispatch's
    workflow_id: str
    complaint_id: str
    clock: str  # the clock's label, or the dispatch's kind
    unit: str  # whose calendar runs it: its owner was told at the warning
    warned_from: datetime
    due: datetime
    priority: str


def due_soon(engine: Engine, now: datetime, limit: int) -> list[DueSoon]:
    """Every running clock of an open case past its first warning and before its due instant,
    soonest due first: complaints through `due_soon_from`, dispatches through `warn_at` (indexes)."""
    D = DispatchRow.__table__.c  # type: ignore[attr-defined]
    found: list[DueSoon] = []
    with Session(engine) as session:
        rows = session.exec(select_rows(ComplaintRow).where(OPEN, C.due_soon_from <= now)
                            .order_by(C.due_soon_from, C.id).limit(limit)).all()
        for row in rows:
            for clock in row.clocks or []:
                warnings, due = clock.get("warnings") or [], _instant(clock["due"])
                running = clock.get("met_at") is None and clock.get("overdue_at") is None
                if running and warnings and _instant(warnings[0]["at"]) <= now < due:
                    found.append(DueSoon(row.id, row.workflow_id, row.id, clock["label"], clock["unit"],
                                         _instant(warnings[0]["at"]), due, row.priority))
        dispatches = session.exec(select_rows(DispatchRow).where(
            D.status == "open", D.escalation_level == 0, D.warn_at <= now, D.due > now).order_by(D.due, D.id).limit(limit)).all()
        found += [DueSoon(d.id, d.id, d.complaint_id, d.kind.replace("_", " "), d.unit, _instant(d.warn_at),
                          _instant(d.due), d.priority) for d in dispatches if d.warn_at is not None and d.due is not None]
    return sorted(found, key=lambda d: (d.due, d.case_id))[:limit]


def next_due(engine: Engine, limit: int) -> list[ComplaintRow]:
    """The open complaints with a running clock, high priority first, each group by the soonest due
    (then the longest waiting)."""
    found: list[ComplaintRow] = []
    with Session(engine) as session:
        for group in PRIORITY_GROUPS:
            query = (select_rows(ComplaintRow).where(OPEN, group, C.next_due.is_not(None))
                     .order_by(C.next_due, C.received_at, C.id).limit(limit - len(found)))
            found += session.exec(query).all()
    return found[:limit]


def overdue_clocks(engine: Engine, now: datetime, limit: int) -> list[OverdueClock]:
    """Every overdue, unmet clock of an open complaint, high priority first, each group oldest due
    first: those the workflow marked overdue, and running ones already past their due instant."""
    found: list[OverdueClock] = []
    with Session(engine) as session:
        for group in PRIORITY_GROUPS:
            rows: dict[str, ComplaintRow] = {}
            for column in (C.overdue_since, C.next_due):
                query = select_rows(ComplaintRow).where(OPEN, group, column < now).order_by(column, C.id).limit(limit)
                rows.update((r.id, r) for r in session.exec(query).all())
            clocks = [clock for row in rows.values() for clock in _overdue_in(row, now)]
            found += sorted(clocks, key=lambda c: (c.due, c.complaint.id))
    return found[:limit]


def _overdue_in(row: ComplaintRow, now: datetime) -> Sequence[OverdueClock]:
    found = []
    for clock in row.clocks or []:
        due, met, overdue_at = _instant(clock["due"]), clock.get("met_at"), clock.get("overdue_at")
        if met is None and (overdue_at is not None or (due < now and not clock.get("paused_at"))):  # paused: owes nothing
            found.append(OverdueClock(row, clock["label"], clock["unit"], due,
                                      _instant(overdue_at) if overdue_at else None))
    return found


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dataclass(frozen=True)
class Paused:
    complaints: int  # open complaints whose customer clocks are paused
    dispatches: int  # open dispatches whose clock is paused


def paused(engine: Engine) -> Paused:
    """How many open cases wait on the customer or a third party (rules/pauses.py), by indexed column."""
    D = DispatchRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        complaints = conn.execute(select(func.count()).where(OPEN, C.paused_since.is_not(None))).scalar_one()
        dispatches = conn.execute(select(func.count()).where(D.status == "open", D.paused_at.is_not(None))).scalar_one()
    return Paused(int(complaints), int(dispatches))


def merged(engine: Engine) -> int:
    """How many complaints are merged into another one now (rules/merging.py): their clocks stopped,
    handled as part of the target (an indexed count)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(C.status == "merged")).scalar_one())
