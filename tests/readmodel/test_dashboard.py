"""The dashboard's reads on SQLite and PostgreSQL: the store keeps each complaint's next due
instant and its oldest overdue clock beside the clocks, and open complaints are bucketed by them.

`an_open_desk` is the desk the dashboard page tests (tests/api) show too: seven complaints written
through the store as the workflow writes them, with clocks relative to now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from readmodel import dashboard
from readmodel.store import ReadModel
from rules.lifecycle import ComplaintAction, ComplaintStatus
from tests.factories import stored
from tests.readmodel.test_measures import ticket
from tests.readmodel.test_postgres import a_change, a_filing
from workflows.clocks import Clock, ClockKind
from workflows.complaint_messages import intake_changes

S = ComplaintStatus


def clock(name: str, due: datetime, *, met: datetime | None = None, overdue: datetime | None = None,
          unit: str = "call-centre") -> Clock:
    return Clock(name=name, label=name.replace("_", " "), started_at=due - timedelta(hours=1), due=due,
                 due_local=f"{due:%Y-%m-%d %H:%M}", unit=unit, calendar_version="test", met_at=met, overdue_at=overdue,
                 kind=ClockKind.CUSTOMER)


def with_clocks(store: ReadModel, cid: str, now: datetime, clocks: list[Clock] | None, *,
                closed: bool = False, **intake: Any) -> None:
    """Filed a minute ago; then taken into handling (or closed) now, with these clocks."""
    filing = a_filing(cid, **intake)
    store.complaints.record(intake_changes(filing))
    if closed:
        change = a_change(filing, 3, ComplaintAction.ANSWER_AT_FIRST_CONTACT, S.CLASSIFIED, S.CLOSED, at=now)
    else:
        change = a_change(filing, 3, ComplaintAction.TAKE_INTO_HANDLING, S.CLASSIFIED, S.IN_HANDLING, at=now)
    store.complaints.record([change.model_copy(update={"clocks": clocks})])


E2_ANSWERED_BEFORE = timedelta(minutes=10)  # an_open_desk's one answered ticket, before `now`
OFFICE_ZONE = ZoneInfo("Asia/Shanghai")  # the policy's: its "today" runs from local midnight


def e2_answered_today(now: datetime) -> bool:
    """Whether an_open_desk's E2 counts in today's measures: not when `now` is in the first minutes
    after the office's midnight, when its answer (and its due instant) fell on the day before."""
    return (now - E2_ANSWERED_BEFORE).astimezone(OFFICE_ZONE).date() == now.astimezone(OFFICE_ZONE).date()


def an_open_desk(store: ReadModel, now: datetime) -> None:
    minutes = lambda n: now + timedelta(minutes=n)  # noqa: E731
    # O1: first contact due in 30 min → within 1 hour
    with_clocks(store, "O1", now, [clock("first_contact", minutes(30))])
    # O2: first contact met; solution due in 3 h → within 4 hours
    with_clocks(store, "O2", now, [clock("first_contact", minutes(-60), met=minutes(-70)), clock("solution", minutes(180))],
                category="loss_or_damage")
    # O3: first contact missed 90 min ago (marked overdue), solution due in 10 h → overdue
    with_clocks(store, "O3", now, [clock("first_contact", minutes(-90), overdue=minutes(-90)),
                                   clock("solution", minutes(600))])
    # O4: solution due in two days → later
    with_clocks(store, "O4", now, [clock("solution", minutes(2 * 24 * 60))])
    # O5: filed, no clock yet → no running clock
    with_clocks(store, "O5", now, None)
    # O6: closed at first contact: not open, not counted anywhere on the desk
    with_clocks(store, "O6", now, [clock("first_contact", minutes(-1), met=minutes(-1))], closed=True)
    # O7: first contact due 5 min ago, the workflow has not marked it yet → overdue
    with_clocks(store, "O7", now, [clock("first_contact", minutes(-5))])
    # Escalations: E1 of O3 open at ladder step 2 is in flight; E2 answered and E3 not escalated are not.
    stored(store, [
        ticket("E1", "O3", "gd", minutes(-300), minutes(60), escalation_level=2),
        ticket("E2", "O2", "gd", minutes(-300), minutes(-1), answered=now - E2_ANSWERED_BEFORE, escalation_level=1),
        ticket("E3", "O4", "zj", minutes(-30), minutes(600)),
    ])


def test_the_store_keeps_the_next_due_instant_and_the_oldest_overdue_clock(read_model: ReadModel) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    an_open_desk(read_model, now)
    rows = {cid: read_model.complaints.find(cid) for cid in ("O2", "O3", "O5", "O6")}
    # O2: the met first contact does not count; the solution clock is next
    assert rows["O2"].next_due == now + timedelta(hours=3) and rows["O2"].overdue_since is None  # type: ignore[union-attr]
    # O3: the running solution clock is next; the missed first contact is overdue since its due instant
    assert rows["O3"].next_due == now + timedelta(hours=10)  # type: ignore[union-attr]
    assert rows["O3"].overdue_since == now - timedelta(minutes=90)  # type: ignore[union-attr]
    assert rows["O5"].next_due is None and rows["O6"].next_due is None  # type: ignore[union-attr]


def test_open_complaints_by_due_bucket_and_overdue_clocks(read_model: ReadModel) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    an_open_desk(read_model, now)
    # O3 and O7 overdue; O1 within the hour; O2 within 4 h; O4 later; O5 without a clock; O6 closed
    assert dashboard.open_by_due(read_model.engine, now) == {
        "overdue": 2, "due within 1 hour": 1, "due within 4 hours": 1, "due within 24 hours": 0, "due later": 1,
        "no running clock": 1}
    # soonest first: O7 (5 min ago, still running), O1 (+30 min), O2 (+3 h), O3 (+10 h), O4 (+2 days)
    assert [r.id for r in dashboard.next_due(read_model.engine, 10)] == ["O7", "O1", "O2", "O3", "O4"]
    assert [r.id for r in dashboard.next_due(read_model.engine, 2)] == ["O7", "O1"]
    # overdue clocks, oldest due first: O3's first contact (marked), O7's (not yet marked)
    overdue = dashboard.overdue_clocks(read_model.engine, now, 10)
    assert [(c.complaint.id, c.label, c.overdue_at is not None) for c in overdue] == [
        ("O3", "first contact", True), ("O7", "first contact", False)]


def test_high_priority_complaints_come_first_in_both_lists(read_model: ReadModel) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    an_open_desk(read_model, now)  # O1–O7: standard tier, one complaint each, so normal priority
    vip = {"name": "Gao Min", "phone": "13911112222", "tier": "vip"}  # a VIP tier is high priority (DOMAIN §3)
    # V1: solution due in 20 h, later than every normal case's next clock
    with_clocks(read_model, "V1", now, [clock("solution", now + timedelta(hours=20))], complainant=vip)
    # V2: first contact missed 10 min ago (marked), a newer miss than O3's 90 min; solution due in 5 h
    with_clocks(read_model, "V2", now, [clock("first_contact", now - timedelta(minutes=10), overdue=now - timedelta(minutes=10)),
                                        clock("solution", now + timedelta(hours=5))], complainant=vip)

    # high first, soonest due first in each group: V2 (+5 h), V1 (+20 h); then O7, O1, O2, O3, O4 as before
    assert [r.id for r in dashboard.next_due(read_model.engine, 10)] == ["V2", "V1", "O7", "O1", "O2", "O3", "O4"]
    assert [r.id for r in dashboard.next_due(read_model.engine, 3)] == ["V2", "V1", "O7"]
    # overdue: V2's first contact before O3's older one, then O7's
    assert [(c.complaint.id, c.label) for c in dashboard.overdue_clocks(read_model.engine, now, 10)] == [
        ("V2", "first contact"), ("O3", "first contact"), ("O7", "first contact")]
    assert [c.complaint.id for c in dashboard.overdue_clocks(read_model.engine, now, 1)] == ["V2"]
