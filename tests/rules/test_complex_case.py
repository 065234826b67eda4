"""Complex cases (DOMAIN §4): make complex → coordination meeting → plan → actions; the last action
done resolves the case, and a manual resolution is refused while actions are open."""

from __future__ import annotations

from rules.complex_case import (
    action_clock,
    action_number,
    completion_refusal,
    resolve_refusal,
    resolved_by_plan,
    step_refusal,
)
from rules.lifecycle import ComplaintAction as A, ComplaintStatus as S


def refusal(step: A, status: S = S.IN_HANDLING, *, complex_case: bool = True, meeting: bool = True,
            open_actions: tuple[int, ...] = ()) -> str | None:
    return step_refusal(step, status, complex_case=complex_case, meeting_recorded=meeting, open_actions=open_actions)


def test_a_case_in_handling_is_made_complex_once() -> None:
    assert refusal(A.MAKE_COMPLEX, complex_case=False, meeting=False) is None
    assert refusal(A.MAKE_COMPLEX) == "the case is complex already"


def test_a_complex_case_is_worked_only_while_in_handling() -> None:
    for step in (A.MAKE_COMPLEX, A.RECORD_COORDINATION_MEETING, A.AGREE_PLAN):
        assert "while in handling" in refusal(step, S.RESOLVED, complex_case=False)  # type: ignore[operator]


def test_the_meeting_and_the_plan_come_after_the_case_is_made_complex() -> None:
    assert refusal(A.RECORD_COORDINATION_MEETING, complex_case=False) == "a supervisor must first make the case complex"
    assert refusal(A.AGREE_PLAN, complex_case=False) == "a supervisor must first make the case complex"
    assert refusal(A.RECORD_COORDINATION_MEETING, meeting=False) is None


def test_the_plan_is_agreed_after_the_meeting_and_not_over_open_actions() -> None:
    assert refusal(A.AGREE_PLAN, meeting=False) == "record the coordination meeting before agreeing the plan"
    assert refusal(A.AGREE_PLAN, open_actions=(2,)) == "the plan agreed already has open actions"
    assert refusal(A.AGREE_PLAN) is None


def test_a_manual_resolution_is_refused_while_actions_are_open() -> None:
    assert "open actions [1, 3]" in resolve_refusal([1, 3])  # type: ignore[operator]
    assert resolve_refusal([]) is None


def test_an_action_is_done_once_while_in_handling() -> None:
    assert completion_refusal(1, S.IN_HANDLING, planned=[1, 2], done=[]) is None
    assert completion_refusal(1, S.IN_HANDLING, planned=[1, 2], done=[1]) == "action 1 is done already"
    assert completion_refusal(3, S.IN_HANDLING, planned=[1, 2], done=[]) == "the plan has no action 3"
    assert "while in handling" in completion_refusal(1, S.RESOLVED, planned=[1], done=[])  # type: ignore[operator]


def test_the_last_action_done_resolves_the_case() -> None:
    assert resolved_by_plan([]) and not resolved_by_plan([2])


def test_each_action_has_a_clock_of_its_own() -> None:
    assert action_clock(1) != action_clock(2)
    assert action_number(action_clock(7)) == 7
