"""Complex cases (DOMAIN §4, complex case steps): a supervisor makes a case in handling complex →
the departments' coordination meeting is recorded → a plan is agreed, each action on a clock of its
own → the actions are done, and the last one done resolves the case. A manual resolution is refused
while actions are open.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rules.lifecycle import ComplaintAction, ComplaintStatus

A = ComplaintAction
STEPS = (A.MAKE_COMPLEX, A.RECORD_COORDINATION_MEETING, A.AGREE_PLAN)


def step_refusal(step: ComplaintAction, status: ComplaintStatus, *, complex_case: bool, meeting_recorded: bool,
                 open_actions: Sequence[int]) -> str | None:
    """Why a complex-case step (one of STEPS) may not be taken now; None: it may."""
    if status is not ComplaintStatus.IN_HANDLING:
        return f"a complex case is worked while in handling; the complaint is {status.value}"
    if step is A.MAKE_COMPLEX and complex_case:
        return "the case is complex already"
    if step is not A.MAKE_COMPLEX and not complex_case:
        return "a supervisor must first make the case complex"
    if step is A.AGREE_PLAN:
        if not meeting_recorded:
            return "record the coordination meeting before agreeing the plan"
        if open_actions:
            return "the plan agreed already has open actions"
    return None


def resolve_refusal(open_actions: Sequence[int]) -> str | None:
    """A manual resolution waits for the plan: the last action done resolves the case."""
    if open_actions:
        return f"the plan still has open actions {list(open_actions)}: the case resolves when they are done"
    return None


def completion_refusal(number: int, status: ComplaintStatus, planned: Collection[int], done: Collection[int]) -> str | None:
    """Why action `number` of the plan may not be reported done now; None: it may."""
    if status is not ComplaintStatus.IN_HANDLING:
        return f"plan actions are done while in handling; the complaint is {status.value}"
    if number not in planned:
        return f"the plan has no action {number}"
    if number in done:
        return f"action {number} is done already"
    return None


def resolved_by_plan(open_actions: Sequence[int]) -> bool:
    """The last action done resolves the case."""
    return not open_actions


def action_clock(number: int) -> str:
    """The clock of the plan's action `number` (its due instant is the plan's, not the policy's)."""
    return f"action-{number}"


def action_number(clock_name: str) -> int:
    return int(clock_name.removeprefix("action-"))
