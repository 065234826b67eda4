"""Shift hand-over (交接班, seed 003): who owns a case, when its ownership may move to another seat,
and what a seat's or a unit's open work at shift end holds — the clocks due in the next hours and
the promises made to the customer (the next progress update, the solution, the plan's actions).

A case's owner is the seat that took it into handling; a hand-over moves it to another seat and is
a row of the case's timeline. The list's horizon is the policy's (`hand_over.horizon_hours`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rules.customer_clocks import PROGRESS, SOLUTION
from rules.lifecycle import ComplaintStatus

# The clocks whose due instant the customer was told: the next progress update and the solution.
PROMISED_CLOCKS = (PROGRESS, SOLUTION)
# The kind of a complex case's planned-action clock (workflows/clocks.py ClockKind.ACTION).
PLAN_ACTION_KIND = "action"
# Nobody has taken these into handling yet: there is no owner to hand over from.
NOT_YET_OWNED = frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.CLASSIFIED})


def hand_over_refusal(status: ComplaintStatus, owner_id: str | None, to_seat: str) -> str | None:
    """Why the case cannot be handed over to `to_seat` now (None: it can): only an open case someone
    took into handling, and only to a seat other than its owner. A case taken before owners were
    recorded has none: its first hand-over gives it one."""
    if status is ComplaintStatus.CLOSED:
        return "a closed complaint is not handed over"
    if status in NOT_YET_OWNED:
        return f"nobody has taken the complaint into handling yet (it is {status.value}): take it, then hand it over"
    if owner_id == to_seat:
        return f"seat {to_seat} owns the complaint already"
    return None


@dataclass(frozen=True)
class DueItem:
    """One clock or planned action on the hand-over list."""

    kind: str  # the clock's name
    label: str
    due: datetime
    due_local: str
    overdue: bool  # past due (or marked overdue) and not met


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _unmet(clocks: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [c for c in clocks if c.get("met_at") is None]


def _open_clocks(clocks: Iterable[Mapping[str, Any]], now: datetime) -> list[DueItem]:
    return [DueItem(kind=c["name"], label=c["label"], due=_instant(c["due"]), due_local=c["due_local"],
                    overdue=c.get("overdue_at") is not None or _instant(c["due"]) < now)
            for c in _unmet(clocks)]


def clocks_due(clocks: Iterable[Mapping[str, Any]], now: datetime, hours: float) -> list[DueItem]:
    """The unmet clocks falling due before `now + hours`, the overdue ones included (the next shift
    inherits them first), soonest first."""
    until = now + timedelta(hours=hours)
    return sorted((c for c in _open_clocks(clocks, now) if c.due < until), key=lambda c: c.due)


def promises(clocks: Iterable[Mapping[str, Any]], now: datetime) -> list[DueItem]:
    """What the customer was promised and is still owed, whatever its horizon: the next progress
    update, the solution, and each planned action of a complex case not done (its clock carries the
    due date agreed in the plan), soonest first."""
    return sorted((c for c, raw in zip(_open_clocks(clocks, now), _unmet(clocks))
                   if c.kind in PROMISED_CLOCKS or raw.get("kind") == PLAN_ACTION_KIND), key=lambda c: c.due)
