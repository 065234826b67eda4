"""The cross-department first opinion (DOMAIN §5: "cross-department first opinions within 1 hour";
policy clocks.customer.cross_department_opinion_minutes: 60) as a clock of the complaint, on the
time-skipping server: raising a dispatch starts it on the asked unit's calendar, the unit's first
reply meets it, and a miss is a missed customer clock the level above the unit hears of (DOMAIN §6),
in its working hours (quiet hours hold a Sunday miss to Guangzhou's Monday 08:00).

The asked unit is the Tianhe delivery station, a production unit working 7 × 10 (every day 8–18);
the level above it is the Guangzhou city office, whose supervisor is Deng Chao (+8613800000014).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle

from rules.actors import Role
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_customer_clocks import close_to, notices
from tests.workflows.test_dispatches import (  # noqa: F401 (desk is a fixture)
    GOOD_FINDING,
    OFFICE,
    complaint_in_handling,
    desk,
    dispatch,
    plain_monday,
    raise_,
    reply,
    skip_to,
)
from tests.waiting import eventually
from workflows.clocks import Clock
from workflows.complaint import ComplaintWorkflow

GZ_SUPERVISOR_PHONE = "+8613800000014"


def opinion_clock_of(clocks: list[Clock], dispatch_id: str) -> Clock:
    found = [c for c in clocks if c.name == f"cross_department_opinion:{dispatch_id}"]
    assert len(found) == 1, [c.name for c in clocks]
    return found[0]


def stored_opinion_clock(stack: Stack, cid: str, dispatch_id: str) -> Clock:
    """The first-opinion clock as the read model holds it (what GET /complaints/{id} shows)."""
    row = stack.read_model.complaints.find(cid)
    assert row is not None
    return opinion_clock_of([Clock.model_validate(c) for c in row.clocks or []], dispatch_id)


def missed(stack: Stack, cid: str) -> int:
    row = stack.read_model.complaints.find(cid)
    assert row is not None
    return row.missed_clocks


def timeline(stack: Stack, cid: str) -> list:  # type: ignore[type-arg]
    found = stack.read_model.complaints.get(cid)
    assert found is not None
    return list(found[1])


def opinion_texts(gateway: SmsGateway) -> list[dict]:
    return [m for m in gateway.handset if "first opinion" in m["text"]]


async def wait_until(stack: Stack, ready) -> None:  # type: ignore[no-untyped-def]
    await eventually(stack.env, ready, "the case never got there")


async def opinion_raised(stack: Stack, raised_at: datetime) -> tuple[str, str, WorkflowHandle]:
    """A complaint in handling and a direct dispatch to the Tianhe station raised at `raised_at`."""
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, raised_at)
    did = await raise_(stack, cid, "gd-gz-tianhe")
    await dispatch(stack, did)
    return cid, did, stack.env.client.get_workflow_handle(f"complaint-{cid}")


async def test_no_first_opinion_within_the_hour_is_a_missed_clock_at_raise_plus_60_minutes_on_the_units_calendar(
    desk: tuple[Stack, SmsGateway],
) -> None:
    stack, gateway = desk
    saturday = await plain_monday(stack.env) + timedelta(days=5)
    # Raised Saturday 17:30: 60 minutes on the station's 7 × 10 are 30 min on Saturday (to 18:00)
    # and 30 from Sunday's opening at 08:00 → Sunday 08:30 (a station works weekends).
    raised, due = saturday.replace(hour=17, minute=30), (saturday + timedelta(days=1)).replace(hour=8, minute=30)
    cid, did, complaint = await opinion_raised(stack, raised)

    clock = opinion_clock_of(await complaint.query(ComplaintWorkflow.clocks), did)
    assert clock.unit == "gd-gz-tianhe" and close_to(clock.started_at, raised)
    assert close_to(clock.due, due) and clock.running
    shown = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["clocks"]
    assert [c["due_local"] for c in shown if c["name"] == clock.name] == [clock.due_local]  # in the read model too

    await skip_to(stack.env, due - timedelta(minutes=1))
    before, seen = missed(stack, cid), len(timeline(stack, cid))
    assert opinion_texts(gateway) == [] and opinion_clock_of(await complaint.query(ComplaintWorkflow.clocks), did).running
    await skip_to(stack.env, due + timedelta(minutes=1))
    overdue_events = lambda: [e for e in timeline(stack, cid) if e.action == "clock_overdue"  # noqa: E731
                              and e.detail["clock"] == clock.name]
    await wait_until(stack, overdue_events)
    # Guangzhou's office works Mon–Fri 8–18: quiet hours hold the text to its next working day's
    # 08:00 (DOMAIN §6), while the miss itself counts from Sunday 08:30.
    opening = due.replace(hour=8, minute=0) + timedelta(days=1)
    while not OFFICE.is_working_day(opening.date()):
        opening += timedelta(days=1)
    held = [e for e in timeline(stack, cid) if e.action == "hold_notice" and e.detail["occasion"].startswith(clock.name)]
    assert [e.detail["until_local"] for e in held] == [f"{opening:%Y-%m-%d} 08:00"]
    assert opinion_texts(gateway) == []
    await skip_to(stack.env, opening + timedelta(minutes=1))
    await wait_until(stack, lambda: len(opinion_texts(gateway)) == 1)

    late = opinion_clock_of(await complaint.query(ComplaintWorkflow.clocks), did)
    assert close_to(late.overdue_at, due) and late.met_at is None
    overdue = [e for e in timeline(stack, cid) if e.action == "clock_overdue" and e.detail["clock"] == clock.name]
    assert len(overdue) == 1 and close_to(overdue[0].at, due)
    # It counts as a missed customer clock, beside whatever of the complaint's own fell due meanwhile
    # (its customer clocks have run since it was filed, days before, with nobody keeping them).
    missed_meanwhile = [e for e in timeline(stack, cid)[seen:] if e.action == "clock_overdue"]
    assert overdue[0] in missed_meanwhile and missed(stack, cid) == before + len(missed_meanwhile)
    # The level above the station hears of it: Guangzhou's supervisor, once.
    told = [n for n in notices(stack.read_model, complaint) if n.step.startswith(clock.name)]
    assert [(n.role, n.unit) for n in told] == [(Role.SUPERVISOR, "gd-gz")]  # the chart's level above gd-gz-tianhe
    assert [m["to"] for m in opinion_texts(gateway)] == [GZ_SUPERVISOR_PHONE]
    assert did in opinion_texts(gateway)[0]["text"]

    # A reply after the hour does not undo the miss (read from the read model: the time-skipping
    # server sometimes lets a query right after a child's completion run past its deadline).
    await reply(stack, did, GOOD_FINDING)
    await wait_until(stack, lambda: any(e.action == "dispatch_finished" for e in timeline(stack, cid)))
    after = stored_opinion_clock(stack, cid, did)
    assert close_to(after.overdue_at, due) and after.met_at is None


async def test_a_reply_within_the_hour_meets_the_first_opinion(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    # Raised Monday 09:00: 60 minutes on 7 × 10 → 10:00; the station answers at 09:40.
    raised, due = monday.replace(hour=9), monday.replace(hour=10)
    cid, did, complaint = await opinion_raised(stack, raised)
    assert close_to(opinion_clock_of(await complaint.query(ComplaintWorkflow.clocks), did).due, due)

    answered_at = monday.replace(hour=9, minute=40)
    await skip_to(stack.env, answered_at)
    assert (await reply(stack, did, GOOD_FINDING))["outcome"] == "accepted"
    await wait_until(stack, lambda: stored_opinion_clock(stack, cid, did).met_at is not None)
    met = stored_opinion_clock(stack, cid, did)
    assert close_to(met.met_at, answered_at) and met.overdue_at is None

    await skip_to(stack.env, due + timedelta(minutes=5))  # past the hour: nothing falls due
    name = met.name
    assert stored_opinion_clock(stack, cid, did).overdue_at is None
    assert [e for e in timeline(stack, cid) if e.action == "clock_overdue" and e.detail["clock"] == name] == []
    assert [n for n in notices(stack.read_model, complaint) if n.step.startswith(name)] == [] and opinion_texts(gateway) == []
