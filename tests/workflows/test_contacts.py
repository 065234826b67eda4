"""Contact kinds besides complaints (DOMAIN §2, seed 001), each its own workflow, on a time-skipping
server of its own per test, with exact instants on the calendars of the units that must act.

The desk is the national call centre (7 × 10: every day 8:00–18:00); the Guangdong office (gd),
a consultation's owning department here, works Mon–Fri 8–18 on the national calendar; rescue
requests and new failure modes run round the clock (policy `clocks.contact_kinds.calendars`).
Missed clocks are texted through a real HTTP SMS gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from rules.actors import Actor, Role
from rules.contact import ContactIntake
from tests.conftest import Stack
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_clocks import next_plain_friday, timer_summaries
from tests.workflows import test_dispatches
from tests.workflows.test_dispatches import SHANGHAI, plain_monday, skip_to
from tests.waiting import eventually
from workflows.contact import (
    CONTACT_PATCHES,
    CONTACT_WORKFLOWS,
    ConsultationWorkflow,
    NewFailureModeWorkflow,
    RescueRequestWorkflow,
)
from workflows.contact_messages import (
    AnswerContactAtOnce,
    CallCustomerBack,
    ContactFiling,
    HandOverContact,
    RecordDepartmentAnswer,
    contact_workflow_id,
)
from workflows.case import INVALID_TRANSITION

AGENT = Actor(id="agent-wang", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre")
DEPARTMENT = Actor(id="gd-chen", name="Chen Jing", role=Role.REGIONAL_CS, unit="gd")
DESK_SUPERVISOR = "+8610950002"  # 马瑞, supervisor of the call centre
# A missed clock is told to the level above the unit that owed it (DOMAIN §6): above the call centre
# is head office, whose duty supervisor takes it.
HQ_SUPERVISOR = "+8610950005"
GD_SUPERVISOR = "+8613800000011"  # 林芳, supervisor of the Guangdong office

desk = test_dispatches.desk  # a time-skipping server of its own per test, with a real SMS gateway


async def receive(stack: Stack, kind: str, at: datetime, **intake: object) -> WorkflowHandle:
    """The desk receives a contact at `at` (the test server's clock is moved there first)."""
    await skip_to(stack.env, at)
    filing = ContactFiling(
        contact_id="K" + uuid.uuid4().hex[:12].upper(),
        intake=ContactIntake.model_validate({
            "kind": kind, "channel": "hotline", "received_at": at.isoformat(),
            "customer": {"name": "Li Na", "phone": "13800138000"}, "description": "Where is my parcel?", **intake,
        }),
        filed_by=AGENT, filed_at=at, desk_unit=AGENT.unit, built_with=list(CONTACT_PATCHES),  # as the API files it
    )
    return await stack.env.client.start_workflow(
        CONTACT_WORKFLOWS[filing.intake.kind].run, filing, id=contact_workflow_id(filing.contact_id),
        task_queue=stack.settings.temporal_task_queue,
    )


async def contact(stack: Stack, handle: WorkflowHandle, ready: Callable[[dict], bool] = lambda c: bool(c["clocks"])) -> dict:
    """The contact as the read model shows it, once `ready` (the workflow writes in its own tasks)."""
    store = stack.read_model.contacts

    def shown() -> dict | None:
        found = store.get(handle.id.removeprefix("contact-"))
        if found is None:
            return None
        row, events = found
        contact = {**row.model_dump(), "timeline": [e.model_dump() for e in events],
                   "clocks_by_name": {c["name"]: c for c in row.clocks or []}}
        return contact if ready(contact) else None

    return await eventually(stack.env, shown, "the contact never reached the expected state")


def due(clock: dict) -> datetime:
    return datetime.fromisoformat(clock["due"]).astimezone(SHANGHAI)


def at(clock: dict, key: str) -> datetime:
    return datetime.fromisoformat(clock[key]).astimezone(SHANGHAI)


def near(instant: datetime | None, expected: datetime) -> bool:
    """An action's instant: the test server's clock moves on by milliseconds between steps."""
    return instant is not None and abs(instant - expected) < timedelta(seconds=1)


def texts_to(gateway: SmsGateway, phone: str) -> list[str]:
    return [m["text"] for m in gateway.texts_to(phone)]  # fails on a text sent again after delivery


async def test_a_consultation_received_monday_0910_hands_over_by_0940_calls_back_by_1210(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "consultation", monday.replace(hour=9, minute=10))

    opened = await contact(stack, handle)
    assert due(opened["clocks_by_name"]["consultation_handover"]) == monday.replace(hour=9, minute=40)
    assert due(opened["clocks_by_name"]["consultation_callback"]) == monday.replace(hour=12, minute=10)

    await skip_to(stack.env, monday.replace(hour=9, minute=30))
    await handle.execute_update(ConsultationWorkflow.hand_over, HandOverContact(actor=AGENT, unit="gd", note="fee question"))
    handed = await contact(stack, handle, lambda c: "consultation_department_answer" in c["clocks_by_name"])
    answer_clock = handed["clocks_by_name"]["consultation_department_answer"]
    handed_at = next(e["at"] for e in handed["timeline"] if e["action"] == "hand_over")
    assert near(handed_at, monday.replace(hour=9, minute=30))
    assert due(answer_clock) == handed_at + timedelta(hours=2)  # 2 h from the hand-over, on gd's calendar
    assert answer_clock["unit"] == "gd" and handed["handed_to"] == "gd" and handed["status"] == "handed_over"

    await skip_to(stack.env, monday.replace(hour=11))
    await handle.execute_update(ConsultationWorkflow.record_department_answer,
                                RecordDepartmentAnswer(actor=DEPARTMENT, answer="The fee is 12 CNY per kilogram"))
    await skip_to(stack.env, monday.replace(hour=11, minute=45))
    closed = await handle.execute_update(ConsultationWorkflow.call_back,
                                         CallCustomerBack(actor=AGENT, message="Told the customer: 12 CNY per kilogram"))

    assert closed.status == "closed" and closed.missed_clocks == 0
    assert all(c.met_at is not None and c.overdue_at is None for c in closed.clocks)
    assert (await handle.result()).status == "closed"
    shown = await contact(stack, handle, lambda c: c["status"] == "closed")
    assert [e["action"] for e in shown["timeline"]] == [
        "receive", "start_clock", "start_clock", "hand_over", "start_clock", "record_department_answer", "call_back"]
    assert gateway.requests == []  # nobody was told of a missed clock: not one request to the gateway
    summaries = await timer_summaries(handle)
    assert f"hand-over to the department due {monday:%Y-%m-%d} 09:40" in summaries
    assert f"department answer due {monday:%Y-%m-%d} 11:30" in summaries


async def test_a_friday_evening_consultation_runs_on_the_desks_and_the_departments_own_calendars(
    desk: tuple[Stack, SmsGateway],
) -> None:
    """The call centre works 7 × 10, the Guangdong office Mon–Fri: the call-back falls due Saturday
    10:10 while the department's answer is due Monday 09:30, so the call-back is missed and told."""
    stack, gateway = desk
    friday = datetime.combine(next_plain_friday(await stack.env.get_current_time()), time(0), SHANGHAI)
    saturday, monday = friday + timedelta(days=1), friday + timedelta(days=3)
    handle = await receive(stack, "consultation", friday.replace(hour=17, minute=10))
    opened = await contact(stack, handle)
    assert due(opened["clocks_by_name"]["consultation_callback"]) == saturday.replace(hour=10, minute=10)  # 50 min + 2 h 10

    await skip_to(stack.env, friday.replace(hour=17, minute=30))
    await handle.execute_update(ConsultationWorkflow.hand_over, HandOverContact(actor=AGENT, unit="gd"))
    handed = await contact(stack, handle, lambda c: "consultation_department_answer" in c["clocks_by_name"])
    assert near(due(handed["clocks_by_name"]["consultation_department_answer"]), monday.replace(hour=9, minute=30))

    await skip_to(stack.env, saturday.replace(hour=10, minute=11))
    missed = await contact(stack, handle, lambda c: c["missed_clocks"] == 1)
    assert near(at(missed["clocks_by_name"]["consultation_callback"], "overdue_at"), saturday.replace(hour=10, minute=10))
    assert missed["timeline"][-1]["action"] == "clock_overdue"
    assert missed["timeline"][-1]["detail"]["notified"] == "supervisor above call-centre"
    assert len(texts_to(gateway, HQ_SUPERVISOR)) == 1
    assert texts_to(gateway, DESK_SUPERVISOR) == [] and texts_to(gateway, GD_SUPERVISOR) == []


async def test_a_missed_hand_over_tells_the_supervisor_above_the_desk_and_is_counted(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "consultation", monday.replace(hour=9, minute=10))
    await contact(stack, handle)

    await skip_to(stack.env, monday.replace(hour=9, minute=39))
    assert (await contact(stack, handle))["missed_clocks"] == 0  # a minute before: still running
    await skip_to(stack.env, monday.replace(hour=9, minute=41))

    missed = await contact(stack, handle, lambda c: c["missed_clocks"] == 1)
    handover = missed["clocks_by_name"]["consultation_handover"]
    assert near(at(handover, "overdue_at"), monday.replace(hour=9, minute=40))
    assert missed["timeline"][-1]["detail"]["clock"] == "consultation_handover"
    assert texts_to(gateway, DESK_SUPERVISOR) == []
    assert texts_to(gateway, HQ_SUPERVISOR) == [
        f"The hand-over to the department of consultation {missed['id']} was due {monday:%Y-%m-%d} 09:40."]

    await handle.execute_update(ConsultationWorkflow.hand_over, HandOverContact(actor=AGENT, unit="hq-cs"))
    late = await contact(stack, handle, lambda c: c["status"] == "handed_over")
    assert late["clocks_by_name"]["consultation_handover"]["met_at"] is not None  # met late: both instants stay
    assert late["missed_clocks"] == 1


async def test_a_consultation_answered_at_once_closes_at_once(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "consultation", monday.replace(hour=10))

    closed = await handle.execute_update(ConsultationWorkflow.answer_at_once,
                                         AnswerContactAtOnce(actor=AGENT, answer="Insured value costs 1 % of the value"))

    assert closed.status == "closed" and near(closed.closed_at, monday.replace(hour=10))
    assert {c.name for c in closed.clocks if c.met_at} == {"consultation_handover", "consultation_callback"}
    assert (await handle.result()).status == "closed"


async def test_a_wrong_step_is_refused_with_the_current_status(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "consultation", monday.replace(hour=10))

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ConsultationWorkflow.call_back, CallCustomerBack(actor=AGENT, message="too early"))

    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_TRANSITION
    assert cause.details[0] == {"current_status": "received"}
    assert "allowed from: answered" in cause.message


async def test_a_rescue_request_at_2355_is_due_at_0005_round_the_clock(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "rescue_request", monday.replace(hour=23, minute=55), location="G4 service area, km 112")

    opened = await contact(stack, handle)
    assert due(opened["clocks_by_name"]["rescue_handover"]) == monday.replace(hour=0, minute=5) + timedelta(days=1)

    await skip_to(stack.env, monday.replace(hour=23, minute=59))
    closed = await handle.execute_update(RescueRequestWorkflow.hand_over, HandOverContact(actor=AGENT, unit="gd-gz-tianhe"))

    assert closed.status == "closed" and closed.handed_to == "gd-gz-tianhe" and closed.missed_clocks == 0
    assert (await handle.result()).status == "closed"
    assert gateway.requests == []  # not one request to the gateway


async def test_a_rescue_request_missed_at_night_tells_the_supervisor_above_at_once(desk: tuple[Stack, SmsGateway]) -> None:
    """On the desk's own 8–18 calendar, 23:00 + 10 minutes would be 08:10 the next morning."""
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    handle = await receive(stack, "rescue_request", monday.replace(hour=23), location="Tianhe Road 1")

    await skip_to(stack.env, monday.replace(hour=23, minute=11))

    missed = await contact(stack, handle, lambda c: c["missed_clocks"] == 1)
    assert near(at(missed["clocks_by_name"]["rescue_handover"], "overdue_at"), monday.replace(hour=23, minute=10))
    assert len(texts_to(gateway, HQ_SUPERVISOR)) == 1


async def test_a_new_failure_mode_is_due_sixty_minutes_later_even_on_a_sunday_evening(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    sunday = await plain_monday(stack.env) + timedelta(days=6)
    handle = await receive(stack, "new_failure_mode", sunday.replace(hour=20, minute=30))

    opened = await contact(stack, handle)
    assert due(opened["clocks_by_name"]["new_failure_mode_handover"]) == sunday.replace(hour=21, minute=30)

    await skip_to(stack.env, sunday.replace(hour=21))
    closed = await handle.execute_update(NewFailureModeWorkflow.hand_over, HandOverContact(actor=AGENT, unit="zj-hz-xihu"))
    assert closed.status == "closed" and closed.missed_clocks == 0
