"""A unit's inbox: open dispatches, overdue first, then by due instant (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from readmodel.store import ReadModel
from rules.actors import Actor, Role
from rules.dispatch import DispatchKind, DispatchStatus, TicketPriority
from workflows.dispatch_messages import DispatchChange, DispatchEvent, DispatchView

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
STATION = Actor(id="s", name="station", role=Role.PRODUCTION_UNIT, unit="gd-gz-tianhe")


def change(n: int, due: datetime, status: DispatchStatus = DispatchStatus.OPEN, seq: int = 1) -> DispatchChange:
    view = DispatchView(
        dispatch_id=f"dispatch-C1-{n}", complaint_id="C1", kind=DispatchKind.DIRECT, priority=TicketPriority.NORMAL,
        unit="gd-gz-tianhe", status=status, instruction="check", raised_by="agent", raised_at=T0, due=due,
    )
    event = DispatchEvent(seq=seq, at=T0, actor=STATION, action="raise", from_status=None, to_status=status)
    return DispatchChange(workflow_id=view.dispatch_id, event=event, view=view)


def test_overdue_first_then_by_due_and_only_open_ones(read_model: ReadModel) -> None:
    now = T0 + timedelta(hours=3)
    read_model.dispatches.record([
        change(1, T0 + timedelta(hours=5)),  # due later
        change(2, T0 + timedelta(hours=2)),  # overdue by an hour
        change(3, T0 + timedelta(hours=4)),  # due next
        change(4, T0 + timedelta(hours=1)),  # overdue by two hours
        change(5, T0 + timedelta(hours=1), DispatchStatus.ANSWERED),  # answered: not in the inbox
    ])

    inbox = read_model.dispatches.matching(units=["gd-gz-tianhe"], open_only=True, now=now)

    assert [r.id for r in inbox] == ["dispatch-C1-4", "dispatch-C1-2", "dispatch-C1-3", "dispatch-C1-1"]


def test_a_replayed_older_change_does_not_reopen_an_answered_dispatch(read_model: ReadModel) -> None:
    due = T0 + timedelta(hours=2)
    read_model.dispatches.record([change(1, due, DispatchStatus.ANSWERED, seq=3)])
    read_model.dispatches.record([change(1, due, DispatchStatus.OPEN, seq=2)])  # a retried earlier write

    [row] = read_model.dispatches.matching(complaint_id="C1")
    assert row.status == "answered"
