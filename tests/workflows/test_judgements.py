"""Responsibility judgements, appeals and arbitration (DOMAIN §7) on the time-skipping server, with
exact instants on the office calendars and texts through a real HTTP gateway.

The Guangdong office (gd, the responsible office of a Tianhe station finding) and head-office
arbitration work Mon–Fri 8–18 on the national calendar. Each test sends its judgement on the Monday
of a plain fortnight (no holiday, no 调休): 5 working days from Monday 10:00 end on the next Monday
at 18:00 (the sending day does not count), and the reminder goes out that Monday at 08:00.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from temporalio import activity

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker as worker_module
from activities.judgement import JudgementActivities
from rules.dispatch import DispatchKind
from rules.judgement import AppealRights
from rules.policy import PolicyFile
from rules.measures import Period, PeriodKind
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.judgement_parent import ClosingComplaintWorkflow
from tests.workflows.test_clocks import timer_summaries
from tests.workflows.test_dispatches import OFFICE, SHANGHAI, desk, local, skip_to  # noqa: F401  (desk: fixture)
from tests.waiting import eventually
from workflows.judgement import JudgementWorkflow
from workflows.judgement_messages import (
    APPEAL_RIGHTS_ACTIVITY,
    AppealRightsRequest,
    DispatchFinding,
    JudgementOpening,
    judgement_summary,
    judgement_workflow_id,
)
from workflows.case import CaseSearch

GD_DIRECTOR = "+8613800000001"  # the responsible office's director: reminders
HQ_CS_HEAD = "+8610950003"  # the head of head-office customer service: late arbitration
STATEMENT = {"kind": "four_party_statement", "reference": "doc://statements/4p-001"}
SCANS = {"kind": "scan_record", "reference": "scan://EX0000000001CN"}


async def plain_fortnight(env: WorkflowEnvironment) -> datetime:
    """Monday 00:00 of two ordinary office weeks: Mon–Fri working, a plain weekend between."""
    day = (await env.get_current_time()).astimezone(SHANGHAI).date() + timedelta(days=1)
    ordinary = [True] * 5 + [False] * 2 + [True] * 5
    while not (day.weekday() == 0 and [OFFICE.is_working_day(day + timedelta(n)) for n in range(12)] == ordinary):
        day += timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI)


def on(monday: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    return (monday + timedelta(days=days)).replace(hour=hour, minute=minute)


def tianhe_finding(complaint_id: str) -> DispatchFinding:
    return DispatchFinding(dispatch_id=f"dispatch-{complaint_id}-1", kind=DispatchKind.LINKED, unit="gd-gz-tianhe",
                           finding="The parcel lay two days in the Tianhe sorting area before it was scanned.",
                           failing_link="Tianhe station sorting")


async def open_judgement(stack: Stack, category: str = "delay", complaint_id: str | None = None) -> str:
    """What the complaint starts when it closes: a judgement in draft, proposed from the findings."""
    cid = complaint_id or "C" + uuid.uuid4().hex[:12].upper()
    opening = JudgementOpening(complaint_id=cid, lead_unit="call-centre", category=category,
                               opened_at=await stack.env.get_current_time(), findings=[tianhe_finding(cid)])
    await stack.env.client.start_workflow(JudgementWorkflow.run, opening, id=judgement_workflow_id(cid),
                                          task_queue=stack.settings.temporal_task_queue,
                                          static_summary=judgement_summary(opening))
    return (await judgement(stack, judgement_workflow_id(cid)))["judgement_id"]


async def judgement(stack: Stack, jid: str, ready=lambda j: True) -> dict:  # type: ignore[no-untyped-def]
    async def shown() -> dict | None:  # the workflow writes its rows in local activities
        resp = await stack.http.get(f"/judgements/{jid}", headers=auth("auditor"))
        return resp.json() if resp.status_code == 200 and ready(resp.json()) else None

    return await eventually(stack.env, shown, f"judgement {jid} never reached the expected state")


async def act(stack: Stack, jid: str, step: str, body: dict, role: str = "regional_cs") -> dict:
    resp = await stack.http.post(f"/judgements/{jid}/{step}", headers=auth(role), json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def sent_monday_1000(stack: Stack, category: str = "delay") -> tuple[datetime, str]:
    monday = await plain_fortnight(stack.env)
    jid = await open_judgement(stack, category)
    await skip_to(stack.env, on(monday, 0, 10))
    await act(stack, jid, "send", {"note": "Tianhe sorting held the parcel"}, role="front_seat")
    return monday, jid


def texts_to(gateway: SmsGateway, phone: str) -> list[dict]:
    return gateway.texts_to(phone)  # the phone's texts; fails on one sent again after delivery


async def texted(stack: Stack, gateway: SmsGateway, phone: str) -> list[dict]:
    """The texts a phone got, once the first has arrived (a notice runs beside the clock)."""
    return await eventually(stack.env, lambda: texts_to(gateway, phone), f"{phone} was never texted")


def near(value: str | None, want: datetime) -> bool:
    return value is not None and abs(local(value) - want) < timedelta(seconds=1)


def event(detail: dict, action: str) -> dict:
    return next(e for e in detail["events"] if e["action"] == action)


async def test_accepted_in_time_with_the_three_levels_named(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday = await plain_fortnight(stack.env)
    jid = await open_judgement(stack)
    draft = await judgement(stack, jid)
    assert (draft["status"], draft["responsible_office"], draft["party"], draft["at_fault_unit"]) == (
        "draft", "gd", "station", "gd-gz-tianhe")  # the failing link names the station; its province answers

    await act(stack, jid, "draft", {"party": "courier", "note": "the courier skipped the scan"}, role="front_seat")
    await skip_to(stack.env, on(monday, 0, 10))
    sent = await act(stack, jid, "send", {}, role="front_seat")

    assert sent["status"] == "awaiting_response" and sent["party"] == "courier" and sent["acting_unit"] == "gd"
    assert near(sent["due"], on(monday, 7, 18)) and near(sent["reminder_at"], on(monday, 7, 8))
    await skip_to(stack.env, on(monday, 2, 11))
    accepted = await act(stack, jid, "accept", {"city_branch": "gd-gz", "failing_link": "sorting",
                                                "smallest_unit": "gd-gz-tianhe"})
    await skip_to(stack.env, on(monday, 8, 12))  # past the reminder and the end: nothing more happens

    assert (accepted["status"], accepted["city_branch"], accepted["failing_link"], accepted["smallest_unit"]) == (
        "accepted", "gd-gz", "sorting", "gd-gz-tianhe")
    assert accepted["in_time"] is True and near(accepted["final_at"], on(monday, 2, 11))
    final = await judgement(stack, jid)
    assert [e["action"] for e in final["events"]] == ["generate", "edit_draft", "send", "accept"]
    assert texts_to(gateway, GD_DIRECTOR) == []


async def test_an_appeal_upheld_cancels_the_responsibility(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday, jid = await sent_monday_1000(stack)
    await skip_to(stack.env, on(monday, 1, 9))
    appealed = await act(stack, jid, "appeal", {"reason": "The scans show the parcel left Tianhe on time",
                                                "evidence": [SCANS]})

    assert appealed["status"] == "in_arbitration" and appealed["acting_unit"] == "hq-arbitration"
    assert near(appealed["due"], on(monday, 8, 18))  # 5 working days of arbitration from Tuesday
    await skip_to(stack.env, on(monday, 3, 14))
    decided = await act(stack, jid, "decision", {"at_fault": False, "reason": "the line haul was late"}, role="arbitration")

    assert decided["status"] == "cancelled" and decided["at_fault"] is False and decided["invalid_appeal"] is False
    assert near(decided["final_at"], on(monday, 3, 14))


async def test_an_appeal_rejected_counts_as_invalid_and_the_office_names_the_smallest_unit(
    desk: tuple[Stack, SmsGateway],
) -> None:
    stack, _ = desk
    monday, jid = await sent_monday_1000(stack, category="loss_or_damage")
    await skip_to(stack.env, on(monday, 1, 9))
    await act(stack, jid, "appeal", {"reason": "Lost after handover to transport", "evidence": [STATEMENT, SCANS]})
    await skip_to(stack.env, on(monday, 2, 15))

    rejected = await act(stack, jid, "decision", {"at_fault": True, "reason": "the handover scan is missing"},
                         role="arbitration")

    assert rejected["status"] == "awaiting_refinement" and rejected["invalid_appeal"] is True
    assert rejected["acting_unit"] == "gd"
    assert near(rejected["due"], on(monday, 9, 18)) and near(rejected["reminder_at"], on(monday, 9, 8))  # a new clock
    await skip_to(stack.env, on(monday, 3, 10))
    refined = await act(stack, jid, "accept", {"city_branch": "gd-gz", "failing_link": "handover to line haul",
                                               "smallest_unit": "gd-gz-tianhe"})
    assert refined["status"] == "accepted" and refined["smallest_unit"] == "gd-gz-tianhe" and refined["in_time"] is True
    assert [e["action"] for e in (await judgement(stack, jid))["events"]][-3:] == ["appeal", "decide", "name_fault"]


async def test_no_answer_becomes_final_as_accepted_after_the_reminder(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday, jid = await sent_monday_1000(stack)

    await skip_to(stack.env, on(monday, 7, 7, 59))
    assert texts_to(gateway, GD_DIRECTOR) == []
    await skip_to(stack.env, on(monday, 7, 8, 1))
    reminded = await judgement(stack, jid, lambda j: j["reminders"] == 1)
    assert near(event(reminded, "remind")["at"], on(monday, 7, 8))
    assert len(await texted(stack, gateway, GD_DIRECTOR)) == 1  # gd's director, one working day before the end
    assert reminded["status"] == "awaiting_response"

    await skip_to(stack.env, on(monday, 7, 18, 1))
    final = await judgement(stack, jid, lambda j: j["status"] != "awaiting_response")
    assert final["status"] == "accepted_by_silence" and near(final["final_at"], on(monday, 7, 18))
    assert final["smallest_unit"] is None and final["acting_unit"] is None
    handle = stack.env.client.get_workflow_handle(jid)
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
    assert desc.typed_search_attributes.get(CaseSearch.JUDGEMENT_STATUS) == "accepted_by_silence"
    assert desc.typed_search_attributes.get(CaseSearch.RESPONSIBLE_OFFICE) == "gd"
    assert (await desc.static_summary() or "").startswith("Judgement for complaint ")
    next_monday = on(monday, 7, 0).date()
    assert await timer_summaries(handle) == [f"remind gd at {next_monday} 08:00", f"gd answers by {next_monday} 18:00"]


async def test_arbitration_not_decided_in_time_notifies_the_head_of_head_office_cs(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    monday, jid = await sent_monday_1000(stack)
    await skip_to(stack.env, on(monday, 0, 11))
    await act(stack, jid, "appeal", {"reason": "The scans clear Tianhe", "evidence": [SCANS]})

    await skip_to(stack.env, on(monday, 7, 17, 59))
    assert texts_to(gateway, HQ_CS_HEAD) == []
    await skip_to(stack.env, on(monday, 7, 18, 1))

    late = await judgement(stack, jid, lambda j: j["arbitration_overdue"])
    assert late["status"] == "in_arbitration"  # still to be decided
    assert near(event(late, "arbitration_overdue")["at"], on(monday, 7, 18))
    assert len(await texted(stack, gateway, HQ_CS_HEAD)) == 1
    decided = await act(stack, jid, "decision", {"at_fault": False, "reason": "late, but no fault"}, role="arbitration")
    assert decided["status"] == "cancelled"


def tenth_of(month: Period) -> datetime:
    return datetime.combine(month.first_day + timedelta(days=9), time(10), SHANGHAI)


async def appeal_in(stack: Stack, month: Period, against: str | None = None) -> tuple[str, object]:
    """On the 10th of the month: a judgement sent to gd (against Tianhe, or the unit given), which
    appeals it at once."""
    if await stack.env.get_current_time() < tenth_of(month):
        await skip_to(stack.env, tenth_of(month))
    jid = await open_judgement(stack)
    if against is not None:
        await act(stack, jid, "draft", {"at_fault_unit": against}, role="front_seat")
    await act(stack, jid, "send", {}, role="front_seat")
    resp = await stack.http.post(f"/judgements/{jid}/appeal", headers=auth("regional_cs"),
                                 json={"reason": "Tianhe handed it over in time", "evidence": [SCANS]})
    return jid, resp


async def test_a_city_branch_over_the_bound_cannot_appeal_next_month_and_can_the_month_after(
    desk: tuple[Stack, SmsGateway],
) -> None:
    stack, _ = desk
    now = (await stack.env.get_current_time()).astimezone(SHANGHAI).date()
    first = Period.parse(PeriodKind.MONTH, f"{date(now.year + (now.month == 12), now.month % 12 + 1, 1):%Y-%m}")
    second, third = [Period.parse(PeriodKind.MONTH, f"{p:%Y-%m}") for p in (first.next_first_day,
                                                                           first.next_first_day + timedelta(days=40))]

    jid, allowed = await appeal_in(stack, first)
    assert allowed.status_code == 200, allowed.text  # type: ignore[attr-defined]
    await act(stack, jid, "decision", {"at_fault": True, "reason": "the scans show no handover"}, role="arbitration")

    # Guangzhou (Tianhe's city branch): 1 invalid appeal of 1 judgement last month: 100 % > 30 %
    _, blocked = await appeal_in(stack, second)
    assert blocked.status_code == 403, blocked.text  # type: ignore[attr-defined]
    body = blocked.json()  # type: ignore[attr-defined]
    assert (body["office"], body["month"], body["rate"], body["bound"], body["allowed"]) == (
        "gd-gz", first.label, 1.0, 0.3, False)
    assert "invalid-appeal rate" in body["detail"] and "100%" in body["detail"]
    # the same province's Shenzhen branch had no judgement last month: it may appeal (seed 000: 该市)
    _, shenzhen = await appeal_in(stack, second, against="gd-sz-nanshan")
    assert shenzhen.status_code == 200, shenzhen.text  # type: ignore[attr-defined]
    assert shenzhen.json()["appeal_branch"] == "gd-sz"  # type: ignore[attr-defined]

    _, again = await appeal_in(stack, third)  # last month: 1 judgement, not appealed: 0 %
    assert again.status_code == 200, again.text  # type: ignore[attr-defined]
    assert again.json()["status"] == "in_arbitration"  # type: ignore[attr-defined]
    rates = (await stack.http.get("/judgements/appeal-rates", params={"month": first.label}, headers=auth("auditor"))).json()
    assert [(r["office"], r["invalid_appeals"], r["judgements"], r["allowed"]) for r in rates] == [("gd-gz", 1, 1, False)]


async def test_the_judgement_runs_on_after_the_complaint_workflow_closed(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    env, queue = stack.env, f"parents-{uuid.uuid4().hex[:8]}"
    monday = await plain_fortnight(env)
    cid = "C" + uuid.uuid4().hex[:12].upper()
    opening = JudgementOpening(complaint_id=cid, lead_unit="call-centre", category="delay",
                               opened_at=await env.get_current_time(), findings=[tianhe_finding(cid)])
    async with Worker(env.client, task_queue=queue, workflows=[ClosingComplaintWorkflow]):
        jid = await env.client.execute_workflow(ClosingComplaintWorkflow.run, args=[opening, stack.settings.temporal_task_queue],
                                                id=f"complaint-{cid}", task_queue=queue)
    assert jid == judgement_workflow_id(cid)
    parent = await env.client.get_workflow_handle(f"complaint-{cid}").describe()
    assert parent.status == WorkflowExecutionStatus.COMPLETED

    await judgement(stack, jid)
    await skip_to(env, on(monday, 0, 10))
    await act(stack, jid, "send", {}, role="front_seat")
    await skip_to(env, on(monday, 3, 16))
    assert (await env.client.get_workflow_handle(jid).describe()).status == WorkflowExecutionStatus.RUNNING
    accepted = await act(stack, jid, "accept", {"city_branch": "gd-gz", "failing_link": "sorting",
                                                "smallest_unit": "gd-gz-tianhe"})
    assert accepted["status"] == "accepted" and near(accepted["final_at"], on(monday, 3, 16))


class HeldRightsLookUp(JudgementActivities):
    """The appeal-rights look-up, held until the test lets it answer: a slow read model."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.started, self.release = asyncio.Event(), asyncio.Event()

    @activity.defn(name=APPEAL_RIGHTS_ACTIVITY)
    async def appeal_rights(self, request: AppealRightsRequest) -> AppealRights:  # type: ignore[override]
        self.started.set()
        await self.release.wait()
        return super().appeal_rights(request)


async def silence_timer_handled(stack: Stack, jid: str) -> None:
    """Until the office's clock has fired and the workflow has had a task after it."""
    handle = stack.env.client.get_workflow_handle(jid)
    for _ in range(200):
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        if EventType.EVENT_TYPE_TIMER_FIRED in kinds:
            fired = len(kinds) - 1 - kinds[::-1].index(EventType.EVENT_TYPE_TIMER_FIRED)
            if EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds[fired:]:
                return
        await asyncio.sleep(0.05)  # wall clock: waiting for the worker, not for time to pass
    raise AssertionError("the office's clock never fired")


async def test_an_appeal_lodged_a_second_before_the_deadline_is_accepted_though_its_look_up_ends_after(
    desk: tuple[Stack, SmsGateway], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack, _ = desk
    held = HeldRightsLookUp(stack.read_model, PolicyFile(stack.settings.policy_file))
    await stack.stop_worker()
    monkeypatch.setattr(worker_module, "JudgementActivities", lambda *_: held)
    await stack.start_worker()
    monday, jid = await sent_monday_1000(stack)
    deadline = on(monday, 7, 18)  # sent Monday 10:00: 5 working days → the next Monday 18:00
    await skip_to(stack.env, deadline - timedelta(seconds=1))

    appeal = asyncio.create_task(stack.http.post(f"/judgements/{jid}/appeal", headers=auth("regional_cs"),
                                                 json={"reason": "The scans clear Tianhe", "evidence": [SCANS]}))
    await asyncio.wait_for(held.started.wait(), timeout=30)
    await stack.env.sleep(timedelta(seconds=2))  # the office's deadline passes while the look-up runs
    await silence_timer_handled(stack, jid)
    held.release.set()
    resp = await asyncio.wait_for(appeal, timeout=60)

    assert resp.status_code == 200, resp.text
    appealed = resp.json()
    assert appealed["status"] == "in_arbitration"
    # lodged when it arrived (a second before the deadline, plus the server's few milliseconds), not
    # when its look-up ended after the deadline
    assert deadline - timedelta(seconds=1) <= local(appealed["appealed_at"]) < deadline
    # arbitration's 5 working days from Monday 17:59:59 (that Monday counts as begun): Tue … Mon → Monday 18:00
    assert near(appealed["due"], on(monday, 14, 18))
    final = await judgement(stack, jid, lambda j: j["status"] == "in_arbitration")
    assert "accept_by_silence" not in [e["action"] for e in final["events"]]
