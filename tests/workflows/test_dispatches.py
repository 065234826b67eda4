"""Dispatches, tickets, reply checks and escalation ladders (DOMAIN §4, §6), through the API on the
time-skipping server, with instants on the units' calendars and texts through a real HTTP gateway.

Stations (gd-gz-tianhe, gd-gz-…) work 7 × 10; the Guangdong office (gd) works Mon–Fri 8–18 on
the national calendar. Each test starts on a plain week's Monday (no holiday, no 调休 near it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from notifications.directory import Directory
from readmodel.outbox import Outbox
from readmodel.tables import OutboxRow
from rules.calendar import WorkingCalendar
from rules.escalation import resolve_ladder
from rules.policy import load_policy
from settings import ROOT
from tests.api.test_complaint_lifecycle import act, file
from tests.protection.keys import DATA_CONVERTER
from tests.conftest import TEST_SERVER, Stack, auth, register_search_attributes, running_stack
from tests.factories import complaint_body, urgent_body
from tests.notifications.receivers import SmsGateway, running_gateway
from tests.workflows.test_clocks import timer_summaries
from tests.waiting import eventually
from workflows import notices
from workflows.case import CaseSearch

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = WorkingCalendar(load_policy(ROOT / "policies" / "express_carrier.yaml").calendars["office"])


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[tuple[Stack, SmsGateway]]:
    # A time-skipping server of its own: the Java test server can stall time skipping after
    # child workflows of an earlier test were terminated, so these tests do not share one.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER
    )
    try:
        await register_search_attributes(env.client)
        with running_gateway() as gateway:
            async with running_stack(env, tmp_path, sms_gateway_url=gateway.url) as stack:
                yield stack, gateway
    finally:
        await env.shutdown()


def ladder_texts(stack: Stack, gateway: SmsGateway) -> list[str]:
    """The phones texted about dispatches (ladders, reviews, confirmations), in the order texted: the
    customer's progress texts and the missed-clock notices of the complaint run beside them, and the
    warnings before a dispatch's due instant are tested on their own (test_warnings.py)."""
    with Session(stack.read_model.engine) as session:
        keys = {r.id for r in session.exec(select(OutboxRow).where(OutboxRow.case_id.startswith("dispatch-")))  # type: ignore[attr-defined]
                if not r.step.startswith("warning-")}
    return [m["to"] for m in gateway.handset if m["reference"] in keys]


async def plain_monday(env: WorkflowEnvironment) -> datetime:
    day = (await env.get_current_time()).astimezone(SHANGHAI).date() + timedelta(days=1)
    while not (day.weekday() == 0 and all(OFFICE.is_working_day(day + timedelta(d)) for d in range(5))
               and not OFFICE.is_working_day(day - timedelta(1))):
        day += timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI)


async def skip_to(env: WorkflowEnvironment, instant: datetime) -> None:
    await env.sleep(instant - await env.get_current_time())


async def complaint_in_handling(stack: Stack, body: dict | None = None) -> str:
    cid = (await file(stack, body or complaint_body()))["complaint_id"]
    await act(stack, cid, "handling", {"note": "investigating"})
    return cid


async def raise_(stack: Stack, cid: str, unit: str, kind: str = "direct_dispatch", role: str = "front_seat") -> str:
    resp = await stack.http.post(f"/complaints/{cid}/dispatches", headers=auth(role),
                                 json={"kind": kind, "unit": unit, "instruction": "Check the scan records and call the customer"})
    assert resp.status_code == 201, resp.text
    return resp.json()["dispatch_id"]


async def reply(stack: Stack, dispatch_id: str, finding: str, role: str = "production_unit", **extra: object) -> dict:
    resp = await stack.http.post(f"/dispatches/{dispatch_id}/reply", headers=auth(role), json={"finding": finding, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def dispatch(stack: Stack, dispatch_id: str) -> dict:
    async def shown() -> dict | None:  # the child writes its first rows in its first workflow task
        resp = await stack.http.get(f"/dispatches/{dispatch_id}", headers=auth("auditor"))
        return resp.json() if resp.status_code == 200 and resp.json()["due"] is not None else None

    return await eventually(stack.env, shown, f"dispatch {dispatch_id} never got its clock")


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(SHANGHAI)


async def direct_dispatch_monday_0900(stack: Stack) -> tuple[str, str]:
    """A complaint in handling and a direct dispatch to the Tianhe station raised Monday 09:00."""
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    did = await raise_(stack, cid, "gd-gz-tianhe")
    await dispatch(stack, did)
    return cid, did


GOOD_FINDING = "The courier missed the Monday route; the parcel is redelivered today by 16:00."


async def test_a_direct_dispatch_answered_in_time(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    did = await raise_(stack, cid, "gd-gz-tianhe")

    assert did == f"dispatch-{cid}-1"
    opened = await dispatch(stack, did)
    assert abs(local(opened["due"]) - monday.replace(hour=11)) < timedelta(seconds=1)  # 2 working hours

    await skip_to(stack.env, monday.replace(hour=10))
    answer = await reply(stack, did, GOOD_FINDING, failing_link="delivery")

    assert answer["outcome"] == "accepted"
    assert answer["dispatch"]["in_time"] is True and answer["dispatch"]["late_working_minutes"] == 0
    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert detail["one_time_resolution"] is True


async def test_a_late_answer_is_late_by_working_minutes_and_the_level_above_was_told(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=17))
    did = await raise_(stack, cid, "gd-gz-tianhe")
    # 17:00 + 2 working hours on 7 × 10: one hour today, one tomorrow from 08:00
    assert abs(local((await dispatch(stack, did))["due"]) - (monday + timedelta(days=1)).replace(hour=9)) < timedelta(seconds=1)

    await skip_to(stack.env, (monday + timedelta(days=1)).replace(hour=9, minute=45))
    answer = await reply(stack, did, GOOD_FINDING)

    assert answer["dispatch"]["in_time"] is False
    assert answer["dispatch"]["late_working_minutes"] == 45
    assert ladder_texts(stack, gateway) == ["+8613800000003"]  # Guangzhou's director: the level above
    events = (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]
    escalation = next(e for e in events if e["action"] == "escalate")
    assert abs(local(escalation["at"]) - (monday + timedelta(days=1)).replace(hour=9)) < timedelta(seconds=1)


async def test_three_linked_dispatches_run_in_parallel_on_the_check_windows(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9, minute=30))
    ids = [await raise_(stack, cid, unit, kind="linked_dispatch", role="regional_cs")
           for unit in ("gd-gz-tianhe", "gd-sz-nanshan", "zj-hz-xihu")]

    dues = [local((await dispatch(stack, d))["due"]) for d in ids]
    assert all(abs(d - monday.replace(hour=12)) < timedelta(seconds=1) for d in dues)  # arrived 8–10 → 12:00
    inbox = (await stack.http.get("/units/gd-sz-nanshan/inbox", headers=auth("auditor"))).json()
    assert [d["dispatch_id"] for d in inbox] == [ids[1]]

    forbidden = await stack.http.post(f"/dispatches/{ids[2]}/reply", headers=auth("regional_cs"), json={"finding": GOOD_FINDING})
    assert forbidden.status_code == 403  # Guangdong may not answer for a Hangzhou station
    await reply(stack, ids[0], GOOD_FINDING, role="production_unit")  # the station itself
    await reply(stack, ids[1], GOOD_FINDING, role="regional_cs")  # Guangdong, above the Shenzhen station
    await reply(stack, ids[2], GOOD_FINDING, role="xihu_station")
    detail = await wait_for_complaint(
        stack, cid, lambda d: sum(e["action"] == "dispatch_finished" for e in d["timeline"]) == 3)
    finished = [e for e in detail["timeline"] if e["action"] == "dispatch_finished"]
    assert sorted(e["detail"]["dispatch_id"] for e in finished) == sorted(ids)


async def test_a_non_answer_is_returned_counted_and_the_clock_keeps_running(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid, did = await direct_dispatch_monday_0900(stack)

    returned = await reply(stack, did, "正在处理")
    delivered_without_proof = await reply(stack, did, "The parcel was delivered on Monday at 15:00 to the door.")

    assert returned["outcome"] == "returned" and "non-answer" in returned["reason"]
    assert delivered_without_proof["outcome"] == "returned" and "proof of delivery" in delivered_without_proof["reason"]
    assert delivered_without_proof["dispatch"]["status"] == "open" and delivered_without_proof["dispatch"]["returns"] == 2
    accepted = await reply(stack, did, "The parcel was delivered on Monday at 15:00 to the door.",
                           evidence=[{"kind": "signature", "reference": "pod://sig/123"}])
    assert accepted["outcome"] == "accepted" and accepted["dispatch"]["in_time"] is True
    again = await stack.http.post(f"/dispatches/{did}/reply", headers=auth("production_unit"), json={"finding": GOOD_FINDING})
    assert again.status_code == 409  # a dispatch cannot be answered twice
    detail = await wait_for_complaint(stack, cid, lambda d: any(e["action"] == "dispatch_finished" for e in d["timeline"]))
    assert detail["one_time_resolution"] is False  # a returned reply: not resolved at the first go


async def test_still_following_up_redispatches_and_the_case_is_not_one_time_resolved(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid, did = await direct_dispatch_monday_0900(stack)

    answer = await reply(stack, did, "邮件仍需跟进，请重派", still_following_up=True)

    assert answer["outcome"] == "redispatch" and answer["dispatch"]["status"] == "redispatched"
    second = await dispatch(stack, f"dispatch-{cid}-2")
    assert second["replaces"] == did and second["status"] == "open"
    detail = await wait_for_complaint(stack, cid, lambda d: not d["one_time_resolution"])
    assert detail["one_time_resolution"] is False


async def test_an_unanswered_urgent_ticket_climbs_the_ladder_at_the_exact_instants(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack, urgent_body())
    await skip_to(stack.env, monday.replace(hour=8, minute=30))
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Passport lost in transit: find it"})
    assert resp.status_code == 201, resp.text
    tid = resp.json()["dispatch_id"]
    await skip_to(stack.env, monday.replace(hour=9))
    review = await stack.http.post(f"/dispatches/{tid}/review", headers=auth("urgent_group"),
                                   json={"confirm": True, "reason": "re-listened: passport inside"})
    assert review.status_code == 200, review.text
    ticket = await dispatch(stack, tid)
    wednesday_0900 = (monday + timedelta(days=2)).replace(hour=9)  # 20 working hours on the office calendar
    assert abs(local(ticket["due"]) - wednesday_0900) < timedelta(seconds=1)

    await skip_to(stack.env, (monday + timedelta(days=3)).replace(hour=12))
    events = (await stack.http.get(f"/dispatches/{tid}", headers=auth("auditor"))).json()["events"]
    steps = [(e["detail"]["notify"], local(e["at"])) for e in events if e["action"] == "escalate"]
    expected = [
        ("director", wednesday_0900),
        ("vice_president", wednesday_0900.replace(hour=17)),  # 8 working hours later
        ("head_office_cs", (monday + timedelta(days=3)).replace(hour=9)),  # 2 working hours later
    ]
    assert [s[0] for s in steps] == [e[0] for e in expected]
    assert all(abs(at - want) < timedelta(seconds=1) for (_, at), (_, want) in zip(steps, expected))
    # the whole ladder was worked out when the clock started, each rung from the one before
    plan = next(e for e in events if e["action"] == "start_clock")["detail"]["escalations"]
    thursday = (monday + timedelta(days=3)).date()
    assert [(p["notify"], p["answer_by"]) for p in plan] == [
        ("director", f"{wednesday_0900.date()} 17:00"), ("vice_president", f"{thursday} 09:00"),
        ("head_office_cs", f"{thursday} 10:00"),
    ]
    # the director was texted at once on confirmation, then each rung in turn
    assert ladder_texts(stack, gateway) == ["+8613800000001", "+8613800000001", "+8613800000002", "+8610950000"]
    in_flight = (await stack.http.get("/escalations", headers=auth("supervisor"))).json()
    assert [(d["dispatch_id"], d["escalation_level"]) for d in in_flight] == [(tid, 3)]


async def test_an_answer_after_the_director_step_stops_the_ladder(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Find the failing link"})
    tid = resp.json()["dispatch_id"]
    await dispatch(stack, tid)
    await skip_to(stack.env, (monday + timedelta(days=2)).replace(hour=10))  # past due, director told at 09:00

    answer = await reply(stack, tid, GOOD_FINDING, role="regional_cs", failing_link="Tianhe station sorting")
    await skip_to(stack.env, (monday + timedelta(days=4)).replace(hour=12))

    assert answer["dispatch"]["escalation_level"] == 1
    assert answer["dispatch"]["late_working_minutes"] == 60
    assert ladder_texts(stack, gateway) == ["+8613800000001"]  # nobody above the director was texted


async def wait_for_complaint(stack: Stack, cid: str, ready) -> dict:  # type: ignore[no-untyped-def]
    async def shown() -> dict | None:
        detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
        return detail if ready(detail) else None

    return await eventually(stack.env, shown, "the complaint never reached the expected state")


async def test_closing_the_complaint_cancels_its_open_dispatches(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid, did = await direct_dispatch_monday_0900(stack)

    closed = await stack.http.post(f"/complaints/{cid}/unresolvable-closure", headers=auth("supervisor"),
                                   json={"reason": "customer withdrew the complaint"})
    assert closed.status_code == 200, closed.text
    await stack.env.client.get_workflow_handle(f"complaint-{cid}").result()

    cancelled = await dispatch(stack, did)
    assert cancelled["status"] == "cancelled"
    late = await stack.http.post(f"/dispatches/{did}/reply", headers=auth("production_unit"), json={"finding": GOOD_FINDING})
    assert late.status_code == 409


async def test_the_ladder_shows_in_the_web_ui_as_named_timers(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    tid = (await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Find the failing link"})).json()["dispatch_id"]
    await dispatch(stack, tid)
    await skip_to(stack.env, (monday + timedelta(days=2)).replace(hour=9, minute=30))

    handle = stack.env.client.get_workflow_handle(tid)
    summaries = [s for s in await timer_summaries(handle) if not s.startswith("warn ")]  # warnings: test_warnings.py
    wednesday = (monday + timedelta(days=2)).date()
    assert summaries[:2] == [
        f"ticket reply due {wednesday} 09:00",
        f"escalate to vice president at {wednesday} 17:00",  # the director was told at 09:00
    ]
    level = (await handle.describe()).typed_search_attributes.get(CaseSearch.ESCALATION_LEVEL)
    assert level == 1


async def test_an_urgent_ticket_downgraded_becomes_a_normal_ticket_with_the_reason(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack, urgent_body())
    await skip_to(stack.env, monday.replace(hour=9))
    tid = (await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Passport late"})).json()["dispatch_id"]

    review = await stack.http.post(f"/dispatches/{tid}/review", headers=auth("urgent_group"),
                                   json={"confirm": False, "reason": "re-listened: only a photocopy inside"})

    assert review.status_code == 200, review.text
    ticket = await dispatch(stack, tid)
    assert ticket["priority"] == "normal" and ticket["status"] == "open"
    downgrade = next(e for e in ticket["events"] if e["action"] == "downgrade")
    assert downgrade["detail"] == {"reason": "re-listened: only a photocopy inside"}
    assert ladder_texts(stack, gateway) == []  # nobody is texted for a downgraded ticket
    again = await stack.http.post(f"/dispatches/{tid}/review", headers=auth("urgent_group"), json={"confirm": True, "reason": "x"})
    assert again.status_code == 409


async def test_a_late_urgent_review_notifies_the_groups_head(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack, urgent_body())
    await skip_to(stack.env, monday.replace(hour=9))
    tid = (await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Passport late"})).json()["dispatch_id"]

    await skip_to(stack.env, monday.replace(hour=10, minute=5))  # review due 10:00 (1 working hour)

    assert ladder_texts(stack, gateway) == ["+8610950001"]  # the urgent-item group's head
    ticket = (await stack.http.get(f"/dispatches/{tid}", headers=auth("auditor"))).json()
    assert ticket["status"] == "awaiting_review" and ticket["due"] is None  # the ticket clock waits for the review


async def test_an_inbox_lists_open_dispatches_by_due_instant(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    # Each raise comes 7 s past the round minute: the test server refuses a task that takes an update
    # as a timer fires ("invalid history builder state"), and the timers the earlier raises set (first
    # opinion, warning, ladder rungs) fall due on round minutes; on the round minutes this test
    # failed at some wall-clock times of day (the complaint's own clocks run from the wall clock).
    await skip_to(stack.env, monday.replace(hour=8, second=7))
    early = await raise_(stack, cid, "gd-gz-tianhe")  # due 10:00:07
    await dispatch(stack, early)
    # 09:10, not 09:00: the first dispatch's first-opinion clock falls due at 09:00:07
    await skip_to(stack.env, monday.replace(hour=9, minute=10, second=7))
    later = await raise_(stack, cid, "gd-gz-tianhe")  # due 11:10:07
    await dispatch(stack, later)
    await skip_to(stack.env, monday.replace(hour=10, minute=30, second=7))
    newest = await raise_(stack, cid, "gd-gz-tianhe")  # due 12:30:07
    await dispatch(stack, newest)

    # Wall-clock "now" decides what is overdue in the inbox; the test server's clock runs ahead of it,
    # so every dispatch here is due in the real future: the order is by due instant.
    inbox = (await stack.http.get("/units/gd-gz-tianhe/inbox", headers=auth("production_unit"))).json()
    assert [d["dispatch_id"] for d in inbox] == [early, later, newest]


async def test_an_overdue_notice_the_gateway_refuses_for_long_is_handed_to_the_notify_activity(
    desk: tuple[Stack, SmsGateway]
) -> None:
    """The notice goes out in the workflow task first (a local activity); with the gateway still
    answering 503 after its quick attempts, the notify activity takes over with its long retries,
    and the director gets one text, every attempt under the one idempotency key."""
    stack, gateway = desk
    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    step = resolve_ladder(policy, "overdue_dispatch", "gd-gz-tianhe")[0]
    director = Directory.from_policy_data(policy.directory, policy).holders(step.role, step.unit)[0].phone
    cid, did = await direct_dispatch_monday_0900(stack)
    in_task = notices.NOTIFY_IN_TASK_RETRY.maximum_attempts
    gateway.busy_for[director] = in_task + 1  # every in-task attempt, then the activity's first

    monday = await plain_monday(stack.env)
    await skip_to(stack.env, monday.replace(hour=11, minute=1))  # due 11:00 (2 working hours)
    # The in-task attempts' backoffs (1 s, 2 s) and the activity's first (1 s) run on real clocks
    # while a task is out: wait for the text (bounded), there is no time to skip.
    for _ in range(300):
        if any(m["to"] == director for m in gateway.handset):
            break
        await asyncio.sleep(0.1)

    to_director = [r for r in gateway.requests if r.body["to"] == director]
    assert [m["to"] for m in gateway.handset].count(director) == 1
    assert len(to_director) == in_task + 2 and len({r.idempotency_key for r in to_director}) == 1
    history = await stack.env.client.get_workflow_handle(did).fetch_history()
    kinds = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_MARKER_RECORDED in kinds  # the local attempts, recorded as failed
    assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] == ["notify"]
    rows = [r for r in Outbox(stack.read_model.engine).list_for_case(did)
            if r.channel == "sms" and not r.step.startswith("warning-")]  # the warning before: test_warnings.py
    assert [(r.step, r.status) for r in rows] == [("escalation-1-director", "delivered")]
