"""The measures of DOMAIN §8 as aggregate SQL over the read model (SQLite and PostgreSQL alike).

Each measure is one counting query: the items of the period (its denominator), how many of them
hit (its numerator), grouped by unit, category or channel in the database. Offices are folded from
units afterwards (a handful of groups, never rows). `members` lists the items behind a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement, FromClause

from readmodel.tables import ComplaintRow, DispatchEventRow, DispatchRow, JudgementRow, TimelineEventRow

C = ComplaintRow.__table__.c
D = DispatchRow.__table__.c
E = DispatchEventRow.__table__.c
T = TimelineEventRow.__table__.c
J = JudgementRow.__table__.c  # type: ignore[attr-defined]
COMPLAINT, DISPATCH, JUDGEMENT = ComplaintRow.__table__, DispatchRow.__table__, JudgementRow.__table__  # type: ignore[attr-defined]
DISPATCH_EVENT, TIMELINE = DispatchEventRow.__table__, TimelineEventRow.__table__

REPLY_ACTIONS = ("answer", "request_redispatch", "return_reply")
AT_FAULT_AS_SENT = func.coalesce(J.at_fault_unit, J.responsible_office)  # the unit a judgement was sent against
# A complaint merged into another is that one's matter: the complaint measures count it once, as the target.
NOT_MERGED = C.merged_into.is_(None)


@dataclass(frozen=True)
class Counting:
    """What one measure counts: the items (`source`, within the period by `when`, narrowed by
    `scope`), the hits among them, and where each grouping is found."""

    source: FromClause  # without the complaint table: joined only to group by category or channel
    item: Any  # the id listed when a figure is explained
    complaint: Any  # the complaint each item belongs to
    when: Any
    scope: tuple[ColumnElement[bool], ...]
    hit: ColumnElement[bool]
    unit: Any


def _cancelled_at() -> Any:
    """When a dispatch was cancelled (its complaint closed or was cancelled with it open)."""
    return (select(func.min(E.at)).where(E.dispatch_id == D.id, E.action == "cancel")
            .correlate(DISPATCH).scalar_subquery())


def _dispatches_due(kind: str, now: datetime) -> Counting:
    return Counting(
        source=DISPATCH, item=D.id, complaint=D.complaint_id, when=D.due,
        # Due by now and not cancelled before it fell due: one cancelled (or closed unanswered) after
        # its due instant was due and not answered in time. A reply exactly at the due instant is in time.
        # A paused one owes nothing until it resumes (its due instant then moves: rules/pauses.py).
        scope=(D.kind == kind, D.due <= now, D.paused_at.is_(None),
               or_(D.status != "cancelled", _cancelled_at() > D.due)),
        hit=D.answered_at <= D.due, unit=D.unit,
    )


def _tickets_handled() -> Counting:
    """协查工单 handled: each ticket once (a redispatch is the same ticket again, so only tickets that
    replace none are counted), in the period of its reply; resolved at once when that reply was
    accepted as the answer with nothing returned before it."""
    return Counting(
        source=DISPATCH, item=D.id, complaint=D.complaint_id, when=D.answered_at,
        scope=(D.kind == "ticket", D.replaces.is_(None)),
        hit=and_(D.status != "redispatched", D.returns == 0), unit=D.unit,
    )


def _complaints_finished_or_late(now: datetime) -> Counting:
    """Closed complaints in the period of their closing, and open ones that have already missed a
    customer clock (they cannot be finished in time any more) in the period of their receipt."""
    closed = C.status == "closed"
    late = or_(C.missed_clocks > 0, C.overdue_since <= now)
    return Counting(source=COMPLAINT, item=C.id, complaint=C.id, when=func.coalesce(C.closed_at, C.received_at),
                    scope=(or_(closed, late), NOT_MERGED), hit=and_(closed, C.missed_clocks == 0),
                    unit=C.lead_unit)


COUNTINGS: dict[str, Callable[[datetime], Counting]] = {
    "ticket_timely_reply_rate": lambda now: _dispatches_due("ticket", now),
    "direct_dispatch_timely_rate": lambda now: _dispatches_due("direct_dispatch", now),
    "linked_dispatch_timely_rate": lambda now: _dispatches_due("linked_dispatch", now),
    "escalation_rate": lambda now: Counting(
        source=DISPATCH, item=D.id, complaint=D.complaint_id, when=D.raised_at,
        scope=(D.kind == "ticket",), hit=D.escalation_level > 0, unit=D.unit),
    "return_rate": lambda now: Counting(
        source=DISPATCH_EVENT.join(DISPATCH, D.id == E.dispatch_id),
        item=E.id, complaint=E.complaint_id, when=E.at, scope=(E.action.in_(REPLY_ACTIONS),),
        hit=E.action == "return_reply", unit=D.unit),
    "one_time_resolution_rate": lambda now: _tickets_handled(),
    "handling_timely_rate": _complaints_finished_or_late,
    "satisfaction_rate": lambda now: Counting(
        source=TIMELINE, item=T.id, complaint=T.complaint_id, when=T.at,
        scope=(T.action.in_(("record_satisfied_callback", "record_dissatisfied_callback")),),
        hit=T.action == "record_satisfied_callback", unit=C.lead_unit),
    # Every judgement sent names an office at fault; an appeal decided as at fault is invalid. By
    # the unit held at fault as sent (folded into its city branch for the right to appeal).
    "invalid_appeal_rate": lambda now: Counting(
        source=JUDGEMENT, item=J.id, complaint=J.complaint_id, when=J.sent_at,
        scope=(), hit=J.invalid_appeal.is_(True), unit=AT_FAULT_AS_SENT),
    "repeat_complaint_rate": lambda now: Counting(
        source=COMPLAINT, item=C.id, complaint=C.id, when=C.received_at, scope=(NOT_MERGED,), hit=C.is_repeat.is_(True),
        unit=C.lead_unit),
}


def _source(counting: Counting, group_by: str | None) -> Any:
    """The items' tables, with the complaint joined only when the grouping is found there."""
    column = _group_column(counting, group_by)
    if column is None or getattr(column, "table", None) is not COMPLAINT or counting.complaint is C.id:
        return counting.source
    return counting.source.outerjoin(COMPLAINT, C.id == counting.complaint)


def _group_column(counting: Counting, group_by: str | None) -> Any:
    if group_by in (None, ""):
        return None
    if group_by in ("unit", "office"):
        return counting.unit
    if group_by == "category":
        return C.category
    if group_by == "channel":
        return C.channel
    raise ValueError(f"cannot group by {group_by!r}")


def counts(
    engine: Engine, measure: str, start: datetime, end: datetime, now: datetime, group_by: str | None = None
) -> dict[str | None, tuple[int, int]]:
    """(numerator, denominator) per group ('office' comes back per unit: fold with the policy)."""
    counting = COUNTINGS[measure](now)
    group = _group_column(counting, group_by)
    hits = func.coalesce(func.sum(case((counting.hit, 1), else_=0)), 0)
    columns = [hits, func.count()] if group is None else [group, hits, func.count()]
    query = select(*columns).select_from(_source(counting, group_by)).where(
        counting.when >= start, counting.when < end, *counting.scope)
    if group is not None:
        query = query.group_by(group)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if group is None:
        hit, total = rows[0]
        return {None: (int(hit), int(total))}
    return {key: (int(hit), int(total)) for key, hit, total in rows}


def members(
    engine: Engine, measure: str, start: datetime, end: datetime, now: datetime,
    group_by: str | None = None, group: str | None = None, limit: int = 1000,
) -> tuple[list[dict[str, Any]], int]:
    """The items behind a figure, each marked whether it counts in the numerator too."""
    counting = COUNTINGS[measure](now)
    conditions = [counting.when >= start, counting.when < end, *counting.scope]
    column = _group_column(counting, group_by)
    if column is not None and group is not None:
        conditions.append(column == group)
    query = (
        select(counting.item, counting.complaint, counting.when, case((counting.hit, True), else_=False))
        .select_from(_source(counting, group_by)).where(and_(*conditions)).order_by(counting.when, counting.item)
        .limit(limit)
    )
    total = select(func.count()).select_from(_source(counting, group_by)).where(and_(*conditions))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        found = int(conn.execute(total).scalar_one())
    return [{"id": i, "complaint_id": c, "at": at, "in_numerator": bool(h)} for i, c, at, h in rows], found


def complaint_counts(engine: Engine, start: datetime, end: datetime, by: str) -> dict[str, int]:
    """Complaints received in a period by category, unit (lead office) or channel."""
    column = {"category": C.category, "unit": C.lead_unit, "channel": C.channel}[by]
    query = (select(column, func.count()).select_from(COMPLAINT)
             .where(C.received_at >= start, C.received_at < end, NOT_MERGED).group_by(column))
    with engine.connect() as conn:
        return {key: int(n) for key, n in conn.execute(query).all()}


def at_fault_tickets(engine: Engine, start: datetime, end: datetime) -> dict[str, int]:
    """Tickets whose judgement became final at fault in the period, per unit at fault: the smallest
    unit the office named, else the unit it was sent against, else the responsible office
    (accepted, or final by silence; a responsibility cancelled by arbitration is not at fault)."""
    unit = func.coalesce(J.smallest_unit, AT_FAULT_AS_SENT)
    query = (select(unit, func.count()).select_from(JUDGEMENT)
             .where(J.final_at >= start, J.final_at < end, J.status.in_(("accepted", "accepted_by_silence")))
             .group_by(unit))
    with engine.connect() as conn:
        return {office: int(n) for office, n in conn.execute(query).all()}
