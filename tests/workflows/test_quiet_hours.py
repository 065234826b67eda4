"""Quiet hours for notices (issue #16): a rung of a ladder that falls due at midnight is held to the
addressed unit's next opening for a normal ticket (a durable timer, named in the Web UI), sent at
once for an urgent one, and dropped, recorded, when the ticket is answered while it waits. On the
time-skipping server, texts through a real HTTP SMS gateway that records every request.

The policy is the shipped one with one change: the Tianhe station (gd-gz-tianhe) works round the
clock (24 × 7), so a ticket's 20 working hours from Monday 04:00 end at Tuesday 00:00. The
directors it escalates to work the office calendar: Guangzhou city (gd-gz, the normal ladder's
first rung) and Guangdong province (gd, the urgent ladder's) Mon–Fri 08:00–18:00.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from rules.actors import Actor, Role
from rules.dispatch import DispatchKind, TicketPriority
from rules.escalation import dispatch_terms
from rules.intake import ComplaintIntake
from rules.policy import load_policy
from rules.reply_checks import Reply
from settings import ROOT
from tests.conftest import TEST_SERVER, Stack, auth, register_search_attributes, running_stack
from tests.factories import urgent_body
from tests.notifications.receivers import SmsGateway, running_gateway
from tests.protection.keys import DATA_CONVERTER
from tests.workflows.test_clocks import timer_summaries
from tests.workflows.test_customer_clocks import CareDesk, care_desk
from tests.workflows.test_dispatches import GOOD_FINDING, SHANGHAI, local, plain_monday, skip_to
from tests.waiting import eventually
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import CloseUnresolvable
from workflows.dispatch import DISPATCH_PATCHES, DispatchWorkflow
from workflows.dispatch_messages import DispatchOrder, ReplyToDispatch

GZ_DIRECTOR_PHONE = "+8613800000003"  # 何静, director of gd-gz: the normal ladder's first rung
GD_DIRECTOR_PHONE = "+8613800000001"  # 王强, director of gd: the urgent ladder's first rung
# An event lands a moment after the instant it is due at: the fired timer's task runs after the skip.
SKIP_SLACK = timedelta(seconds=5)
STATION = Actor(id="tianhe-liu", name="Liu Yang", role=Role.PRODUCTION_UNIT, unit="gd-gz-tianhe")


@pytest.fixture
async def night_desk(tmp_path: Path) -> AsyncIterator[tuple[Stack, SmsGateway]]:
    data = yaml.safe_load((ROOT / "policies" / "express_carrier.yaml").read_text(encoding="utf-8"))
    data["units"]["gd-gz-tianhe"]["calendar"] = "round_the_clock"
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER)
    try:
        await register_search_attributes(env.client)
        with running_gateway() as gateway:
            async with running_stack(env, tmp_path, sms_gateway_url=gateway.url, policy_file=policy_file) as stack:
                yield stack, gateway
    finally:
        await env.shutdown()


async def ticket_raised_monday_0400(stack: Stack, priority: TicketPriority, name: str) -> tuple[WorkflowHandle, datetime]:
    """A ticket to the station, raised Monday 04:00 (an urgent one already reviewed), started as the
    complaint starts it (its order, case level 2): due 20 working hours later on 24 × 7, Tuesday 00:00."""
    monday = await plain_monday(stack.env)
    await skip_to(stack.env, monday.replace(hour=4))
    policy = load_policy(stack.settings.policy_file)
    terms = dispatch_terms(policy, DispatchKind.TICKET, priority, "gd-gz-tianhe")
    did = f"dispatch-C-NIGHT-{name}-1"
    order = DispatchOrder(
        dispatch_id=did, complaint_id=f"C-NIGHT-{name}", kind=DispatchKind.TICKET, priority=priority,
        unit="gd-gz-tianhe", instruction="Parcel stuck at the station: find it", raised_at=await stack.env.get_current_time(),
        raised_by=Actor(id="agent-wang", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre"),
        parent_workflow_id=f"complaint-C-NIGHT-{name}", reply_checks=policy.reply_checks, level=2,
        reviewed=priority is TicketPriority.URGENT, built_with=list(DISPATCH_PATCHES), **dict(terms),
    )
    handle = await stack.env.client.start_workflow(DispatchWorkflow.run, order, id=did,
                                                   task_queue=stack.settings.temporal_task_queue)

    async def clocked() -> dict | None:
        resp = await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))
        return resp.json() if resp.status_code == 200 and resp.json()["due"] else None

    ticket = await eventually(stack.env, clocked, f"{did} never got its clock")
    tuesday = monday + timedelta(days=1)
    # 20 h on 24 × 7 from its raising (Monday 04:00, plus whatever the test server's clock ran on in
    # real time before the start: the raising's own instant is the start, not the 04:00 skipped to)
    assert abs(local(ticket["due"]) - local(order.raised_at.isoformat()) - timedelta(hours=20)) < timedelta(seconds=1)
    return handle, tuesday


async def events(stack: Stack, did: str) -> list[dict]:
    return (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]


async def test_a_normal_tickets_midnight_escalation_is_held_to_0800(night_desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = night_desk
    handle, tuesday = await ticket_raised_monday_0400(stack, TicketPriority.NORMAL, "NORMAL")

    # Tuesday 00:00: the ladder's first rung, Guangzhou's director, whose office opens at 08:00.
    await skip_to(stack.env, tuesday + timedelta(minutes=1))
    await eventually(stack.env, lambda: _held(stack, handle.id), "the rung was never held")
    assert f"hold text to director of gd-gz until {tuesday:%Y-%m-%d} 08:00" in await timer_summaries(handle)
    await skip_to(stack.env, tuesday.replace(hour=7, minute=59))
    assert gateway.texts_to(GZ_DIRECTOR_PHONE) == []

    await skip_to(stack.env, tuesday.replace(hour=8, minute=1))
    await eventually(stack.env, lambda: len(gateway.texts_to(GZ_DIRECTOR_PHONE)) == 1, "the held text never went")
    timeline = await events(stack, handle.id)
    escalate = next(e for e in timeline if e["action"] == "escalate")
    # The rung is owed from midnight all the same: 8 working hours on gd-gz's office calendar from
    # Tuesday 00:00 count from the 08:00 opening → Tuesday 16:00.
    assert abs(local(escalate["at"]) - tuesday) < SKIP_SLACK
    assert escalate["detail"]["answer_by"] == f"{tuesday:%Y-%m-%d} 16:00"
    held = [(e["action"], local(e["at"]).replace(second=0, microsecond=0)) for e in timeline
            if e["action"] in ("hold_notice", "held_notice_sent")]
    assert held == [("hold_notice", tuesday), ("held_notice_sent", tuesday.replace(hour=8))]
    assert len(gateway.requests_to(GZ_DIRECTOR_PHONE)) == 1  # sent once, not at midnight and again at 08:00


async def test_an_urgent_tickets_midnight_escalation_is_sent_at_once(night_desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = night_desk
    handle, tuesday = await ticket_raised_monday_0400(stack, TicketPriority.URGENT, "URGENT")

    # Tuesday 00:00: the urgent ladder's first rung, Guangdong's director, texted at midnight.
    await skip_to(stack.env, tuesday + timedelta(seconds=30))
    await eventually(stack.env, lambda: len(gateway.texts_to(GD_DIRECTOR_PHONE)) == 1, "no text at midnight")
    assert await stack.env.get_current_time() < tuesday + timedelta(minutes=1)
    assert not any(s.startswith("hold text") for s in await timer_summaries(handle))
    assert not [e for e in await events(stack, handle.id) if e["action"] == "hold_notice"]


async def test_a_held_escalation_made_moot_by_the_answer_is_not_sent(night_desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = night_desk
    handle, tuesday = await ticket_raised_monday_0400(stack, TicketPriority.NORMAL, "MOOT")
    await skip_to(stack.env, tuesday + timedelta(minutes=1))
    await eventually(stack.env, lambda: _held(stack, handle.id), "the rung was never held")

    # The station answers at 03:00, while the director's text waits for 08:00.
    await skip_to(stack.env, tuesday.replace(hour=3))
    await handle.execute_update(DispatchWorkflow.reply, ReplyToDispatch(
        actor=STATION, reply=Reply(finding=GOOD_FINDING, failing_link="delivery")))
    await skip_to(stack.env, tuesday.replace(hour=9))
    assert gateway.texts_to(GZ_DIRECTOR_PHONE) == []
    assert gateway.requests_to(GZ_DIRECTOR_PHONE) == []
    skipped = [e for e in await events(stack, handle.id) if e["action"] == "notice_not_sent"]
    assert [(e["detail"]["notify"], e["detail"]["unit"], e["detail"]["reason"]) for e in skipped] == [
        ("director", "gd-gz", "dispatch answered")]
    assert abs(local(skipped[0]["at"]) - tuesday.replace(hour=3)) < SKIP_SLACK


def _held(stack: Stack, did: str) -> bool:
    found = stack.read_model.dispatches.get(did)
    return found is not None and any(e.action == "hold_notice" for e in found[1])


# -- a complaint's own notices ----------------------------------------------------------------
#
# The shipped policy with one change: Guangdong's office (gd), the lead office, keeps a night desk
# (24 × 7). A delay complaint received Monday 22:00 owes its first contact 120 minutes later,
# Tuesday 00:00 (75 % warning at 23:30), and its solution 4 hours later, Tuesday 02:00 (warning at
# 01:00). The warnings go to gd's supervisor, who works now: at once. Each miss goes to the
# supervisor of the unit above gd, head office (hq), on the office calendar, which opens 08:00.

HQ_SUPERVISOR_PHONE = "+8610950005"  # 总部值班主管: the level above gd hears of its missed clocks
GD_SUPERVISOR_PHONE = "+8613800000011"  # 林芳, supervisor of gd: the clocks' warnings
SUPERVISOR = Actor(id="gd-sup", name="Lin Fang", role=Role.SUPERVISOR, unit="gd")


def timeline(office: CareDesk, handle: WorkflowHandle) -> list[tuple[str, dict, datetime]]:
    found = office.read_model.complaints.get(handle.id.removeprefix("complaint-"))
    return [] if found is None else [(e.action, e.detail or {}, e.at.astimezone(SHANGHAI)) for e in found[1]]


def held(office: CareDesk, handle: WorkflowHandle) -> list[tuple[str, str, datetime]]:
    """The quiet-hours events on the complaint's timeline: action, occasion, instant to the minute."""
    return [(a, d["occasion"], at.replace(second=0, microsecond=0)) for a, d, at in timeline(office, handle)
            if a in ("hold_notice", "held_notice_sent", "notice_not_sent")]


@pytest.fixture
async def night_office(tmp_path: Path) -> AsyncIterator[CareDesk]:
    data = yaml.safe_load((ROOT / "policies" / "express_carrier.yaml").read_text(encoding="utf-8"))
    data["units"]["gd"]["calendar"] = "round_the_clock"
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    async with care_desk(tmp_path, policy_file) as office:
        yield office


async def test_a_complaints_night_misses_are_held_to_0800_its_warnings_sent_at_once(night_office: CareDesk) -> None:
    office = night_office
    handle = await office.file(office.at(0, 22))
    opening = office.at(1, 8)

    await skip_to(office.env, office.at(1, 2, 1))
    await eventually(office.env, lambda: len(held(office, handle)) == 2, "the misses were never held")
    assert len(office.gateway.texts_to(GD_SUPERVISOR_PHONE)) == 2  # the warnings at 23:30 and 01:00
    summaries = await timer_summaries(handle)
    assert summaries.count(f"hold text to supervisor above gd until {opening:%Y-%m-%d} 08:00") == 2
    await skip_to(office.env, office.at(1, 7, 59))
    assert office.gateway.requests_to(HQ_SUPERVISOR_PHONE) == []

    await skip_to(office.env, office.at(1, 8, 1))
    await eventually(office.env, lambda: len(office.gateway.texts_to(HQ_SUPERVISOR_PHONE)) == 2, "the held misses never went")
    found = held(office, handle)
    assert found[:2] == [("hold_notice", "first_contact-0-overdue", office.at(1, 0)),
                        ("hold_notice", "solution-0-overdue", office.at(1, 2))]
    assert sorted(found[2:]) == [("held_notice_sent", "first_contact-0-overdue", opening),  # both at 08:00,
                                ("held_notice_sent", "solution-0-overdue", opening)]  # in either order
    assert len(office.gateway.requests_to(HQ_SUPERVISOR_PHONE)) == 2  # each once: not at night and again at 08:00


async def test_an_urgent_complaints_night_miss_goes_at_once(night_office: CareDesk) -> None:
    office = night_office
    handle = await office.file(office.at(0, 22), **urgent_intake())

    await skip_to(office.env, office.at(1, 0, 1))
    await eventually(office.env, lambda: len(office.gateway.texts_to(HQ_SUPERVISOR_PHONE)) == 1, "no text at midnight")
    assert held(office, handle) == []
    assert not any(s.startswith("hold text") for s in await timer_summaries(handle))


async def test_held_misses_made_moot_by_the_closing_are_not_sent(night_office: CareDesk) -> None:
    office = night_office
    handle = await office.file(office.at(0, 22))
    await skip_to(office.env, office.at(1, 2, 1))
    await eventually(office.env, lambda: len(held(office, handle)) == 2, "the misses were never held")

    await skip_to(office.env, office.at(1, 3))  # the night supervisor closes it: the sender cannot be reached
    await handle.execute_update(ComplaintWorkflow.close_unresolvable,
                                CloseUnresolvable(actor=SUPERVISOR, reason="sender unreachable"))
    await handle.result()  # a closed complaint ends once its notices are settled
    not_sent = [(a, d["occasion"], d["reason"], at.replace(second=0, microsecond=0))
                for a, d, at in timeline(office, handle) if a == "notice_not_sent"]
    assert sorted(not_sent) == [("notice_not_sent", "first_contact-0-overdue", "complaint closed", office.at(1, 3)),
                                ("notice_not_sent", "solution-0-overdue", "complaint closed", office.at(1, 3))]
    await skip_to(office.env, office.at(1, 9))
    assert office.gateway.requests_to(HQ_SUPERVISOR_PHONE) == []


def urgent_intake() -> dict[str, Any]:
    """An intake the rules classify urgent (a passport: urgent papers)."""
    body = urgent_body()
    return {"description": body["description"], "contents": ComplaintIntake.model_validate(body).contents}
