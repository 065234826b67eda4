"""Urgent tickets (紧急工单, DOMAIN §4, §6, §11): the urgent-item group's review on the call centre's
7 × 10 calendar, a downgrade that makes a normal ticket in every respect (the normal ladder with
its key-city rung), a confirmed ticket's redispatch that is not reviewed again, and the front seat
that cannot skip the review. Through the API on the time-skipping server, texts through a real
HTTP gateway.

Calendars (policy): stations such as gd-gz-tianhe and the urgent-item group hq-urgent work 7 × 10
(every day 08:00–18:00); the Guangzhou (gd-gz), Guangdong (gd) and head-office (hq-cs) offices
work Mon–Fri 08:00–18:00 on the national calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules.actors import Actor, Role
from rules.calendar import WorkingCalendar
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import dispatch_terms
from rules.policy import load_policy
from settings import ROOT
from tests.conftest import Stack, auth
from tests.factories import urgent_body
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_clocks import timer_summaries
from tests.workflows.test_dispatches import (
    SHANGHAI, GOOD_FINDING, complaint_in_handling, desk, dispatch, ladder_texts, local, plain_monday, reply,
    skip_to,
)
from tests.waiting import eventually
from workflows.dispatch import DISPATCH_PATCHES, DispatchWorkflow
from workflows.dispatch_messages import DispatchOrder

__all__ = ["desk"]  # the fixture, shared with test_dispatches

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")


async def open_ticket(stack: Stack, cid: str, unit: str, **extra: object) -> str:
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": unit, "instruction": "Passport late: find it", **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["dispatch_id"]


async def review(stack: Stack, tid: str, confirm: bool) -> dict:
    resp = await stack.http.post(f"/dispatches/{tid}/review", headers=auth("urgent_group"),
                                 json={"confirm": confirm, "reason": "re-listened to the call"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def near(instant: datetime, want: datetime) -> bool:
    """The instant to the second: a clock starts when its request lands, a few ms after the skip."""
    return abs(instant - want) < timedelta(seconds=1)


async def events(stack: Stack, did: str) -> list[dict]:
    return (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]


def test_the_urgent_review_is_owed_on_the_call_centres_7x10_calendar_over_national_day() -> None:
    # The instant: raised Wed 2026-09-30 17:30, the eve of National Day. 1 working hour on
    # 7 × 10: 30 min until 18:00, 30 min from 08:00 on 1 October → 2026-10-01 08:30 (on the office
    # calendar it would be owed after the holiday week).
    name, spec = POLICY.calendar_of("hq-urgent")
    assert name == "production_unit"
    raised = datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    hours = timedelta(hours=POLICY.clocks.dispatch.urgent_review_hours)
    assert WorkingCalendar(spec).deadline(raised, hours) == datetime(2026, 10, 1, 8, 30, tzinfo=SHANGHAI)


async def test_a_review_late_over_national_day_texts_the_groups_head_on_1_october_at_0830(
    desk: tuple[Stack, SmsGateway]
) -> None:
    """The same eve a year on (the server's clock cannot go back): an urgent ticket raised Thu
    2027-09-30 17:30, its review owed 1 working hour later on 7 × 10 = Fri 2027-10-01 08:30, the
    group's head texted at that instant. Started as the complaint starts it (its order), since a
    complaint cannot be filed with a received time 10 months ahead of the wall clock."""
    stack, gateway = desk
    raised = datetime(2027, 9, 30, 17, 30, tzinfo=SHANGHAI)
    await skip_to(stack.env, raised)
    terms = dispatch_terms(POLICY, DispatchKind.TICKET, TicketPriority.URGENT, "gd")
    tid = "dispatch-C-NATIONAL-DAY-1"
    order = DispatchOrder(
        dispatch_id=tid, complaint_id="C-NATIONAL-DAY", kind=DispatchKind.TICKET, priority=TicketPriority.URGENT,
        unit="gd", instruction="Passport late: find it", raised_at=await stack.env.get_current_time(),
        raised_by=Actor(id="agent-wang", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre"),
        parent_workflow_id="complaint-C-NATIONAL-DAY", reply_checks=POLICY.reply_checks,
        built_with=list(DISPATCH_PATCHES), **dict(terms),
    )
    handle = await stack.env.client.start_workflow(DispatchWorkflow.run, order, id=tid,
                                                   task_queue=stack.settings.temporal_task_queue)
    await dispatch_row(stack, tid)

    due = datetime(2027, 10, 1, 8, 30, tzinfo=SHANGHAI)
    await skip_to(stack.env, due - timedelta(seconds=30))
    assert ladder_texts(stack, gateway) == []
    assert "urgent review due 2027-10-01 08:30" in await timer_summaries(handle)
    await skip_to(stack.env, due + timedelta(seconds=30))
    assert ladder_texts(stack, gateway) == ["+8610950001"]  # the urgent-item group's head
    ticket = (await stack.http.get(f"/dispatches/{tid}", headers=auth("auditor"))).json()
    assert ticket["status"] == "awaiting_review"


async def dispatch_row(stack: Stack, did: str) -> dict:
    async def shown() -> dict | None:
        resp = await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))
        return resp.json() if resp.status_code == 200 else None

    return await eventually(stack.env, shown, f"dispatch {did} never written")


async def test_a_downgraded_ticket_climbs_the_normal_ladder_through_the_key_city_director(
    desk: tuple[Stack, SmsGateway]
) -> None:
    stack, gateway = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack, urgent_body())
    await skip_to(stack.env, monday.replace(hour=9, minute=30))
    tid = await open_ticket(stack, cid, "gd-gz-tianhe")  # a station below the Guangzhou city office
    downgraded = await review(stack, tid, confirm=False)
    assert downgraded["priority"] == "normal"

    ticket = await dispatch(stack, tid)
    # 20 working hours on the station's 7 × 10 from Mon 09:30: 8.5 h Mon, 10 h Tue, 1.5 h Wed → Wed 09:30
    wednesday, thursday, friday = (monday + timedelta(days=d) for d in (2, 3, 4))
    assert near(local(ticket["due"]), wednesday.replace(hour=9, minute=30))
    await skip_to(stack.env, (monday + timedelta(days=4)).replace(hour=12))

    # The normal ladder, each rung on its office's Mon–Fri calendar from the end of the one before:
    # Guangzhou's director Wed 09:30 (+8 h → Wed 17:30), Guangdong's director Wed 17:30 (0.5 h Wed +
    # 7.5 h Thu → Thu 15:30), the vice-president Thu 15:30 (+2 h → Thu 17:30), head office Thu 17:30
    # (0.5 h Thu + 0.5 h Fri → Fri 08:30), after which the ladder is exhausted.
    timeline = await events(stack, tid)
    climbed = [(e["detail"]["notify"], e["detail"]["unit"], local(e["at"])) for e in timeline if e["action"] == "escalate"]
    expected = [
        ("director", "gd-gz", wednesday.replace(hour=9, minute=30)),
        ("director", "gd", wednesday.replace(hour=17, minute=30)),
        ("vice_president", "gd", thursday.replace(hour=15, minute=30)),
        ("head_office_cs", "hq-cs", thursday.replace(hour=17, minute=30)),
    ]
    assert [c[:2] for c in climbed] == [e[:2] for e in expected]
    assert all(near(at, want) for (_, _, at), (_, _, want) in zip(climbed, expected))
    exhausted = [e for e in timeline if e["action"] == "ladder_exhausted"]
    assert [e["detail"]["answer_by"] for e in exhausted] == [f"{friday.date()} 08:30"]
    assert near(local(exhausted[0]["at"]), friday.replace(hour=8, minute=30))
    # Nobody is texted at the downgrade; then Guangzhou's director, Guangdong's, the VP, head office.
    assert ladder_texts(stack, gateway) == ["+8613800000003", "+8613800000001", "+8613800000002", "+8610950000"]


async def reviewed_ticket_monday_0900(stack: Stack, unit: str, *, confirm: bool) -> tuple[datetime, str, str]:
    """An urgent complaint's ticket to `unit`, raised and reviewed Monday 09:00: (Monday, complaint, ticket)."""
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack, urgent_body())
    await skip_to(stack.env, monday.replace(hour=9))
    tid = await open_ticket(stack, cid, unit)
    await review(stack, tid, confirm=confirm)
    await dispatch(stack, tid)
    return monday, cid, tid


async def test_a_confirmed_urgent_tickets_redispatch_is_not_reviewed_again(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday, cid, tid = await reviewed_ticket_monday_0900(stack, "gd", confirm=True)
    await skip_to(stack.env, monday.replace(hour=9, minute=50))  # clear of the first-opinion clock's 10:00

    await reply(stack, tid, "邮件仍需跟进，请重派", role="regional_cs", still_following_up=True)

    again = await dispatch(stack, f"dispatch-{cid}-2")
    assert again["replaces"] == tid
    assert (again["status"], again["priority"]) == ("open", "urgent")  # no second review
    # its own fresh clock from Mon 09:50: 20 working hours on Guangdong's office calendar → Wed 09:50
    assert near(local(again["due"]), (monday + timedelta(days=2)).replace(hour=9, minute=50))
    assert [e["action"] for e in again["events"]][:2] == ["raise", "start_clock"]
    answered = await reply(stack, again["dispatch_id"], GOOD_FINDING, role="regional_cs")
    assert answered["outcome"] == "accepted"
    assert ladder_texts(stack, gateway) == ["+8613800000001"]  # the director, once, at the confirmation


async def test_a_downgraded_tickets_redispatch_is_a_normal_ticket_on_the_normal_ladder(
    desk: tuple[Stack, SmsGateway]
) -> None:
    stack, _ = desk
    _, cid, tid = await reviewed_ticket_monday_0900(stack, "gd-gz-tianhe", confirm=False)

    await reply(stack, tid, "邮件仍需跟进，请重派", still_following_up=True)

    again = await dispatch(stack, f"dispatch-{cid}-2")
    assert (again["status"], again["priority"]) == ("open", "normal")
    plan = next(e for e in again["events"] if e["action"] == "start_clock")["detail"]["escalations"]
    assert [(p["notify"], p["unit"]) for p in plan] == [
        ("director", "gd-gz"), ("director", "gd"), ("vice_president", "gd"), ("head_office_cs", "hq-cs")]


async def test_the_front_seat_cannot_open_an_urgent_complaints_ticket_as_normal(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid = await complaint_in_handling(stack, urgent_body())

    refused = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                    json={"assisting_unit": "gd", "instruction": "Passport late", "priority": "normal"})

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "priority"]
    listed = (await stack.http.get(f"/complaints/{cid}/dispatches", headers=auth("auditor"))).json()
    assert listed == []  # nothing was raised
    tid = await open_ticket(stack, cid, "gd")  # without a priority: urgent, and reviewed first
    assert (await dispatch_row(stack, tid))["status"] == "awaiting_review"
