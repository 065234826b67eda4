"""Customer clocks (DOMAIN §5): which step starts and stops which clock, from when a clock runs,
the solution clock's 4 → 8 h extension, the customer's own progress interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from rules.calendar import WorkingHoursRule
from rules.customer_clocks import (
    CALLBACK,
    CLOCKS_OF,
    CONFIRMATION,
    FIRST_CONTACT,
    PROGRESS,
    SOLUTION,
    extension_refusal,
    first_contact_refusal,
    progress_interval,
    runs_from,
)
from rules.lifecycle import ComplaintAction as A, ComplaintStatus as S

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
NOW = RECEIVED + timedelta(hours=1)


@dataclass
class AClock:
    due: datetime = RECEIVED + timedelta(hours=4)
    due_local: str = "2026-03-02 17:00"
    met_at: datetime | None = None
    overdue_at: datetime | None = None
    extended: bool = False


def test_taking_into_handling_starts_the_solution_and_progress_clocks() -> None:
    assert CLOCKS_OF[A.TAKE_INTO_HANDLING] == ((), (SOLUTION, PROGRESS))


def test_resolution_stops_solution_and_progress_and_starts_confirmation_and_callback() -> None:
    stops, starts = CLOCKS_OF[A.RESOLVE]
    assert set(stops) == {SOLUTION, PROGRESS} and set(starts) == {CONFIRMATION, CALLBACK}


def test_the_confirmation_and_the_callback_stop_their_own_clocks() -> None:
    assert CLOCKS_OF[A.CONFIRM_WITH_CUSTOMER] == ((CONFIRMATION,), ())
    assert CLOCKS_OF[A.RECORD_SATISFIED_CALLBACK] == ((CALLBACK,), ())


def test_a_dissatisfied_callback_reopens_with_a_new_solution_and_progress_clock() -> None:
    stops, starts = CLOCKS_OF[A.RECORD_DISSATISFIED_CALLBACK]
    assert stops == (CALLBACK,) and set(starts) == {SOLUTION, PROGRESS}


def test_the_first_rounds_solution_runs_from_the_received_time_a_reopened_rounds_from_now() -> None:
    assert runs_from(SOLUTION, 0, RECEIVED, NOW) == RECEIVED
    assert runs_from(SOLUTION, 1, RECEIVED, NOW) == NOW
    assert runs_from(PROGRESS, 0, RECEIVED, NOW) == NOW


def test_the_progress_interval_is_the_customers_when_asked_for_else_the_policys() -> None:
    assert progress_interval(3) == WorkingHoursRule(hours=3)
    assert progress_interval(None) is None


def test_first_contact_is_recorded_once_while_open() -> None:
    assert first_contact_refusal(S.CLASSIFIED, AClock()) is None
    assert first_contact_refusal(S.CLASSIFIED, AClock(met_at=NOW)) is not None
    assert first_contact_refusal(S.CLOSED, AClock()) is not None
    assert first_contact_refusal(S.CLASSIFIED, None) is not None
    assert FIRST_CONTACT == "first_contact"  # the policy's name for it


def test_the_solution_clock_extends_if_the_customer_is_told_before_the_4_hours_run_out() -> None:
    assert extension_refusal(S.IN_HANDLING, AClock(), NOW) is None


def test_no_extension_once_the_4_hours_have_run_out() -> None:
    solution = AClock()
    assert "too late" in extension_refusal(S.IN_HANDLING, solution, solution.due)  # type: ignore[operator]
    assert "too late" in extension_refusal(S.IN_HANDLING, AClock(overdue_at=NOW), NOW)  # type: ignore[operator]


def test_the_solution_clock_extends_once() -> None:
    assert "already extended" in extension_refusal(S.IN_HANDLING, AClock(extended=True), NOW)  # type: ignore[operator]


def test_the_solution_clock_extends_only_while_in_handling() -> None:
    assert extension_refusal(S.RESOLVED, AClock(), NOW) is not None
    assert extension_refusal(S.IN_HANDLING, AClock(met_at=NOW), NOW) is not None
    assert extension_refusal(S.IN_HANDLING, None, NOW) is not None
