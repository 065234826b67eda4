"""Merge and split (rules/merging.py) on the time-skipping server, with exact instants on the
Guangdong office's calendar (Mon–Fri 8–18) and the Tianhe station's 7 × 10.

Every complaint is a level-2 delay complaint led by the Guangdong office: first contact 2 working
hours, solution 4 from the received time, a person's progress update every 2 from the taking
(tests/workflows/test_customer_clocks.py's desk). A direct dispatch to a station is due 2 working
hours after it is raised.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from readmodel import measures
from readmodel.tables import OutboxRow
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import dispatch_terms
from rules.policy import load_policy
from rules.reply_checks import Reply
from tests.workflows.test_clocks import POLICY
from tests.workflows.test_customer_clocks import (AGENT, CUSTOMER_PHONE, SUPERVISOR, CareDesk,
                                                  close_to, desk, until)
from tests.workflows.test_dispatches import skip_to
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import (CloseUnresolvable, MergeInto, RecordFirstContact, RecordProgressUpdate,
                                          SplitOut, TakeIntoHandling)
from workflows.dispatch import DispatchWorkflow
from workflows.dispatch_messages import RaiseDispatch, ReplyToDispatch

__all__ = ["desk"]  # the fixture, imported

STATION = "gd-gz-tianhe"
STATION_ACTOR = AGENT.model_copy(update={"id": "th-wu", "name": "Wu Lei", "role": "production_unit", "unit": STATION})


async def taken(desk: CareDesk, received: datetime) -> WorkflowHandle:
    """Received at `received`, first contact 5 minutes later, taken into handling 10 minutes later."""
    handle = await desk.file(received)
    await skip_to(desk.env, received + timedelta(minutes=5))
    await handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
        actor=AGENT, apology="We are sorry", why_it_matters="your papers are due", first_direction="chasing the depot"))
    await skip_to(desk.env, received + timedelta(minutes=10))
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    return handle


def cid(handle: WorkflowHandle) -> str:
    return handle.id.removeprefix("complaint-")


async def merge(handle: WorkflowHandle, target: WorkflowHandle) -> None:
    await handle.execute_update(ComplaintWorkflow.merge_into, MergeInto(
        actor=SUPERVISOR, into=cid(target), reason="the same parcel, called in twice"))


def notice_steps(desk: CareDesk, handle: WorkflowHandle) -> list[str]:
    """The notices the case put in the outbox, by step."""
    with Session(desk.read_model.engine) as session:
        return [r.step for r in session.exec(select(OutboxRow).where(OutboxRow.case_id == cid(handle)))]


def events(desk: CareDesk, handle: WorkflowHandle, action: str) -> list:
    found = desk.read_model.complaints.get(cid(handle))
    assert found is not None
    return [e for e in found[1] if e.action == action]


async def test_a_merged_complaints_late_reply_lands_on_the_target_at_its_instant(desk: CareDesk) -> None:
    target = await taken(desk, desk.at(0, 9))
    duplicate = await taken(desk, desk.at(0, 9, 15))
    policy = load_policy(POLICY)
    await skip_to(desk.env, desk.at(0, 9, 30))
    terms = dispatch_terms(policy, DispatchKind.DIRECT, TicketPriority.NORMAL, STATION)
    dispatch_id = await duplicate.execute_update(ComplaintWorkflow.raise_dispatch, RaiseDispatch(
        actor=AGENT, kind=DispatchKind.DIRECT, unit=STATION, instruction="Check the scan records",
        **dict(terms), reply_checks=policy.reply_checks))
    await skip_to(desk.env, desk.at(0, 9, 40))
    await merge(duplicate, target)

    # Raised 09:30 on the station's 7 × 10: due 11:30. Answered 11:50: 20 working minutes late.
    await skip_to(desk.env, desk.at(0, 11, 50))
    await desk.env.client.get_workflow_handle(dispatch_id).execute_update(DispatchWorkflow.reply, ReplyToDispatch(
        actor=STATION_ACTOR, reply=Reply(finding="The courier missed the route; redelivered today by 16:00.",
                                         failing_link="delivery")))

    await until(desk.env, lambda: len(events(desk, target, "dispatch_finished")) == 1
                and len(events(desk, duplicate, "dispatch_finished")) == 1)
    [landed] = events(desk, target, "dispatch_finished")
    # Answered at 11:50 exactly; it lands on the target as soon as the duplicate forwards it.
    assert close_to(datetime.fromisoformat(landed.detail["answered_at"]), desk.at(0, 11, 50))
    assert desk.at(0, 11, 50) <= landed.at < desk.at(0, 11, 51)
    assert landed.detail["merged_from"] == cid(duplicate) and landed.detail["dispatch_id"] == dispatch_id
    assert landed.detail["in_time"] is False and landed.detail["late_working_minutes"] == 20
    [own] = events(desk, duplicate, "dispatch_finished")
    assert own.detail["forwarded_to"] == cid(target)
    assert [e.detail["merged"] for e in events(desk, target, "take_in_merged")] == [cid(duplicate)]

    # Closing the target closes the merged complaint with it; the matter is counted once.
    await target.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(
        actor=SUPERVISOR, reason="the sender withdrew the parcel"))
    await until(desk.env, lambda: (row := desk.read_model.complaints.find(cid(duplicate))) is not None
                and row.status == "closed")
    assert len(events(desk, duplicate, "close_with_target")) == 1
    week = (desk.at(0, 0), desk.at(7, 0))
    # Two complaints received, one merged into the other: one complaint, one closed complaint.
    assert measures.complaint_counts(desk.read_model.engine, *week, by="category") == {"delay": 1}
    assert measures.counts(desk.read_model.engine, "handling_timely_rate", *week, now=desk.at(7, 0))[None][1] == 1


async def test_merged_clocks_stop_and_a_split_restarts_them_with_the_working_time_they_had_left(desk: CareDesk) -> None:
    target = await taken(desk, desk.at(0, 8, 50))
    duplicate = await taken(desk, desk.at(0, 9))
    await skip_to(desk.env, desk.at(0, 10))
    await merge(duplicate, target)

    row = desk.read_model.complaints.find(cid(duplicate))
    assert row is not None and row.status == "merged" and row.merged_into == cid(target)
    [merged] = events(desk, duplicate, "merge_into")
    # At 10:00: solution (due 13:00) had 180 working minutes left, the progress update (due 11:10) 70.
    assert merged.detail["clocks_stopped"] == {"solution": 180, "progress_update": 70}
    await until(desk.env, lambda: any(cid(target) in t["text"] for t in desk.texts_to(CUSTOMER_PHONE)))
    [told] = [t for t in desk.texts_to(CUSTOMER_PHONE) if cid(target) in t["text"]]
    assert cid(duplicate) in told["text"] and "Li Na" not in told["text"]

    # Stopped: Monday 13:00 passes and the night with it; the duplicate misses nothing. The target
    # misses its progress update (11:00, then every 2 working hours) and its solution (12:50).
    await skip_to(desk.env, desk.at(1, 10))
    await until(desk.env, lambda: {"progress_update", "solution"} <= {e.detail["clock"] for e in events(
        desk, target, "clock_overdue")})
    assert events(desk, duplicate, "clock_overdue") == [] and desk.read_model.complaints.find(cid(duplicate)).missed_clocks == 0
    assert [step for step in notice_steps(desk, duplicate) if "overdue" in step] == []  # nobody told of a miss
    assert "merged into" in await refusal(duplicate.execute_update(
        ComplaintWorkflow.record_progress_update, RecordProgressUpdate(actor=AGENT, message="still on it", medium="sms")))

    await duplicate.execute_update(ComplaintWorkflow.split_out, SplitOut(actor=SUPERVISOR, reason="two parcels after all"))
    clocks = {c.name: c for c in await duplicate.query(ComplaintWorkflow.clocks)}
    # Split Tuesday 10:00: 180 working minutes → Tuesday 13:00; 70 → Tuesday 11:10.
    assert close_to(clocks["solution"].due, desk.at(1, 13)) and clocks["solution"].running
    assert close_to(clocks["progress_update"].due, desk.at(1, 11, 10))
    state = await duplicate.query(ComplaintWorkflow.state)
    assert state.status.value == "in_handling" and state.merged_into is None
    assert desk.read_model.complaints.find(cid(duplicate)).merged_into is None
    assert [e.detail["split_out"] for e in events(desk, target, "let_go_split")] == [cid(duplicate)]

    await skip_to(desk.env, desk.at(1, 13, 1))
    overdue = lambda: [(e.detail["clock"], e.at) for e in events(desk, duplicate, "clock_overdue")]  # noqa: E731
    await until(desk.env, lambda: len(overdue()) == 2)
    assert [name for name, _ in overdue()] == ["progress_update", "solution"]
    assert close_to(overdue()[1][1], desk.at(1, 13))
    await until(desk.env, lambda: len([s for s in notice_steps(desk, duplicate) if "overdue" in s]) >= 2)


async def test_merges_are_one_level_deep_and_never_into_itself(desk: CareDesk) -> None:
    a, b, c = [await desk.file(desk.at(0, 9, minute)) for minute in (0, 1, 2)]
    await merge(a, b)
    itself = MergeInto(actor=SUPERVISOR, into=cid(c), reason="the same parcel")
    assert "merged into itself" in await refusal(c.execute_update(ComplaintWorkflow.merge_into, itself))
    assert "merges are one level deep" in await refusal(merge(b, c))  # B holds A: A → B → C is refused
    assert "merged already" in await refusal(merge(a, c))
    split = SplitOut(actor=SUPERVISOR, reason="two parcels")
    assert "not merged" in await refusal(c.execute_update(ComplaintWorkflow.split_out, split))


async def refusal(step: Awaitable[object]) -> str:
    """The reason a workflow refused a step with."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await step
    return str(refused.value.cause)


async def test_a_target_that_cannot_take_the_merge_sends_the_complaint_back_as_it_was(desk: CareDesk) -> None:
    """The API checks the target first; these reach the workflows as if the target changed after that check."""
    a, b, c = [await taken(desk, desk.at(0, 9, minute)) for minute in (0, 15, 30)]
    await skip_to(desk.env, desk.at(0, 10))
    await merge(a, b)
    before = {x.name: x.due for x in await c.query(ComplaintWorkflow.clocks) if x.running}

    await merge(c, a)  # A is merged into B by now: A refuses by signal, C goes back as it was
    await until(desk.env, lambda: len(events(desk, c, "merge_refused")) == 1)
    [refused] = events(desk, c, "merge_refused")
    assert "is itself merged into" in refused.detail["refused"] and refused.to_status == "in_handling"
    state = await c.query(ComplaintWorkflow.state)
    assert state.status.value == "in_handling" and state.merged_into is None
    after = {x.name: x.due for x in await c.query(ComplaintWorkflow.clocks) if x.running}
    # Stopped and restarted in the same instant (10:00) with the working time left: due as before.
    assert after.keys() == before.keys() and all(close_to(after[n], before[n]) for n in before)

    await b.execute_update(ComplaintWorkflow.close_unresolvable, CloseUnresolvable(actor=SUPERVISOR, reason="withdrawn"))
    await b.result()  # B has ended (and A closed with it)
    assert "has ended" in await refusal(merge(c, b))
    assert (await c.query(ComplaintWorkflow.state)).status.value == "in_handling"
    assert [e.detail["refused"] for e in events(desk, c, "merge_refused")][-1].startswith(f"complaint {cid(b)} has ended")
