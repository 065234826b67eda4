"""Warnings before a breach (issue #16): at 75 % of a clock's working time (the policy's
`warnings.fractions`) the owner of the next step is texted once, through the outbox, and the clock
shows as due soon. On the time-skipping server, with texts through a real HTTP SMS gateway that
records every request, so a warning sent twice would show.

Calendars (policy): the Guangdong office (gd, the lead office here) works Mon–Fri 08:00–18:00; the
Tianhe station (gd-gz-tianhe) every day 08:00–18:00. Each test starts on a plain week's Monday.
"""

from __future__ import annotations

from datetime import timedelta

from readmodel import dashboard
from tests.conftest import Stack
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_clocks import timer_summaries
from tests.workflows.test_customer_clocks import (
    AGENT, GD_SUPERVISOR_PHONE, TIANHE_SUPERVISOR_PHONE, CareDesk, clocks, close_to, desk, until,
)
from tests.workflows.test_dispatches import (
    GOOD_FINDING, complaint_in_handling, dispatch, local, plain_monday, raise_, reply, skip_to,
)
from tests.workflows.test_dispatches import desk as dispatch_desk
from tests.waiting import eventually
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import RecordFirstContact

__all__ = ["desk", "dispatch_desk"]  # the fixtures, shared with test_customer_clocks and test_dispatches

HQ_SUPERVISOR_PHONE = "+8610950005"  # the level above gd: hears of a missed clock, not of a warning


async def test_a_customer_clock_warns_its_owner_once_at_75_percent(desk: CareDesk) -> None:
    # A delay complaint, level 2, received Monday 09:00, led by gd (Mon–Fri 08–18):
    # first contact 120 working minutes → due 11:00; 75 % of 120 min = 90 min → warning at 10:30.
    # solution 4 working hours → due 13:00; 75 % of 4 h = 3 h → warning at 12:00.
    handle = await desk.file(desk.at(0, 9))
    running = await clocks(handle)
    assert close_to(running["first_contact"].warnings[0].at, desk.at(0, 10, 30))
    assert close_to(running["solution"].warnings[0].at, desk.at(0, 12))
    cid = handle.id.removeprefix("complaint-")

    await skip_to(desk.env, desk.at(0, 10, 29))
    assert desk.texts_to(GD_SUPERVISOR_PHONE) == []
    assert dashboard.due_soon(desk.read_model.engine, desk.at(0, 10, 29), 10) == []

    await skip_to(desk.env, desk.at(0, 10, 31))
    await until(desk.env, lambda: len(desk.texts_to(GD_SUPERVISOR_PHONE)) == 1)
    assert "warn of first contact at " + f"{desk.at(0, 10, 30):%Y-%m-%d %H:%M}" in await timer_summaries(handle)
    # Due soon from 10:30 until 11:00: the first contact, on gd's calendar.
    soon = dashboard.due_soon(desk.read_model.engine, desk.at(0, 10, 31), 10)
    assert [(d.case_id, d.clock, d.unit) for d in soon] == [(cid, "first contact", "gd")]
    assert close_to(soon[0].warned_from, desk.at(0, 10, 30)) and close_to(soon[0].due, desk.at(0, 11))

    await skip_to(desk.env, desk.at(0, 10, 45))
    await handle.execute_update(ComplaintWorkflow.record_first_contact, RecordFirstContact(
        actor=AGENT, apology="We are sorry", why_it_matters="your papers are due", first_direction="chasing the depot"))
    await until(desk.env, lambda: dashboard.due_soon(desk.read_model.engine, desk.at(0, 10, 46), 10) == [])

    await skip_to(desk.env, desk.at(0, 11, 59))
    assert len(desk.texts_to(GD_SUPERVISOR_PHONE)) == 1  # the met first contact warns nobody again
    await skip_to(desk.env, desk.at(0, 12, 1))
    await until(desk.env, lambda: len(desk.texts_to(GD_SUPERVISOR_PHONE)) == 2)

    # 13:00: the solution is missed: the level above is told of the miss, gd's supervisor of nothing more.
    await skip_to(desk.env, desk.at(0, 13, 1))
    await until(desk.env, lambda: len(desk.texts_to(HQ_SUPERVISOR_PHONE)) == 1)
    texts = desk.texts_to(GD_SUPERVISOR_PHONE)  # fails if a warning went out again after delivery
    assert [t["text"].split(":")[0] for t in texts] == ["75 % of the first contact's time has run",
                                                        "75 % of the solution's time has run"]
    assert len(desk.gateway.requests_to(GD_SUPERVISOR_PHONE)) == 2  # each warning crossed the wire once
    timeline = [(action, at) for action, at in desk.timeline(handle) if action == "clock_warning"]
    assert [local_minute(at) for _, at in timeline] == [desk.at(0, 10, 30), desk.at(0, 12)]


async def test_a_dispatch_warns_the_unit_that_must_act_once_at_75_percent(
    dispatch_desk: tuple[Stack, SmsGateway]
) -> None:
    # A direct dispatch to the Tianhe station (7 × 10) raised Monday 09:00: 2 working hours → due
    # 11:00; 75 % of 2 h = 90 min → warning at 10:30, to the station's supervisor.
    stack, gateway = dispatch_desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    did = await raise_(stack, cid, "gd-gz-tianhe")
    opened = await dispatch(stack, did)
    assert abs(local(opened["warn_at"]) - monday.replace(hour=10, minute=30)) < timedelta(seconds=1)
    assert opened["warn_at_local"] == f"{monday:%Y-%m-%d} 10:30"

    await skip_to(stack.env, monday.replace(hour=10, minute=29))
    assert gateway.texts_to(TIANHE_SUPERVISOR_PHONE) == []
    await skip_to(stack.env, monday.replace(hour=10, minute=31))
    await eventually(stack.env, lambda: len(gateway.texts_to(TIANHE_SUPERVISOR_PHONE)) == 1, "no warning to Tianhe")
    soon = dashboard.due_soon(stack.read_model.engine, monday.replace(hour=10, minute=31), 10)
    assert [(d.case_id, d.clock, d.unit) for d in soon if d.case_id == did] == [(did, "direct dispatch", "gd-gz-tianhe")]

    await skip_to(stack.env, monday.replace(hour=10, minute=45))
    await reply(stack, did, GOOD_FINDING, failing_link="delivery")
    await skip_to(stack.env, monday.replace(hour=12))
    assert len(gateway.texts_to(TIANHE_SUPERVISOR_PHONE)) == 1  # answered in time: no ladder, no second text
    assert len(gateway.requests_to(TIANHE_SUPERVISOR_PHONE)) == 1
    events = (await stack.http.get(f"/dispatches/{did}", headers={"Authorization": "Bearer dev-auditor"})).json()["events"]
    assert [e["action"] for e in events if e["action"] in ("warning", "escalate")] == ["warning"]


def local_minute(instant):  # type: ignore[no-untyped-def]
    return instant.replace(second=0, microsecond=0)
