"""The judgement tables keep the same rules on SQLite and PostgreSQL: idempotent writes that only
move forward, an office's inbox by due instant, the invalid-appeal counts of a month."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from readmodel.store import ReadModel
from rules.actors import Actor, Role
from rules.judgement import JudgementStatus
from rules.policy import load_policy
from settings import ROOT
from workflows.judgement_messages import JudgementChange, JudgementEvent, JudgementView

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
CST = timezone(timedelta(hours=8))
OCT_5 = datetime(2026, 10, 5, 10, tzinfo=CST)
ARBITRATION = Actor(id="arb-wu", name="Wu Hao", role=Role.ARBITRATION, unit="hq-arbitration")


def a_change(n: int, seq: int, status: JudgementStatus, *, office: str = "gd", sent_at: datetime = OCT_5,
             due: datetime | None = None, invalid: bool = False, unit: str | None = None) -> JudgementChange:
    view = JudgementView(judgement_id=f"judgement-C{n}", complaint_id=f"C{n}", status=status, lead_unit="call-centre",
                         category="delay", opened_at=sent_at, responsible_office=office, party="station", at_fault_unit=unit,
                         acting_unit=office if status is JudgementStatus.AWAITING_RESPONSE else None, due=due,
                         sent_at=sent_at, invalid_appeal=invalid)
    event = JudgementEvent(seq=seq, at=sent_at, actor=ARBITRATION, action=f"step-{seq}", from_status=None, to_status=status)
    return JudgementChange(workflow_id=view.judgement_id, event=event, view=view)


def test_writes_are_idempotent_and_only_move_forward(read_model: ReadModel) -> None:
    store = read_model.judgements
    later = a_change(1, 2, JudgementStatus.ACCEPTED)
    store.record([a_change(1, 1, JudgementStatus.AWAITING_RESPONSE), later])
    store.record([later, a_change(1, 1, JudgementStatus.AWAITING_RESPONSE)])  # a retry, then a replayed older change

    found = store.get("judgement-C1")
    assert found is not None
    row, events = found
    assert row.status == "accepted" and row.last_seq == 2 and row.sent_at == OCT_5
    assert [e.seq for e in events] == [1, 2]
    assert [j.judgement_id for j in store.of_complaint("C1")] == ["judgement-C1"]


def test_the_inbox_lists_what_the_office_must_answer_by_due_instant(read_model: ReadModel) -> None:
    store = read_model.judgements
    store.record([
        a_change(1, 1, JudgementStatus.AWAITING_RESPONSE, due=OCT_5 + timedelta(days=8)),
        a_change(2, 1, JudgementStatus.AWAITING_RESPONSE, due=OCT_5 + timedelta(days=7)),
        a_change(3, 1, JudgementStatus.AWAITING_RESPONSE, due=OCT_5 + timedelta(days=9), office="zj"),
        a_change(4, 1, JudgementStatus.ACCEPTED, due=OCT_5 + timedelta(days=1)),
    ])

    assert [j.judgement_id for j in store.inbox("gd")] == ["judgement-C2", "judgement-C1"]


def test_invalid_appeals_are_counted_per_city_branch_for_the_judgements_sent_in_the_month(read_model: ReadModel) -> None:
    store = read_model.judgements
    store.record([
        a_change(1, 1, JudgementStatus.ACCEPTED, invalid=True, unit="gd-gz-tianhe"),
        a_change(2, 1, JudgementStatus.ACCEPTED, unit="gd-gz"),
        a_change(3, 1, JudgementStatus.ACCEPTED, unit="gd-sz-nanshan"),
        a_change(4, 1, JudgementStatus.CANCELLED, office="zj"),  # no unit named: the province stands
        a_change(5, 1, JudgementStatus.ACCEPTED, invalid=True, unit="gd-sz-nanshan",
                 sent_at=datetime(2026, 11, 1, 0, 30, tzinfo=CST)),  # November in Shanghai
    ])
    october = (datetime(2026, 10, 1, tzinfo=CST), datetime(2026, 11, 1, tzinfo=CST))

    # Guangzhou: Tianhe's (invalid) and its own → 1 / 2; Shenzhen: Nanshan's → 0 / 1; zj → 0 / 1
    assert store.appeal_counts(*october, POLICY.org_chart) == {"gd-gz": (1, 2), "gd-sz": (0, 1), "zj": (0, 1)}
    assert store.appeal_counts(*october, POLICY.org_chart, branch="gd-sz") == {"gd-sz": (0, 1)}
