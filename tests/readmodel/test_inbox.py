"""Inboxes on SQLite and PostgreSQL: a unit's open dispatches, overdue first, then by due instant;
the complaints list in its default order, high priority first, then the soonest due, then the
longest waiting (DOMAIN §3 priority; docs/API.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from readmodel.complaints import ComplaintFilter
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


def test_a_seq_written_again_by_a_retried_workflow_task_replaces_what_the_lost_attempt_wrote(
        read_model: ReadModel) -> None:
    # A worker wrote seq 4 (a warning) and died before its workflow task completed; the task's
    # retry, past the due instant, tells no warning and escalates under seq 4: what the history
    # holds is the escalation, and the timeline must show it (it once kept the warning).
    due = T0 + timedelta(hours=2)
    def at_seq_4(action: str, detail: dict, level: int) -> DispatchChange:
        c = change(1, due, seq=4)
        return c.model_copy(update={"event": c.event.model_copy(update={"action": action, "detail": detail}),
                                    "view": c.view.model_copy(update={"escalation_level": level})})

    warning, escalation = at_seq_4("warning", {"fraction": 0.75}, 0), at_seq_4("escalate", {"level": 1}, 1)
    read_model.dispatches.record([warning])
    read_model.dispatches.record([escalation])

    found = read_model.dispatches.get("dispatch-C1-1")
    assert found is not None
    row, events = found
    assert [(e.seq, e.action, e.detail) for e in events] == [(4, "escalate", {"level": 1})]
    assert row.escalation_level == 1


def test_complaints_high_priority_first_then_soonest_due_then_longest_waiting(read_model: ReadModel) -> None:
    from tests.readmodel.test_dashboard import clock, with_clocks

    now = T0 + timedelta(hours=3)
    vip = {"name": "Gao Min", "phone": "13911112222", "tier": "vip"}
    at = lambda h: T0 + timedelta(hours=h)  # noqa: E731
    received = lambda m: {"received_at": (T0 + timedelta(minutes=m)).isoformat()}  # noqa: E731
    with_clocks(read_model, "N-late", now, [clock("solution", at(9))], **received(10))  # normal, due last
    with_clocks(read_model, "N-soon", now, [clock("solution", at(4))], **received(20))  # normal, due soonest of all
    with_clocks(read_model, "N-none", now, None, **received(5))  # normal, no running clock
    with_clocks(read_model, "V-late", now, [clock("solution", at(8))], complainant=vip, **received(30))
    with_clocks(read_model, "V-none", now, None, complainant=vip, **received(15))
    with_clocks(read_model, "V-closed", now, [clock("solution", at(5))], closed=True, complainant=vip, **received(25))

    rows, total = read_model.complaints.search(ComplaintFilter(), offset=0, limit=10, sort="priority", descending=False)
    page_2, _ = read_model.complaints.search(ComplaintFilter(), offset=4, limit=2, sort="priority", descending=False)

    # high (the VIP tier) first: the one with a running clock, then those owing none (no clock, or
    # closed) by the longest waiting (received 0:15 before 0:25); then normal: due +4 h, +9 h, none
    assert total == 6
    assert [r.id for r in rows] == ["V-late", "V-none", "V-closed", "N-soon", "N-late", "N-none"]
    assert [r.id for r in page_2] == ["N-late", "N-none"]
