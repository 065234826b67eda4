"""Clock pauses while waiting on the customer or a third party (rules/pauses.py), on the
time-skipping server with instants on the units' calendars.

The Guangdong office (gd, lead office of every complaint here) works Mon–Fri 8–18 on the national
calendar; the Tianhe station 7 × 10. A delay complaint owes first contact in 2 working hours and a
solution in 4. Policy `pauses`: a complaint waiting for the customer pauses for at most 16 working
hours, a dispatch for at most 8.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

import pytest

from rules.actors import Role
from rules.customer_clocks import FIRST_CONTACT, PROGRESS, SOLUTION
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_customer_clocks import AGENT, CareDesk, desk, missed, until  # noqa: F401  (desk: the fixture)
from tests.waiting import eventually
from tests.workflows.test_clocks import filing, start, timer_summaries
from tests.workflows.test_continue_as_new import current_details
from tests.workflows.test_dispatches import (GOOD_FINDING, OFFICE, SHANGHAI, complaint_in_handling,
                                             direct_dispatch_monday_0900, dispatch, local, plain_monday, raise_,
                                             reply, skip_to)
from tests.workflows.test_dispatches import desk as api_desk  # noqa: F401  (the fixture)
from workflows.clocks import Clock
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import LinkDuplicate, TakeIntoHandling
from workflows.pauses import PauseClocks, ResumeClocks

PAUSER_PHONE = "+8613800000015"  # gd-cs-chen, regional customer service of gd (the directory): AGENT


def near(instant: object, expected: object) -> bool:
    """Within seconds: a skip lands a few milliseconds off the instant asked for, and the test
    server's time runs on with the wall clock while the API's calls take their seconds."""
    return abs(instant - expected) < timedelta(seconds=5)  # type: ignore[operator]


def pause(hours: float = 16) -> PauseClocks:
    return PauseClocks(actor=AGENT, reason="waiting_for_customer", note="asked for the sender's receipt",
                       max_working_hours=hours)


async def clocks(handle: WorkflowHandle) -> dict[str, Clock]:
    return {c.name: c for c in await handle.query(ComplaintWorkflow.clocks)}


def timeline_detail(desk: CareDesk, handle: WorkflowHandle, action: str) -> dict:
    found = desk.read_model.complaints.get(handle.id.removeprefix("complaint-"))
    assert found is not None
    return next(e.detail for e in found[1] if e.action == action)


async def test_paused_friday_1700_resumed_monday_1000_owes_the_working_time_it_had_left(desk: CareDesk) -> None:
    friday, monday = desk.at(4, 16), desk.at(7, 0)
    assert OFFICE.is_working_day(monday.date()), "the test needs a working Monday after the plain week"
    handle = await desk.file(friday)
    # Received Friday 16:00: first contact 2 working hours → Friday 18:00; solution 4 → Friday 16–18
    # and Monday 8–10 → Monday 10:00.
    before = await clocks(handle)
    assert before[FIRST_CONTACT].due == desk.at(4, 18) and before[SOLUTION].due == desk.at(7, 10)

    await skip_to(desk.env, desk.at(4, 17))
    await handle.execute_update(ComplaintWorkflow.pause_clocks, pause(hours=24))
    # Left at Friday 17:00: first contact 1 h (17–18), solution 3 h (17–18, Monday 8–10).
    await skip_to(desk.env, desk.at(7, 10))  # past both original due instants: nothing fires while paused
    assert missed(desk, handle) == 0
    await handle.execute_update(ComplaintWorkflow.resume_clocks, ResumeClocks(actor=AGENT))

    after = await clocks(handle)
    assert near(after[FIRST_CONTACT].due, desk.at(7, 11))  # Monday 10:00 + 1 h
    assert near(after[SOLUTION].due, desk.at(7, 13))  # Monday 10:00 + 3 h
    assert after[SOLUTION].paused_at is None
    resumed = timeline_detail(desk, handle, "resume_clocks")
    # Friday 17:00 → Monday 10:00: 65 elapsed hours.
    assert resumed["length_minutes"] in (65 * 60 - 1, 65 * 60)  # the skips land a few ms early
    assert resumed["ended_by_itself"] is False

    await skip_to(desk.env, desk.at(7, 11, 1))  # the moved first contact falls due, and is missed
    await until(desk.env, lambda: missed(desk, handle) == 1)


async def test_a_pause_past_its_maximum_ends_by_itself_and_the_one_who_paused_is_told(desk: CareDesk) -> None:
    handle = await desk.file(desk.at(0, 8, 30))
    # Received Monday 08:30: first contact due 10:30, solution 12:30.
    await skip_to(desk.env, desk.at(0, 9))
    await handle.execute_update(ComplaintWorkflow.pause_clocks, pause(hours=16))
    # 16 working hours from Monday 09:00: Monday 9–18 (9 h), Tuesday 8–15 (7 h) → Tuesday 15:00.
    paused = timeline_detail(desk, handle, "pause_clocks")
    ends_by = desk.at(1, 15).strftime("%Y-%m-%d %H:%M")
    assert paused["ends_by_local"] == ends_by
    # The Web UI: the pause's own timer by name, and the case's current details.
    assert f"pause (waiting_for_customer) ends by {ends_by}" in await timer_summaries(handle)
    assert f"customer clocks paused (waiting_for_customer) until {ends_by}" in await current_details(handle)

    await skip_to(desk.env, desk.at(1, 15, 1))
    await until(desk.env, lambda: len(desk.texts_to(PAUSER_PHONE)) == 1)
    assert "reached its maximum of 16 working hours" in desk.texts_to(PAUSER_PHONE)[0]["text"]
    resumed = timeline_detail(desk, handle, "resume_clocks")
    assert resumed["ended_by_itself"] is True
    # Left at 09:00: first contact 1.5 h → Tuesday 16:30; solution 3.5 h → Tuesday 15–18, Wednesday 8–8:30.
    after = await clocks(handle)
    assert near(after[FIRST_CONTACT].due, desk.at(1, 16, 30))
    assert near(after[SOLUTION].due, desk.at(2, 8, 30))


async def test_a_pause_goes_on_in_the_next_run_and_ends_there_by_itself(desk: CareDesk) -> None:
    # A case whose history is long enough to continue as new at its next quiet moment: the pause
    # carries over (ComplaintCarryOver.clock_pause) and its timer is armed again in the next run.
    await skip_to(desk.env, desk.at(0, 9))
    f = filing(desk.at(0, 9)).model_copy(update={"continue_as_new_after_events": 50})
    handle = await start(desk.env, f, desk.queue)
    await until(desk.env, lambda: desk.read_model.complaints.find(f.complaint_id) is not None)
    first_run = (await handle.describe()).run_id
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await handle.execute_update(ComplaintWorkflow.pause_clocks, pause(hours=2))  # ends by 11:00
    for n in range(8):  # the same complaint through other channels: history enough to continue as new
        if not await _new_run(handle, first_run):
            await handle.execute_update(ComplaintWorkflow.link_duplicate, LinkDuplicate(
                actor=AGENT, key=f"C-DUP-{n}", channel="web", received_at=desk.at(0, 9)))
    await eventually(desk.env, lambda: _new_run(handle, first_run), "the complaint never continued as new")

    await skip_to(desk.env, desk.at(0, 11, 1))
    await until(desk.env, lambda: len(desk.texts_to(PAUSER_PHONE)) == 1)
    # Received and taken 09:00, paused at once: first contact (2 h), solution (4 h) and the next
    # progress update (2 h) owed from 11:00.
    after = await clocks(handle)
    assert near(after[FIRST_CONTACT].due, desk.at(0, 13)) and near(after[SOLUTION].due, desk.at(0, 15))
    assert near(after[PROGRESS].due, desk.at(0, 13))


async def _new_run(handle: WorkflowHandle, first_run: str) -> bool:
    return (await handle.describe()).run_id != first_run


async def test_a_second_pause_and_a_resume_without_a_pause_are_refused(desk: CareDesk) -> None:
    handle = await desk.file(desk.at(0, 9))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ComplaintWorkflow.resume_clocks, ResumeClocks(actor=AGENT))
    assert "not paused" in str(refused.value.cause)
    await handle.execute_update(ComplaintWorkflow.pause_clocks, pause())
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(ComplaintWorkflow.pause_clocks, pause())
    assert "already paused" in str(again.value.cause)


# -- through the API ----------------------------------------------------------------------------


async def test_the_api_refuses_an_unknown_reason_naming_it_and_a_resume_without_a_pause(
        api_desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = api_desk
    cid = (await file(stack))["complaint_id"]
    unknown = await stack.http.post(f"/complaints/{cid}/pause", headers=auth("front_seat"), json={"reason": "lunch"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "reason"]
    assert "waiting_for_customer" in unknown.json()["detail"][0]["msg"]

    not_paused = await stack.http.post(f"/complaints/{cid}/resume", headers=auth("front_seat"), json={})
    assert not_paused.status_code == 409 and "not paused" in not_paused.text

    auditor = await stack.http.post(f"/complaints/{cid}/pause", headers=auth("auditor"),
                                    json={"reason": "waiting_for_customer"})
    assert auditor.status_code == 403


async def test_a_pause_and_its_resumption_are_on_the_timeline_with_its_length(
        api_desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = api_desk
    cid = (await file(stack))["complaint_id"]
    paused = await stack.http.post(f"/complaints/{cid}/pause", headers=auth("front_seat"),
                                   json={"reason": "waiting_for_third_party", "note": "the sender's bank"})
    assert paused.status_code == 200, paused.text
    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert all(c["paused_at"] is not None for c in detail["clocks"] if c["met_at"] is None and c["overdue_at"] is None)
    dashboard = (await stack.http.get("/dashboard", headers=auth("supervisor"))).text
    assert '<span class="n" id="paused-total">1</span>' in dashboard  # this complaint, waiting on its third party

    await stack.env.sleep(timedelta(minutes=90))
    resumed = await stack.http.post(f"/complaints/{cid}/resume", headers=auth("front_seat"), json={"note": "answered"})
    assert resumed.status_code == 200, resumed.text
    timeline = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["timeline"]
    row = next(e for e in timeline if e["action"] == "resume_clocks")
    # 90 minutes of test time skipped between the two calls (a few seconds of wall clock besides).
    assert 90 <= row["detail"]["length_minutes"] <= 91
    assert row["detail"]["reason"] == "waiting_for_third_party" and row["actor_role"] == Role.FRONT_SEAT.value


async def test_a_dispatch_pause_moves_its_due_instant_and_its_ladder(api_desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = api_desk
    monday = await plain_monday(stack.env)
    _, did = await direct_dispatch_monday_0900(stack)
    # A direct dispatch to Tianhe (7 × 10) raised Monday 09:00: due 11:00; its ladder's one rung (the
    # Guangzhou director, 2 working hours on gd-gz's office calendar) answers by 13:00.
    assert near(local((await dispatch(stack, did))["due"]), monday.replace(hour=11))

    await skip_to(stack.env, monday.replace(hour=10, minute=30))
    paused = await stack.http.post(f"/dispatches/{did}/pause", headers=auth("production_unit"),
                                   json={"reason": "waiting_for_customer"})
    assert paused.status_code == 200, paused.text
    # 8 working hours on Tianhe's 7 × 10 from Monday 10:30: 10:30–18:00, Tuesday 08:00–08:30.
    tuesday = monday + timedelta(days=1)
    assert near(local(paused.json()["pause_ends_by"]), tuesday.replace(hour=8, minute=30))

    await skip_to(stack.env, monday.replace(hour=17))  # past 11:00: no escalation while paused
    resumed = await stack.http.post(f"/dispatches/{did}/resume", headers=auth("production_unit"), json={})
    assert resumed.status_code == 200, resumed.text
    # 30 working minutes were left at 10:30; from Monday 17:00 → due Monday 17:30.
    assert near(local(resumed.json()["due"]), monday.replace(hour=17, minute=30))
    assert resumed.json()["paused_at"] is None
    events = (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]
    assert [e["action"] for e in events if e["action"] == "escalate"] == []
    resume = next(e for e in events if e["action"] == "resume_clock")
    # The rung counted from the new due instant: Monday 17:30 + 2 working hours on Guangzhou's office
    # calendar (17:30–18:00, Tuesday 08:00–09:30) → Tuesday 09:30 (it was Monday 13:00).
    shown = resume["detail"]["escalations"][0]["answer_by"]
    answer_by = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    assert abs(answer_by - tuesday.replace(hour=9, minute=30)) <= timedelta(minutes=1)  # shown to the minute
    assert resume["detail"]["length_minutes"] in (389, 390)  # 10:30 → 17:00 (the skips land a few ms early)

    await skip_to(stack.env, monday.replace(hour=17, minute=31))
    escalated = await eventually_escalated(stack, did)
    assert near(local(escalated["at"]), monday.replace(hour=17, minute=30))


async def test_a_dispatch_answered_while_paused_is_in_time_and_an_overdue_one_cannot_pause(
        api_desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = api_desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    paused_one, late_one = await raise_(stack, cid, "gd-gz-tianhe"), await raise_(stack, cid, "gd-gz-tianhe")
    await dispatch(stack, paused_one), await dispatch(stack, late_one)  # both due 11:00
    await skip_to(stack.env, monday.replace(hour=10))
    elsewhere = await stack.http.post(f"/dispatches/{paused_one}/pause", headers=auth("xihu_station"),
                                      json={"reason": "waiting_for_third_party"})
    assert elsewhere.status_code == 403 and "addressed to gd-gz-tianhe" in elsewhere.text  # Hangzhou's station
    assert (await stack.http.post(f"/dispatches/{paused_one}/pause", headers=auth("production_unit"),
                                  json={"reason": "waiting_for_third_party"})).status_code == 200

    await skip_to(stack.env, monday.replace(hour=12))
    overdue = await stack.http.post(f"/dispatches/{late_one}/pause", headers=auth("production_unit"),
                                    json={"reason": "waiting_for_customer"})
    assert overdue.status_code == 409 and "overdue" in overdue.text
    answer = await reply(stack, paused_one, GOOD_FINDING)
    # Paused at 10:00 with an hour left: the answer ends the pause at 12:00, due again 13:00, so in time.
    assert answer["dispatch"]["in_time"] is True and answer["dispatch"]["late_working_minutes"] == 0
    assert near(local(answer["dispatch"]["due"]), monday.replace(hour=13))
    events = (await stack.http.get(f"/dispatches/{paused_one}", headers=auth("auditor"))).json()["events"]
    assert [e["action"] for e in events][-2:] == ["resume_clock", "answer"]


async def eventually_escalated(stack: Stack, did: str) -> dict:
    async def found() -> dict | None:
        events = (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]
        return next((e for e in events if e["action"] == "escalate"), None)

    return await eventually(stack.env, found, "the moved ladder never climbed")

