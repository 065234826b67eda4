"""The dashboard's "due soon" (issue #16) on SQLite and PostgreSQL: running clocks past their first
warning instant and not yet due, a complaint's through its `due_soon_from` column, a dispatch's
through its `warn_at`; and the page showing them. Rows written through the store as the workflows
write them, instants relative to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from readmodel import dashboard
from readmodel.store import ReadModel
from tests.factories import stored
from tests.readmodel.test_dashboard import clock, with_clocks
from tests.readmodel.test_measures import ticket
from workflows.clocks import Clock, ClockWarning


def warned(c: Clock, at: datetime, *, reached: bool = True) -> Clock:
    """The clock with one warning instant (75 % of its time), reached or still ahead."""
    warning = ClockWarning(fraction=0.75, at=at, at_local=f"{at:%Y-%m-%d %H:%M}", notify="supervisor",
                           warned_at=at if reached else None, told=reached)
    return c.model_copy(update={"warnings": [warning]})


def a_desk_with_warnings(store: ReadModel, now: datetime) -> None:
    minutes = lambda n: now + timedelta(minutes=n)  # noqa: E731
    # W1: first contact due in 10 min, warned 20 min ago → due soon
    with_clocks(store, "W1", now, [warned(clock("first_contact", minutes(10)), minutes(-20))])
    # W2: solution due in 3 h, its warning at +2 h 15 min still ahead → not yet
    with_clocks(store, "W2", now, [warned(clock("solution", minutes(180)), minutes(135), reached=False)])
    # W3: first contact met after its warning; solution warned 5 min ago, due in 50 min → its solution only
    with_clocks(store, "W3", now, [warned(clock("first_contact", minutes(-30), met=minutes(-40)), minutes(-50)),
                                   warned(clock("solution", minutes(50)), minutes(-5))])
    # W4: warned, then missed 5 min ago (marked): overdue, no longer due soon
    with_clocks(store, "W4", now, [warned(clock("first_contact", minutes(-5), overdue=minutes(-5)), minutes(-30))])
    # W5: closed: nothing of it is due soon
    with_clocks(store, "W5", now, [warned(clock("first_contact", minutes(15)), minutes(-10))], closed=True)
    # D1 open, warned 30 min ago, due in 20 min → due soon; D2 answered; D3 escalated (past due, on its ladder)
    d1, d2, d3 = (ticket("D1", "W2", "gd-gz-tianhe", minutes(-90), minutes(20), kind="direct_dispatch"),
                  ticket("D2", "W2", "gd", minutes(-90), minutes(20), answered=minutes(-1)),
                  ticket("D3", "W3", "gd", minutes(-300), minutes(-60), escalation_level=1))
    for d in (d1, d2, d3):
        d.warn_at, d.warn_at_local = minutes(-30), f"{minutes(-30):%H:%M}"
    stored(store, [d1, d2, d3])


def test_due_soon_lists_running_clocks_past_their_warning_and_not_yet_due(read_model: ReadModel) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    a_desk_with_warnings(read_model, now)
    # the store keeps each open case's earliest running clock's first warning: W3's is its solution's
    assert read_model.complaints.find("W3").due_soon_from == now - timedelta(minutes=5)  # type: ignore[union-attr]
    assert read_model.complaints.find("W4").due_soon_from is None  # type: ignore[union-attr]

    soon = dashboard.due_soon(read_model.engine, now, 10)
    # soonest due first: W1 (+10 min), D1 (+20 min), W3's solution (+50 min)
    assert [(d.case_id, d.clock, d.complaint_id) for d in soon] == [
        ("W1", "first contact", "W1"), ("D1", "direct dispatch", "W2"), ("W3", "solution", "W3")]
    assert soon[0].warned_from == now - timedelta(minutes=20) and soon[0].due == now + timedelta(minutes=10)
    assert [d.case_id for d in dashboard.due_soon(read_model.engine, now, 2)] == ["W1", "D1"]
    # 2 h 15 min on, W2's warning is reached; W1, D1 and W3 are past due by then
    later = dashboard.due_soon(read_model.engine, now + timedelta(minutes=136), 10)
    assert [(d.case_id, d.clock) for d in later] == [("W2", "solution")]
