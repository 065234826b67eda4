"""The read model never loses a running clock: after every step, on every path, the complaint row's
clocks are the workflow's `clocks` query (DOMAIN §5; issue #13). And the solution clock runs from
the received time whether or not anyone has taken the case; a level-3 suggestion runs none.

Cases are delay complaints (level 2) led by the Guangdong office (Mon–Fri 8–18), on a plain week
(see tests/workflows/test_customer_clocks.py for the fixture and the clock lengths).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from rules.classification import classify
from rules.dispatch import DispatchKind
from rules.escalation import resolve_ladder
from rules.intake import ComplaintIntake
from rules.policy import load_policy
from tests.factories import complaint_body
from tests.workflows.test_clocks import POLICY, filing, start
from tests.workflows.test_customer_clocks import (  # noqa: F401 (desk is a fixture)
    AGENT, SUPERVISOR, CareDesk, clocks, close_to, desk, local, missed, resolve_and_confirm, until,
)
from tests.workflows.test_dispatches import skip_to
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import (
    AgreePlan,
    CompleteAction,
    ExtendSolutionClock,
    MakeComplex,
    PlannedAction,
    RecordCallback,
    RecordCoordinationMeeting,
    RecordFirstContact,
    RecordProgressUpdate,
    TakeIntoHandling,
)
from workflows.dispatch_messages import RaiseDispatch
from tests.waiting import settled


POLICY_NOW = load_policy(POLICY)


def row_clocks(desk: CareDesk, handle: WorkflowHandle) -> list[dict[str, Any]]:
    row = desk.read_model.complaints.find(handle.id.removeprefix("complaint-"))
    assert row is not None
    return list(row.clocks or [])


async def mirrored(desk: CareDesk, handle: WorkflowHandle, step: str) -> dict[str, Any]:
    """The row's clocks equal the query once the workflow's writes of this step have landed (a
    timer that fired in the step writes beside it); a row that lost a clock never catches up."""
    queried: list[dict[str, Any]] = []

    async def same() -> dict[str, Any] | None:  # the local write of this step, not test time
        nonlocal queried
        queried = [c.model_dump(mode="json") for c in await handle.query(ComplaintWorkflow.clocks)]
        return {c["name"]: c for c in queried} if row_clocks(desk, handle) == queried else None

    try:
        return await settled(same, f"after {step}: the read model's clocks never matched the workflow's", seconds=10)
    except AssertionError:
        raise AssertionError(f"after {step}: read model {row_clocks(desk, handle)} != workflow {queried}") from None


async def file_received_earlier(desk: CareDesk, filed_day: int, received_day: int, **body: Any) -> WorkflowHandle:
    """Filed on `filed_day` at 10:00 for a complaint the channel received on `received_day` at 10:00."""
    await skip_to(desk.env, desk.at(filed_day, 10))
    f = filing(desk.at(received_day, 10))
    if body:
        intake = ComplaintIntake.model_validate(complaint_body(received_at=desk.at(received_day, 10).isoformat(), **body))
        f = f.model_copy(update={"intake": intake, "classification": classify(intake, load_policy(POLICY))})
    f = f.model_copy(update={"filed_at": desk.at(filed_day, 10)})
    handle = await start(desk.env, f, desk.queue)
    await until(desk.env, lambda: desk.read_model.complaints.find(f.complaint_id) is not None)
    return handle


async def test_an_ignored_complaint_received_3_days_ago_shows_its_solution_overdue_at_once(desk: CareDesk) -> None:
    # Received Monday 10:00, filed Thursday 10:00. The solution is owed 4 working hours from the
    # receipt (Monday 14:00) and first contact 2 (a delay: Monday 12:00), nobody having taken it.
    handle = await file_received_earlier(desk, filed_day=3, received_day=0)
    await until(desk.env, lambda: missed(desk, handle) == 2)
    running = await mirrored(desk, handle, "filing")
    assert set(running) == {"first_contact", "solution"}
    assert local((await clocks(handle))["solution"].due) == desk.at(0, 14)
    assert close_to((await clocks(handle))["solution"].overdue_at, desk.at(3, 10))
    assert close_to((await clocks(handle))["first_contact"].overdue_at, desk.at(3, 10))

    # Taking it into handling keeps the overdue solution clock as it is and starts the progress
    # clock (2 working hours from Thursday 10:00 → 12:00): the read model shows both.
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    after = await mirrored(desk, handle, "take into handling")
    assert set(after) == {"first_contact", "solution", "progress_update"}
    assert close_to((await clocks(handle))["solution"].overdue_at, desk.at(3, 10))
    assert local((await clocks(handle))["progress_update"].due) == desk.at(3, 12)
    assert missed(desk, handle) == 2  # the solution was missed once, not again at the taking


async def test_the_read_model_mirrors_the_clocks_after_every_step_of_the_main_paths(desk: CareDesk) -> None:
    handle = await file_received_earlier(desk, filed_day=0, received_day=0)  # received and filed Monday 10:00
    await mirrored(desk, handle, "filing")
    await skip_to(desk.env, desk.at(0, 10, 5))
    await handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
        actor=AGENT, apology="We are sorry", why_it_matters="your papers", first_direction="chasing the depot"))
    await mirrored(desk, handle, "first contact")
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await mirrored(desk, handle, "take into handling")
    await skip_to(desk.env, desk.at(0, 11))
    await handle.execute_update(ComplaintWorkflow.record_progress_update, RecordProgressUpdate(
        actor=AGENT, message="The depot is searching", medium="call"))
    await mirrored(desk, handle, "progress update")
    await handle.execute_update(ComplaintWorkflow.extend_solution_clock, ExtendSolutionClock(
        actor=AGENT, reason="the depot must search the line", medium="call"))
    await mirrored(desk, handle, "extension")
    await skip_to(desk.env, desk.at(0, 13, 1))  # the progress update owed at 13:00 is missed
    await until(desk.env, lambda: missed(desk, handle) == 1)
    await mirrored(desk, handle, "missed progress update")
    await resolve_and_confirm(handle)
    await mirrored(desk, handle, "resolve and confirm")
    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
        actor=AGENT, satisfied=False, customer_words="还是没收到"))
    reopened = await mirrored(desk, handle, "dissatisfied call-back")
    assert {"solution", "progress_update"} <= {n for n, c in reopened.items() if c["met_at"] is None and c["overdue_at"] is None}

    await handle.execute_update(ComplaintWorkflow.make_complex, MakeComplex(actor=SUPERVISOR, reason="two units"))
    await handle.execute_update(ComplaintWorkflow.record_coordination_meeting, RecordCoordinationMeeting(
        actor=SUPERVISOR, held_at=desk.at(0, 13, 5), departments=["gd-gz-tianhe"], attendees=["Guo Liang"],
        findings="The scan shows the parcel left unsorted"))
    await handle.execute_update(ComplaintWorkflow.agree_plan, AgreePlan(actor=SUPERVISOR, actions=[
        PlannedAction(department="gd-gz-tianhe", owner="Guo Liang", description="search the line", due=desk.at(0, 17))]))
    planned = await mirrored(desk, handle, "plan agreed")
    assert "action-1" in planned or any(c["kind"] == "action" for c in planned.values())
    await handle.execute_update(ComplaintWorkflow.complete_action, CompleteAction(
        actor=AGENT, number=1, outcome="found and redelivered"))
    await mirrored(desk, handle, "last action done (resolves)")
    await resolve_confirm_and_close(desk, handle)


async def resolve_confirm_and_close(desk: CareDesk, handle: WorkflowHandle) -> None:
    from workflows.complaint_messages import ConfirmWithCustomer

    await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
        actor=AGENT, message="Redelivered", medium="sms"))
    await mirrored(desk, handle, "confirm")
    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
        actor=AGENT, satisfied=True, customer_words="满意"))
    await mirrored(desk, handle, "satisfied call-back")


async def test_a_level_3_suggestion_runs_no_solution_or_progress_clock_and_raises_no_dispatch(desk: CareDesk) -> None:
    handle = await file_received_earlier(desk, filed_day=0, received_day=0, nature="suggestion",
                                         description="Please offer evening delivery slots.")
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    assert set(await mirrored(desk, handle, "take into handling")) == {"first_contact"}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
            actor=AGENT, kind=DispatchKind.DIRECT, unit="gd-gz-tianhe", instruction="check the route",
            ladder=resolve_ladder(POLICY_NOW, "overdue_dispatch", "gd-gz-tianhe"), reply_checks=POLICY_NOW.reply_checks))
    assert "level-3 suggestion" in str(refused.value.cause)
    await skip_to(desk.env, desk.at(1, 10))  # a day later nothing fell due but first contact
    assert missed(desk, handle) == 1 and set(await clocks(handle)) == {"first_contact"}


async def test_steps_arriving_together_leave_the_read_model_with_every_clock(desk: CareDesk) -> None:
    # Taking the case (two clock look-ups), first contact and a duplicate's link sent at once: each
    # change takes its seq in turn, and the row ends with the clocks the workflow holds.
    from workflows.complaint_messages import LinkDuplicate

    handle = await file_received_earlier(desk, filed_day=0, received_day=0)
    await mirrored(desk, handle, "filing")
    for round_ in range(3):
        await asyncio.gather(
            handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
            if round_ == 0 else handle.execute_update(ComplaintWorkflow.record_progress_update, RecordProgressUpdate(
                actor=AGENT, message=f"update {round_}", medium="call")),
            handle.execute_update(ComplaintWorkflow.link_duplicate, LinkDuplicate(
                actor=AGENT, key=f"dup-{round_}", channel="web", received_at=desk.at(0, 10))),
            *([handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
                actor=AGENT, apology="Sorry", why_it_matters="papers", first_direction="chasing"))] if round_ == 0 else []),
        )
        after = await mirrored(desk, handle, f"steps together, round {round_}")
        assert {"first_contact", "solution", "progress_update"} <= set(after)
