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


# -- opening, suggestions, red alert, first opinions, the call-back (issue #13) ------------------

from zoneinfo import ZoneInfo  # noqa: E402

from activities.calendar import deadline_for  # noqa: E402
from rules.customer_clocks import (  # noqa: E402
    OPINION, clocks_started, dispatch_refusal, opening_clocks, opinion_clock, raises_red_alert,
)
from rules.policy import load_policy  # noqa: E402
from settings import ROOT  # noqa: E402
from workflows.deadlines import DeadlineRequest  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")


def test_the_solution_is_owed_from_the_opening_except_for_a_suggestion() -> None:
    assert opening_clocks(level=2) == (SOLUTION,) and opening_clocks(level=1) == (SOLUTION,)
    assert opening_clocks(level=3) == ()


def test_taking_the_case_keeps_the_opening_solution_clock_and_a_reopening_restarts_it() -> None:
    assert clocks_started(A.TAKE_INTO_HANDLING, 2, 0, {FIRST_CONTACT, SOLUTION}) == (PROGRESS,)
    assert clocks_started(A.RECORD_DISSATISFIED_CALLBACK, 2, 1, {FIRST_CONTACT, SOLUTION}) == (SOLUTION, PROGRESS)
    assert clocks_started(A.TAKE_INTO_HANDLING, 3, 0, {FIRST_CONTACT}) == ()
    assert clocks_started(A.RESOLVE, 3, 0, {FIRST_CONTACT}) == (CONFIRMATION, CALLBACK)


def test_a_suggestion_raises_no_dispatch_and_a_complaint_only_in_handling() -> None:
    assert "level-3 suggestion" in (dispatch_refusal(S.IN_HANDLING, 3) or "")
    assert dispatch_refusal(S.IN_HANDLING, 2) is None
    assert "in handling" in (dispatch_refusal(S.RESOLVED, 2) or "")


def test_only_level_1_raises_the_red_alert() -> None:
    assert [raises_red_alert(level) for level in (1, 2, 3)] == [True, False, False]


def test_a_dispatch_owes_its_first_opinion_within_the_hour_on_the_departments_calendar() -> None:
    # Raised Saturday 17:30 to a station (7 × 10): 30 minutes Saturday, 30 Sunday → Sunday 08:30.
    raised = datetime(2026, 3, 7, 17, 30, tzinfo=SHANGHAI)
    due = deadline_for(POLICY, DeadlineRequest(unit="gd-gz-tianhe", start=raised, clock=OPINION))
    assert due.due == datetime(2026, 3, 8, 8, 30, tzinfo=SHANGHAI) and due.calendar == "production_unit"
    assert opinion_clock("complaint-C1-dispatch-2") == "cross_department_opinion:complaint-C1-dispatch-2"


def callback_due(resolved: datetime) -> datetime:
    deadline = deadline_for(POLICY, DeadlineRequest(unit="gd", start=resolved, clock=CALLBACK, category="delay", level=2))
    assert (deadline.unit, deadline.calendar) == ("call-centre", "production_unit")  # the call centre calls back, 7 × 10
    return deadline.due


def test_the_call_back_is_24_elapsed_hours_owed_at_the_call_centres_next_opening() -> None:
    # DOMAIN §11: elapsed hours. Monday 10:00 → Tuesday 10:00 (not Wednesday 14:00 in working hours).
    assert callback_due(datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)) == datetime(2026, 3, 3, 10, tzinfo=SHANGHAI)
    # Monday 19:00 → Tuesday 19:00, after the call centre's 18:00 close → Wednesday 08:00.
    assert callback_due(datetime(2026, 3, 2, 19, tzinfo=SHANGHAI)) == datetime(2026, 3, 4, 8, tzinfo=SHANGHAI)
    # Friday 17:00 → Saturday 17:00: the call centre works weekends (7 × 10), so Saturday 17:00.
    assert callback_due(datetime(2026, 3, 6, 17, tzinfo=SHANGHAI)) == datetime(2026, 3, 7, 17, tzinfo=SHANGHAI)
    # Exactly at the close is in time: Monday 18:00 → Tuesday 18:00.
    assert callback_due(datetime(2026, 3, 2, 18, tzinfo=SHANGHAI)) == datetime(2026, 3, 3, 18, tzinfo=SHANGHAI)
