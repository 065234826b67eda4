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
           status: str | None = None, escalation_level: int = 0, returns: int = 0, replaces: str | None = None,
           kind: str = "ticket") -> DispatchRow:
    return DispatchRow(
        id=did, complaint_id=cid, kind=kind, priority="normal", unit=unit,
        status=status or ("answered" if answered else "open"), instruction="check", raised_by="agent",
        raised_at=raised, due=due, answered_at=answered, escalation_level=escalation_level, returns=returns,
        replaces=replaces, last_seq=1,
    )


def reply_event(did: str, cid: str, seq: int, when: datetime, action: str) -> DispatchEventRow:
    return DispatchEventRow(id=f"{did}:{seq}", dispatch_id=did, complaint_id=cid, seq=seq, at=when, actor_id="u",
                            actor_role="production_unit", actor_unit="x", action=action, to_status="open")


def callback(cid: str, seq: int, when: datetime, satisfied: bool) -> TimelineEventRow:
    action = "record_satisfied_callback" if satisfied else "record_dissatisfied_callback"
    return TimelineEventRow(id=f"complaint-{cid}:{seq}", complaint_id=cid, seq=seq, at=when, actor_id="a",
                            actor_name="A", actor_role="front_seat", actor_unit="call-centre", action=action,
                            to_status="closed" if satisfied else "in_handling")


def judgement(cid: str, office: str, sent: datetime, status: str, final: datetime, invalid_appeal: bool,
              **named: str) -> JudgementRow:
    return JudgementRow(id=f"judgement-{cid}", complaint_id=cid, status=status, lead_unit="call-centre",
                        category="delay", opened_at=sent, responsible_office=office, sent_at=sent, final_at=final,
                        invalid_appeal=invalid_appeal, last_seq=5, updated_at=final, **named)


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
        ticket("T1", "A", "gd-gz-tianhe", at(10, 3), at(10, 5), answered=at(10, 5, 9, 30), returns=1),  # early: in time
        ticket("T2", "A", "gd-gz", at(10, 4), at(10, 6), answered=at(10, 6)),  # exactly at the due instant: in time
        ticket("T3", "B", "zj-hz-xihu", at(10, 18), at(10, 20), escalation_level=2),  # never answered, escalated
        ticket("T4", "B", "gd-gz", at(10, 30), at(11, 2)),  # due in November
        ticket("T5", "B", "gd-gz", at(10, 26), at(10, 28)),  # due in October, but after "now": not yet due
        ticket("T6", "B", "gd-gz", at(10, 7), at(10, 9), status="cancelled"),  # cancelled at B's closing, after its due
        ticket("T7", "A", "gd-gz", at(10, 8), at(10, 11), status="cancelled"),  # cancelled at A's closing, before its due
        # Replies: T1 was returned once, then answered; T2 answered.
        reply_event("T1", "A", 2, at(10, 5, 8), "return_reply"),
        reply_event("T1", "A", 3, at(10, 5, 9, 30), "answer"),
        reply_event("T2", "A", 2, at(10, 6), "answer"),
        reply_event("T6", "B", 2, at(10, 12), "cancel"),
        reply_event("T7", "A", 2, at(10, 10), "cancel"),
        # Call-backs: A satisfied; B dissatisfied, then satisfied; C's was in September.
        callback("A", 5, at(10, 9), True),
        callback("B", 5, at(10, 8), False),
        callback("B", 9, at(10, 11), True),
        callback("C", 5, at(9, 27), True),
        # Judgements: A's accepted; B's appealed, upheld as at fault (an invalid appeal), then refined;
        # C's sent in September and cancelled by arbitration in October.
        # A was sent against the Guangzhou office, which named Tianhe the smallest unit; B against Nanshan.
        judgement("A", "gd", at(10, 12), "accepted", at(10, 14), invalid_appeal=False, at_fault_unit="gd-gz",
                  smallest_unit="gd-gz-tianhe"),
        judgement("B", "gd", at(10, 15), "accepted", at(10, 22), invalid_appeal=True, at_fault_unit="gd-sz-nanshan"),
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
    # tickets due in October by now: T1, T2, T3, and T6, which was still unanswered when it fell due
    # on the 9th and was cancelled only at B's closing on the 12th (T4 due November, T5 not yet due,
    # T7 cancelled on the 10th before its due on the 11th); answered by the due instant: T1 (early)
    # and T2 (exactly at it) → 2 / 4
    assert count(read_model, "ticket_timely_reply_rate") == {None: (2, 4)}
    # tickets raised in October: T1–T7 = 7; escalated: T3 → 1 / 7
    assert count(read_model, "escalation_rate") == {None: (1, 7)}
    # replies in October: T1 returned, T1 answered, T2 answered = 3; returned: 1 → 1 / 3
    assert count(read_model, "return_rate") == {None: (1, 3)}
    # tickets handled (replied) in October: T1 and T2. T1's first reply was returned, so it was not
    # resolved at once, though its complaint A says one_time_resolution → 1 / 2 (T2)
    assert count(read_model, "one_time_resolution_rate") == {None: (1, 2)}
    # closed in October: A, B; no customer clock missed: A → 1 / 2 (D is open but missed none)
    assert count(read_model, "handling_timely_rate") == {None: (1, 2)}
    # call-backs in October: A yes, B no, B yes (C's in September) → 2 / 3
    assert count(read_model, "satisfaction_rate") == {None: (2, 3)}
    # received in October: A, B, D (C September, E 1 November at 00:10 local); repeats: D → 1 / 3
    assert count(read_model, "repeat_complaint_rate") == {None: (1, 3)}
    # judgements sent in October: A's and B's (C's in September); decided as an invalid appeal: B's → 1 / 2
    assert count(read_model, "invalid_appeal_rate") == {None: (1, 2)}
    # final at fault in October, per unit at fault: A's smallest unit Tianhe, B's Nanshan (the unit it
    # was sent against; none named); C's was cancelled, not at fault
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    assert sql.at_fault_tickets(read_model.engine, start, end) == {"gd-gz-tianhe": 1, "gd-sz-nanshan": 1}
    # invalid appeals by the city branch held at fault: Guangzhou 0 / 1 (A), Shenzhen 1 / 1 (B)
    by_office = {m.key: m for m in figures(read_model, POLICY, OCTOBER, "office", NOW)}["invalid_appeal_rate"]
    assert [(g.group, g.numerator, g.denominator) for g in by_office.groups] == [("gd-gz", 0, 1), ("gd-sz", 1, 1)]
    # no direct dispatches at all: 0 / 0, and the rate is "nothing to measure", not 0 % or 100 %
    assert count(read_model, "direct_dispatch_timely_rate") == {None: (0, 0)}
    assert Figure(0, 0, 0.9, Better.HIGHER).rate is None and Figure(0, 0, 0.9, Better.HIGHER).meets_target is None


def test_a_period_without_tickets_and_other_periods(read_model: ReadModel) -> None:
    october(read_model)
    september = Period.parse("month", "2026-09")
    assert count(read_model, "ticket_timely_reply_rate", september) == {None: (0, 0)}
    # September: C closed one-time, but it had no ticket: no ticket was handled → nothing to measure
    assert count(read_model, "one_time_resolution_rate", september) == {None: (0, 0)}
    # the week of 5 October (ISO 2026-W41): T1 and T2 due and in time, T6 due on the 9th unanswered → 2 / 3
    assert count(read_model, "ticket_timely_reply_rate", Period.parse("week", "2026-W41")) == {None: (2, 3)}
    # 1 November, a day: E received → 0 / 1 repeats
    assert count(read_model, "repeat_complaint_rate", Period.parse("day", "2026-11-01")) == {None: (0, 1)}


def test_grouped_by_category_channel_unit_and_office(read_model: ReadModel) -> None:
    october(read_model)
    # repeats by category: delay = A, D (D repeats) → 1 / 2; loss_or_damage = B → 0 / 1
    assert count(read_model, "repeat_complaint_rate", group_by="category") == {"delay": (1, 2), "loss_or_damage": (0, 1)}
    # one-time resolution by the channel of the ticket's complaint: hotline A's T1 (returned) and T2
    # → 1 / 2; wechat B had no ticket handled in October
    assert count(read_model, "one_time_resolution_rate", group_by="channel") == {"hotline": (1, 2)}
    # ticket timeliness by the unit that had to answer: gd-gz had T2 (in time) and T6 (due, unanswered)
    assert count(read_model, "ticket_timely_reply_rate", group_by="unit") == {
        "gd-gz-tianhe": (1, 1), "gd-gz": (1, 2), "zj-hz-xihu": (0, 1)}
    # by office: the Tianhe station belongs to the Guangzhou office → gd-gz 2 / 3 (67 %, under 90 %);
    # Xihu to Hangzhou → 0 / 1
    by_office = {m.key: m for m in figures(read_model, POLICY, OCTOBER, "office", NOW)}["ticket_timely_reply_rate"]
    assert [(g.group, g.numerator, g.denominator, g.meets_target) for g in by_office.groups] == [
        ("gd-gz", 2, 3, False), ("zj-hz", 0, 1, False)]


def tickets_and_late_cases(read_model: ReadModel) -> None:
    rows: list[Any] = [
        # G open and already missed a clock; H open, its solution clock overdue since 11:00 today (the
        # workflow's count not in yet); I open, nothing missed; J open and missed, received in
        # September; K closed in October, nothing missed.
        complaint("G", at(10, 5), missed_clocks=1),
        complaint("H", at(10, 6), overdue_since=at(10, 25, 11)),
        complaint("I", at(10, 7), next_due=at(10, 25, 14)),
        complaint("J", at(9, 28), missed_clocks=2),
        complaint("K", at(10, 1), closed=at(10, 15), missed_clocks=0),
        # R1 on G: "still following up, please redispatch" on the 8th; R2 is the same ticket again,
        # answered on the 10th. R3 on K: answered at once. R4 on K: closed unanswered (cancelled).
        ticket("R1", "G", "gd", at(10, 6), at(10, 8, 18), answered=at(10, 8), status="redispatched"),
        ticket("R2", "G", "gd", at(10, 8), at(10, 10, 18), answered=at(10, 10), replaces="R1"),
        ticket("R3", "K", "zj", at(10, 7), at(10, 9, 18), answered=at(10, 9)),
        ticket("R4", "K", "zj", at(10, 12), at(10, 14, 18), status="cancelled"),
        reply_event("R4", "K", 2, at(10, 15), "cancel"),
        # Direct dispatches on K: R5 answered at 09:00, due 10:00; R7 due on the 14th at 10:00,
        # still unanswered when K closed on the 15th.
        ticket("R5", "K", "zj-hz-xihu", at(10, 9, 8), at(10, 9, 10), answered=at(10, 9, 9), kind="direct_dispatch"),
        ticket("R7", "K", "zj-hz-xihu", at(10, 14, 8), at(10, 14, 10), status="cancelled", kind="direct_dispatch"),
        reply_event("R7", "K", 2, at(10, 15), "cancel"),
    ]
    with Session(read_model.engine) as session:
        session.add_all(rows)
        session.commit()


def test_one_time_resolution_counts_each_ticket_once_by_its_reply(read_model: ReadModel) -> None:
    tickets_and_late_cases(read_model)
    # tickets handled in October: R1 (asked for a redispatch: not resolved at once) and R3 (answered
    # at once); R2 is R1 again, not another ticket; R4 was never answered; R5 is a direct dispatch → 1 / 2
    assert count(read_model, "one_time_resolution_rate") == {None: (1, 2)}
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    items, total = sql.members(read_model.engine, "one_time_resolution_rate", start, end, NOW)
    assert total == 2 and [(i["id"], i["in_numerator"]) for i in items] == [("R1", False), ("R3", True)]
    # by the office that had to answer: gd 0 / 1, zj 1 / 1
    assert count(read_model, "one_time_resolution_rate", group_by="unit") == {"gd": (0, 1), "zj": (1, 1)}


def test_a_ticket_cancelled_after_its_due_instant_counts_as_late(read_model: ReadModel) -> None:
    tickets_and_late_cases(read_model)
    # tickets due in October: R1, R2, R3 (answered at or before due) and R4 (due the 14th 18:00,
    # cancelled unanswered on the 15th) → 3 / 4
    assert count(read_model, "ticket_timely_reply_rate") == {None: (3, 4)}
    # the same for direct dispatches: R5 in time, R7 due the 14th 10:00 and cancelled the 15th → 1 / 2
    assert count(read_model, "direct_dispatch_timely_rate") == {None: (1, 2)}


def test_the_handling_timely_rate_counts_open_cases_that_already_missed_a_clock(read_model: ReadModel) -> None:
    tickets_and_late_cases(read_model)
    # October: K closed with no clock missed (in time); G open with a missed clock and H open with a
    # clock overdue since 11:00 (now is 12:00) cannot be in time, counted in the month received;
    # I has missed nothing yet; J was received in September → 1 / 3
    assert count(read_model, "handling_timely_rate") == {None: (1, 3)}
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    items, _ = sql.members(read_model.engine, "handling_timely_rate", start, end, NOW)
    # by the instant that puts each in the month: G received the 5th, H the 6th, K closed the 15th
    assert [(i["id"], i["in_numerator"]) for i in items] == [("G", False), ("H", False), ("K", True)]
    assert count(read_model, "handling_timely_rate", Period.parse("month", "2026-09")) == {None: (0, 1)}  # J


def test_the_items_behind_a_figure(read_model: ReadModel) -> None:
    october(read_model)
    start, end = OCTOBER.bounds(organisation_zone(POLICY))
    items, total = sql.members(read_model.engine, "ticket_timely_reply_rate", start, end, NOW)
    assert total == 4  # by due instant: T1 (5th), T2 (6th), T6 (9th), T3 (20th)
    assert [(i["id"], i["complaint_id"], i["in_numerator"]) for i in items] == [
        ("T1", "A", True), ("T2", "A", True), ("T6", "B", False), ("T3", "B", False)]
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
