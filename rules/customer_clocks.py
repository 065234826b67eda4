"""Customer clocks (DOMAIN §5): the promises a complaint makes to its customer, which step of the
lifecycle (DOMAIN §4) starts and stops each, from when a started clock runs, the solution clock's
4 → 8 h extension, the progress-update interval, the departments' first opinions and what a
level-3 suggestion runs. Their lengths are the policy's (`clocks.customer.*`); the calendar turns a
length into an instant. The contact kinds' clocks are in rules/contact.py.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from rules.calendar import WorkingHoursRule
from rules.lifecycle import ComplaintAction, ComplaintStatus

# The customer clocks, by the names the policy knows them by.
FIRST_CONTACT = "first_contact"
SOLUTION = "solution"
PROGRESS = "progress_update"
CONFIRMATION = "written_confirmation"
CALLBACK = "satisfaction_callback"
LABELS = {FIRST_CONTACT: "first contact", SOLUTION: "solution", PROGRESS: "next progress update",
          CONFIRMATION: "written confirmation", CALLBACK: "satisfaction call-back"}
# The policy clock an extended solution is due by: 8 working hours from the same start.
EXTENDED_SOLUTION = "complex_solution"
# A department asked through a dispatch owes its first opinion within the hour (seed 002): one
# clock per dispatch raised, on the department's calendar, met by its first reply.
OPINION = "cross_department_opinion"
# Counted in elapsed hours, not working hours (DOMAIN §11), and owed at the acting unit's next
# opening when they end outside its hours: the call-back "within 24 hours".
ELAPSED_CLOCKS = frozenset({CALLBACK})
# A suggestion (DOMAIN §3 level 3) goes to the product side as a requirement: no solution to owe.
SUGGESTION_LEVEL = 3
# Level 1 (safety, account security, group complaint, regulator or media) raises a red alert.
RED_ALERT_LEVEL = 1

# Which customer clocks each transition stops, and which it starts.
CLOCKS_OF: dict[ComplaintAction, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # Answered at once: the first contact is made and the answer is the solution.
    ComplaintAction.ANSWER_AT_FIRST_CONTACT: ((FIRST_CONTACT, SOLUTION), ()),
    ComplaintAction.TAKE_INTO_HANDLING: ((), (SOLUTION, PROGRESS)),
    ComplaintAction.RESOLVE: ((SOLUTION, PROGRESS), (CONFIRMATION, CALLBACK)),
    ComplaintAction.CONFIRM_WITH_CUSTOMER: ((CONFIRMATION,), ()),
    ComplaintAction.RECORD_SATISFIED_CALLBACK: ((CALLBACK,), ()),
    ComplaintAction.RECORD_DISSATISFIED_CALLBACK: ((CALLBACK,), (SOLUTION, PROGRESS)),
}


class ClockFacts(Protocol):
    """What the rules read of a running or stopped clock (the workflow's Clock has these)."""

    due: datetime
    due_local: str
    met_at: datetime | None
    overdue_at: datetime | None
    extended: bool


# The clocks a complaint starts when it opens, besides first contact (which intake computes).
OPENING_CLOCKS = (SOLUTION,)
# The clocks a level-3 suggestion never runs (nor any dispatch: see dispatch_refusal).
NOT_FOR_SUGGESTIONS = frozenset({SOLUTION, PROGRESS})


def opening_clocks(level: int) -> tuple[str, ...]:
    """The solution is owed from the moment the customer complained, whether or not anyone has
    taken the case yet; a suggestion owes none."""
    return tuple(name for name in OPENING_CLOCKS if not (level == SUGGESTION_LEVEL and name in NOT_FOR_SUGGESTIONS))


def clocks_started(action: ComplaintAction, level: int, handling_round: int, running: Collection[str]) -> tuple[str, ...]:
    """The clocks a step starts (CLOCKS_OF), less those a suggestion never runs and the first
    round's solution clock when the opening already runs it (taking the case keeps it as it is)."""
    return tuple(
        name for name in CLOCKS_OF[action][1]
        if not (level == SUGGESTION_LEVEL and name in NOT_FOR_SUGGESTIONS)
        and not (name in OPENING_CLOCKS and handling_round == 0 and name in running)
    )


def raises_red_alert(level: int) -> bool:
    """A level-1 complaint goes straight to the duty manager at intake (DOMAIN §3)."""
    return level == RED_ALERT_LEVEL


def opinion_clock(dispatch_id: str) -> str:
    """The name of the first-opinion clock of one dispatch (no personal data: ids only)."""
    return f"{OPINION}:{dispatch_id}"


def dispatch_refusal(status: ComplaintStatus, level: int) -> str | None:
    """Why no dispatch may be raised now (None: it may): only while in handling, never for a suggestion."""
    if level == SUGGESTION_LEVEL:
        return ("a level-3 suggestion goes to the product side as a requirement: it raises no dispatch "
                "and runs no dispatch clock")
    if status is not ComplaintStatus.IN_HANDLING:
        return f"dispatches are raised while a complaint is in handling; it is {status.value}"
    return None


def runs_from(name: str, handling_round: int, received_at: datetime, now: datetime) -> datetime:
    """The first round's solution is owed from when the customer complained (the channel's received
    time); a reopened round's, and every other clock a step starts, from the step."""
    return received_at if name == SOLUTION and handling_round == 0 else now


def progress_interval(customer_hours: float | None) -> WorkingHoursRule | None:
    """The progress updates come at the interval the customer asked for at intake; None: the policy's."""
    return WorkingHoursRule(hours=customer_hours) if customer_hours is not None else None


def first_contact_refusal(status: ComplaintStatus, first_contact: ClockFacts | None) -> str | None:
    """First contact is recorded once, while the complaint is open."""
    if status is ComplaintStatus.CLOSED or first_contact is None or first_contact.met_at is not None:
        return "first contact is already recorded or the complaint is closed"
    return None


def extension_refusal(status: ComplaintStatus, solution: ClockFacts | None, now: datetime) -> str | None:
    """Why the solution clock may not move from 4 to 8 hours now (None: it may): only while in
    handling with the solution clock running, once, and only if the customer is told before the
    4 hours run out."""
    if status is not ComplaintStatus.IN_HANDLING or solution is None or solution.met_at is not None:
        return "the solution clock is extended while the complaint is in handling"
    if solution.extended:
        return f"the solution clock was already extended; it is due {solution.due_local}"
    if solution.overdue_at is not None or now >= solution.due:
        return f"too late: the customer had to be told before the solution was due at {solution.due_local}"
    return None
