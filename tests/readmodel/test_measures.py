"""The measures of DOMAIN §8 on hand-built read models, each number worked out by hand in the
comments, on SQLite and on a real PostgreSQL.

October 2026 on the head office's clock (Asia/Shanghai, UTC+8); "now" is 2026-10-25 12:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session

from readmodel import measures as sql
from readmodel.store import ReadModel
from readmodel.tables import ComplaintRow, DispatchEventRow, DispatchRow, JudgementRow, TimelineEventRow
from rules.measures import Figure, Period, share_above, Better
from rules.policy import load_policy
from settings import ROOT
from api.routers.measures import figures, organisation_zone

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 10, 25, 12, tzinfo=CST)
POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
OCTOBER = Period.parse("month", "2026-10")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


def complaint(cid: str, received: datetime, *, closed: datetime | None = None, category: str = "delay",
              channel: str = "hotline", lead_unit: str = "call-centre", **state: Any) -> ComplaintRow:
    return ComplaintRow(
        id=cid, workflow_id=f"complaint-{cid}", status="closed" if closed else "in_handling", category=category,
        category_group="service_quality", urgency="general", level=2, priority="normal", channel=channel,
        received_at=received, filed_at=received, filed_by="agent", lead_unit=lead_unit, nature="complaint",
        complainant_name="Li Na", complainant_phone="13800138000", complainant_tier="standard",
        description="late", closed_at=closed, last_seq=1, updated_at=received, **state,
    )


def ticket(did: str, cid: str, unit: str, raised: datetime, due: datetime, *, answered: datetime | None = None,
           status: str | None = None, escalation_level: int = 0) -> DispatchRow:
    return DispatchRow(
        id=did, complaint_id=cid, kind="ticket", priority="normal", unit=unit,
        status=status or ("answered" if answered else "open"), instruction="check", raised_by="agent",
        raised_at=raised, due=due, answered_at=answered, escalation_level=escalation_level, last_seq=1,
    )


def reply_event(did: str, cid: str, seq: int, when: datetime, action: str) -> DispatchEventRow:
    return DispatchEventRow(id=f"{did}:{seq}", dispatch_id=did, complaint_id=cid, seq=seq, at=when, actor_id="u",
                            actor_role="production_unit", actor_unit="x", action=action, to_status="open")


def callback(cid: str, seq: int, when: datetime, satisfied: bool) -> TimelineEventRow:
    action = "record_satisfied_callback" if satisfied else "record_dissatisfied_callback"
    return TimelineEventRow(id=f"complaint-{cid}:{seq}", complaint_id=cid, seq=seq, at=when, actor_id="a",
                            actor_name="A", actor_role="front_seat", actor_unit="call-centre", action=action,
                            to_status="closed" if satisfied else "in_handling")


def judgement(cid: str, office: str, sent: datetime, status: str, final: datetime, invalid_appeal: bool) -> JudgementRow:
    return JudgementRow(id=f"judgement-{cid}", complaint_id=cid, status=status, lead_unit="call-centre",
                        category="delay", opened_at=sent, responsible_office=office, sent_at=sent, final_at=final,
                        invalid_appeal=invalid_appeal, last_seq=5, updated_at=final)


def october(read_model: ReadModel) -> None:
    rows: list[Any] = [
        # Complaints. A and B closed in October, C closed in September, D open; D is a repeat.
        complaint("A", at(10, 2), closed=at(10, 10), one_time_resolution=True, missed_clocks=0),
        complaint("B", at(10, 3), closed=at(10, 12), category="loss_or_damage", channel="wechat",
                  one_time_resolution=False, missed_clocks=1),
        complaint("C", at(9, 20), closed=at(9, 28), one_time_resolution=True),
        complaint("D", at(10, 31, 23, 30), is_repeat=True),  # 23:30 on 31 October in Shanghai: still October
        complaint("E", at(11, 1, 0, 10)),  # ten past midnight on 1 November: not October (16:10 UTC on the 31st)
        # Tickets (20 working hours each; only the due instant matters here).
        ticket("T1", "A", "gd-gz-tianhe", at(10, 3), at(10, 5), answered=at(10, 5, 9, 30)),  # early: in time
        ticket("T2", "A", "gd-gz", at(10, 4), at(10, 6), answered=at(10, 6)),  # exactly at the due instant: in time
        ticket("T3", "B", "zj-hz-xihu", at(10, 18), at(10, 20), escalation_level=2),  # never answered, escalated
        ticket("T4", "B", "gd-gz", at(10, 30), at(11, 2)),  # due in November
        ticket("T5", "B", "gd-gz", at(10, 26), at(10, 28)),  # due in October, but after "now": not yet due
        ticket("T6", "B", "gd-gz", at(10, 7), at(10, 9), status="cancelled"),  # the complaint closed: not counted
        # Replies: T1 was returned once, then answered; T2 answered.
        reply_event("T1", "A", 2, at(10, 5, 8), "return_reply"),
        reply_event("T1", "A", 3, at(10, 5, 9, 30), "answer"),
        reply_event("T2", "A", 2, at(10, 6), "answer"),
        # Call-backs: A satisfied; B dissatisfied, then satisfied; C's was in September.
        callback("A", 5, at(10, 9), True),
        callback("B", 5, at(10, 8), False),
        callback("B", 9, at(10, 11), True),
        callback("C", 5, at(9, 27), True),
        # Judgements: A's accepted; B's appealed, upheld as at fault (an invalid appeal), then refined;
        # C's sent in September and cancelled by arbitration in October.
        judgement("A", "gd", at(10, 12), "accepted", at(10, 14), invalid_appeal=False),
        judgement("B", "gd", at(10, 15), "accepted", at(10, 22), invalid_appeal=True),
        judgement("C", "zj", at(9, 29), "cancelled", at(10, 3), invalid_appeal=False),
    ]
    with Session(read_model.engine) as session:
        session.add_all(rows)
        session.commit()


def count(read_model: ReadModel, measure: str, period: Period = OCTOBER, group_by: str | None = None) -> dict:
    start, end = period.bounds(organisation_zone(POLICY))
    return sql.counts(read_model.engine, measure, start, end, NOW, group_by)


def test_each_measure_counts_by_its_formula(read_model: ReadModel) -> None:
    october(read_model)
    # tickets due in October by now: T1, T2, T3 (T4 due November, T5 not yet due, T6 cancelled);
    # answered by the due instant: T1 (early) and T2 (exactly at it) → 2 / 3
    assert count(read_model, "ticket_timely_reply_rate") == {None: (2, 3)}
    # tickets raised in October: T1–T6 = 6; escalated: T3 → 1 / 6
    assert count(read_model, "escalation_rate") == {None: (1, 6)}
    # replies in October: T1 returned, T1 answered, T2 answered = 3; returned: 1 → 1 / 3
    assert count(read_model, "return_rate") == {None: (1, 3)}
    # closed in October: A, B (C closed in September); without redispatch, return or reopening: A → 1 / 2
    assert count(read_model, "one_time_resolution_rate") == {None: (1, 2)}
    # closed in October: A, B; no customer clock missed: A → 1 / 2
    assert count(read_model, "handling_timely_rate") == {None: (1, 2)}
    # call-backs in October: A yes, B no, B yes (C's in September) → 2 / 3
    assert count(read_model, "satisfaction_rate") == {None: (2, 3)}
    # received in October: A, B, D (C September, E 1 November at 00:10 local); repeats: D → 1 / 3
    assert count(read_model, "repeat_complaint_rate") == {None: (1, 3)}
    # judgements sent in October: A's and B's (C's in September); decided as an invalid appeal: B's → 1 / 2
    assert count(read_model, "invalid_appeal_rate") == {None: (1, 2)}
    # final at fault in October, per responsible office: A's and B's at gd; C's was cancelled, not at fault
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    assert sql.at_fault_tickets(read_model.engine, start, end) == {"gd": 2}
    # no direct dispatches at all: 0 / 0, and the rate is "nothing to measure", not 0 % or 100 %
    assert count(read_model, "direct_dispatch_timely_rate") == {None: (0, 0)}
    assert Figure(0, 0, 0.9, Better.HIGHER).rate is None and Figure(0, 0, 0.9, Better.HIGHER).meets_target is None


def test_a_period_without_tickets_and_other_periods(read_model: ReadModel) -> None:
    october(read_model)
    september = Period.parse("month", "2026-09")
    assert count(read_model, "ticket_timely_reply_rate", september) == {None: (0, 0)}
    # September: C closed one-time, its call-back satisfied
    assert count(read_model, "one_time_resolution_rate", september) == {None: (1, 1)}
    # the week of 5 October (ISO 2026-W41): T1 and T2 due, both in time → 2 / 2
    assert count(read_model, "ticket_timely_reply_rate", Period.parse("week", "2026-W41")) == {None: (2, 2)}
    # 1 November, a day: E received → 0 / 1 repeats
    assert count(read_model, "repeat_complaint_rate", Period.parse("day", "2026-11-01")) == {None: (0, 1)}


def test_grouped_by_category_channel_unit_and_office(read_model: ReadModel) -> None:
    october(read_model)
    # repeats by category: delay = A, D (D repeats) → 1 / 2; loss_or_damage = B → 0 / 1
    assert count(read_model, "repeat_complaint_rate", group_by="category") == {"delay": (1, 2), "loss_or_damage": (0, 1)}
    # one-time resolution by channel: hotline A → 1 / 1, wechat B → 0 / 1
    assert count(read_model, "one_time_resolution_rate", group_by="channel") == {"hotline": (1, 1), "wechat": (0, 1)}
    # ticket timeliness by the unit that had to answer
    assert count(read_model, "ticket_timely_reply_rate", group_by="unit") == {
        "gd-gz-tianhe": (1, 1), "gd-gz": (1, 1), "zj-hz-xihu": (0, 1)}
    # by office: the Tianhe station belongs to the Guangzhou office → gd-gz 2 / 2; Xihu to Hangzhou → 0 / 1
    by_office = {m.key: m for m in figures(read_model, POLICY, OCTOBER, "office", NOW)}["ticket_timely_reply_rate"]
    assert [(g.group, g.numerator, g.denominator, g.meets_target) for g in by_office.groups] == [
        ("gd-gz", 2, 2, True), ("zj-hz", 0, 1, False)]


def test_the_items_behind_a_figure(read_model: ReadModel) -> None:
    october(read_model)
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    items, total = sql.members(read_model.engine, "ticket_timely_reply_rate", start, end, NOW)
    assert total == 3
    assert [(i["id"], i["complaint_id"], i["in_numerator"]) for i in items] == [
        ("T1", "A", True), ("T2", "A", True), ("T3", "B", False)]
    items, _ = sql.members(read_model.engine, "repeat_complaint_rate", start, end, NOW, "category", "delay")
    assert [(i["id"], i["in_numerator"]) for i in items] == [("A", False), ("D", True)]


def test_targets_and_hot_spots() -> None:
    assert Figure(9, 10, 0.9, Better.HIGHER).meets_target is True  # 90 % against ≥ 90 %
    assert Figure(1, 10, 0.0, Better.LOWER).meets_target is False  # any escalation misses a 0 % target
    # a hot spot holds more than 15 % of the month: 20 of 100 yes, 15 of 100 (exactly 15 %) no
    assert share_above({"delay": 20, "fee_dispute": 15, "other": 65}, 0.15) == ["other", "delay"]


def test_periods_run_on_the_organisations_clock() -> None:
    start, end = Period.parse("month", "2026-10").bounds(organisation_zone(POLICY))
    assert start.astimezone(UTC) == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert [p.label for p in OCTOBER.previous(6)] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert Period.parse("week", "2026-W01").first_day.isoformat() == "2025-12-29"
