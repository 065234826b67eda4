"""The hand-over rules (rules/hand_over.py): which clocks are due within the horizon, what the
customer was promised, and when a case may not be handed over. Clocks as the read model keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.hand_over import clocks_due, hand_over_refusal, promises
from rules.lifecycle import ComplaintStatus

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def clock(name: str, due_in_minutes: int, *, kind: str = "customer", met: bool = False, overdue: bool = False) -> dict:
    due = NOW + timedelta(minutes=due_in_minutes)
    return {"name": name, "label": name.replace("_", " "), "due": due.isoformat(), "due_local": f"{due:%H:%M}",
            "kind": kind, "met_at": NOW.isoformat() if met else None, "overdue_at": due.isoformat() if overdue else None}


CLOCKS = [
    clock("first_contact", -30, overdue=True),  # missed half an hour ago, still owed
    clock("solution", 239),  # due a minute inside a 4-hour horizon
    clock("progress_update", 240, kind="progress"),  # due exactly at its end: outside
    clock("written_confirmation", 10, met=True),  # met: nothing owed
    clock("action-1", 60 * 30, kind="action"),  # a planned action agreed for tomorrow
]


def test_the_clocks_due_within_the_horizon_are_the_unmet_ones_before_its_end_overdue_first() -> None:
    due = clocks_due(CLOCKS, NOW, hours=4)
    assert [(c.kind, c.overdue) for c in due] == [("first_contact", True), ("solution", False)]
    assert [c.kind for c in clocks_due(CLOCKS, NOW, hours=31)] == ["first_contact", "solution", "progress_update", "action-1"]


def test_the_promises_are_the_update_the_solution_and_the_plan_whatever_the_horizon() -> None:
    # first contact is owed too, but it was never a promise told to the customer; the met confirmation is done
    assert [p.kind for p in promises(CLOCKS, NOW)] == ["solution", "progress_update", "action-1"]


def test_a_hand_over_needs_an_open_case_someone_took_and_another_seat() -> None:
    assert hand_over_refusal(ComplaintStatus.IN_HANDLING, "agent-wang", "agent-li") is None
    assert hand_over_refusal(ComplaintStatus.RESOLVED, None, "agent-li") is None  # taken before owners: gets one
    assert "closed" in (hand_over_refusal(ComplaintStatus.CLOSED, "agent-wang", "agent-li") or "")
    assert "take it, then hand it over" in (hand_over_refusal(ComplaintStatus.CLASSIFIED, None, "agent-li") or "")
    assert "owns the complaint already" in (hand_over_refusal(ComplaintStatus.CONFIRMED, "agent-li", "agent-li") or "")
