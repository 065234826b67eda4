"""Dispatches through the API (DOMAIN §4): an answer returned by hand by the reviewing office, a
dispatch readable and answerable the moment its id is handed out, an accepted answer that reaches
the complaint at once while the SMS gateway is down, and the 404 of an unknown complaint's list.
On the time-skipping server; stations (gd-gz-tianhe) work 7 × 10, offices Mon–Fri 08:00–18:00.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from notifications.directory import Directory
from readmodel.outbox import Outbox
from rules.escalation import resolve_ladder
from rules.policy import load_policy
from settings import ROOT
from workflows.dispatch_messages import DispatchResult
from tests.conftest import Stack, auth
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_dispatches import (
    GOOD_FINDING, complaint_in_handling, desk, direct_dispatch_monday_0900, dispatch, local, plain_monday, raise_,
    reply, skip_to, wait_for_complaint,
)
from tests.waiting import eventually

__all__ = ["desk"]  # the fixture, shared with tests/workflows/test_dispatches.py

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")


def near(instant, want) -> bool:  # type: ignore[no-untyped-def]
    return abs(instant - want) < timedelta(seconds=1)


async def return_(stack: Stack, did: str, role: str, reason: str = "the scan shows no delivery: look again"):  # type: ignore[no-untyped-def]
    return await stack.http.post(f"/dispatches/{did}/return", headers=auth(role), json={"reason": reason})


async def test_the_lead_office_returns_an_answer_by_hand_and_the_clock_runs_on(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid, did = await direct_dispatch_monday_0900(stack)  # due Mon 11:00: 2 working hours on 7 × 10
    nothing_yet = await return_(stack, did, "front_seat")
    assert nothing_yet.status_code == 409  # no accepted answer to return
    # 09:50, not 10:00: the department's first-opinion clock falls due at 10:00, and the test server
    # refuses a task that takes a signal as that timer fires ("invalid history builder state")
    await skip_to(stack.env, monday.replace(hour=9, minute=50))
    accepted = await reply(stack, did, GOOD_FINDING, failing_link="delivery")
    assert accepted["outcome"] == "accepted"
    await wait_for_complaint(stack, cid, lambda d: any(e["action"] == "dispatch_finished" for e in d["timeline"]))

    # A direct dispatch's answer is reviewed by the complaint's lead office: the call centre (the
    # front seat who filed it), or a unit above it. Guangdong and the station are neither.
    assert (await return_(stack, did, "regional_cs")).status_code == 403
    assert (await return_(stack, did, "production_unit")).status_code == 403  # no return_reply permission
    returned = await return_(stack, did, "front_seat")

    assert returned.status_code == 200, returned.text
    view = returned.json()
    assert (view["status"], view["returns"], view["finding"], view["answered_at"]) == ("open", 1, None, None)
    assert near(local(view["due"]), monday.replace(hour=11))  # the clock it had
    assert (await return_(stack, did, "front_seat")).status_code == 409  # open again: nothing to return
    detail = await wait_for_complaint(stack, cid, lambda d: not d["one_time_resolution"])
    assert detail["one_time_resolution"] is False  # a returned answer: not resolved at the first go

    # Still unanswered at 11:00, the level above (Guangzhou's director) is told, as on any late dispatch.
    await skip_to(stack.env, monday.replace(hour=11, minute=30))
    again = await reply(stack, did, "The courier left it at the wrong door; redelivered with signature at 11:20.",
                        evidence=[{"kind": "signature", "reference": "pod://sig/9"}])
    assert again["outcome"] == "accepted"
    # answered 11:30 against 11:00 on the station's 7 × 10: 30 working minutes late
    assert (again["dispatch"]["in_time"], again["dispatch"]["late_working_minutes"]) == (False, 30)
    assert again["dispatch"]["escalation_level"] == 1
    events = (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["events"]
    by_hand = [e for e in events if e["action"] == "return_reply"]
    assert [(e["actor_unit"], e["detail"]["by_hand"], e["detail"]["reason"]) for e in by_hand] == [("call-centre", True, "the scan shows no delivery: look again")]
    escalation = next(e for e in events if e["action"] == "escalate")
    assert near(local(escalation["at"]), monday.replace(hour=11))


async def test_a_linked_dispatch_is_returned_by_the_office_that_raised_it(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    did = await raise_(stack, cid, "gd-gz-tianhe", kind="linked_dispatch", role="regional_cs")  # Guangdong raises it
    await reply(stack, did, GOOD_FINDING)

    assert (await return_(stack, did, "front_seat")).status_code == 403  # the call centre did not raise it
    returned = await return_(stack, did, "regional_cs")
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "open"


async def test_a_dispatch_is_readable_and_answerable_the_moment_its_id_is_returned(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid = await complaint_in_handling(stack)
    for n in range(1, 9):
        did = await raise_(stack, cid, "gd-gz-tianhe")
        # no waiting, no time skipped: the row is there and the reply goes through
        shown = await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))
        assert shown.status_code == 200, (n, shown.text)
        answer = await stack.http.post(f"/dispatches/{did}/reply", headers=auth("production_unit"),
                                       json={"finding": GOOD_FINDING})
        assert answer.status_code == 200, (n, answer.text)
        assert answer.json()["outcome"] == "accepted"
        assert answer.json()["dispatch"]["in_time"] is True  # measured against the clock it started with


async def test_an_unknown_complaints_dispatches_are_404(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    unknown = await stack.http.get("/complaints/C-NO-SUCH/dispatches", headers=auth("auditor"))
    assert unknown.status_code == 404
    cid = await complaint_in_handling(stack)
    known = await stack.http.get(f"/complaints/{cid}/dispatches", headers=auth("auditor"))
    assert (known.status_code, known.json()) == (200, [])


async def test_an_accepted_answer_reaches_the_complaint_at_once_while_the_gateway_is_down(
    desk: tuple[Stack, SmsGateway]
) -> None:
    """The director's overdue text is stuck behind a gateway answering 503; the answer that comes
    meanwhile is on the complaint at once, the text is not lost, and a complaint closed before it is
    delivered leaves the dispatch answered (not cancelled)."""
    stack, gateway = desk
    step = resolve_ladder(POLICY, "overdue_dispatch", "gd-gz-tianhe")[0]
    director = Directory.from_policy_data(POLICY.directory, POLICY).holders(step.role, step.unit)[0].phone
    gateway.busy_for[director] = 10**6  # down for the director's texts
    monday = await plain_monday(stack.env)
    cid, did = await direct_dispatch_monday_0900(stack)
    await skip_to(stack.env, monday.replace(hour=11, minute=5))  # due 11:00: the director's text is out

    answer = await reply(stack, did, GOOD_FINDING)

    assert answer["outcome"] == "accepted"
    # 200 × 1 ms of server time: the notify activity's retries (hours) cannot have ended meanwhile
    detail = await wait_for_complaint(stack, cid, lambda d: any(e["action"] == "dispatch_finished" for e in d["timeline"]))
    finished = next(e for e in detail["timeline"] if e["action"] == "dispatch_finished")
    assert finished["detail"]["dispatch_id"] == did and finished["detail"]["finding"] == GOOD_FINDING
    assert director not in [m["to"] for m in gateway.handset]

    closed = await stack.http.post(f"/complaints/{cid}/unresolvable-closure", headers=auth("supervisor"),
                                   json={"reason": "customer withdrew the complaint"})
    assert closed.status_code == 200, closed.text
    complaint = stack.env.client.get_workflow_handle(f"complaint-{cid}")
    async def completed() -> bool:  # the complaint ends at once: the answered dispatch holds nothing up
        return (await complaint.describe()).status.name == "COMPLETED"

    await eventually(stack.env, completed, "the complaint never completed")
    assert director not in [m["to"] for m in gateway.handset]  # the complaint closed before the text went
    gateway.busy_for[director] = 0  # the gateway is back: the notice's next retry (≤ 5 min apart) delivers it
    handle = stack.env.client.get_workflow_handle(did, result_type=DispatchResult)
    for _ in range(30):
        if (await handle.describe()).status.name == "COMPLETED":
            break
        await stack.env.sleep(timedelta(minutes=1))
    result = await handle.result()
    assert result.dispatch.status.value == "answered" and result.dispatch.finding == GOOD_FINDING
    assert [m["to"] for m in gateway.handset].count(director) == 1
    ended = await dispatch(stack, did)
    assert ended["status"] == "answered"
    assert "cancel" not in [e["action"] for e in ended["events"]]
    rows = [r for r in Outbox(stack.read_model.engine).list_for_case(did)
            if r.channel == "sms" and not r.step.startswith("warning-")]  # the warning before: test_warnings.py
    assert [(r.step, r.status) for r in rows] == [("escalation-1-director", "delivered")]


async def test_a_ticket_answered_just_before_the_closing_reaches_the_judgement(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    monday = await plain_monday(stack.env)
    cid = await complaint_in_handling(stack)
    await skip_to(stack.env, monday.replace(hour=9))
    resp = await stack.http.post(f"/complaints/{cid}/tickets", headers=auth("front_seat"),
                                 json={"assisting_unit": "gd", "instruction": "Find the failing link"})
    tid = resp.json()["dispatch_id"]
    await reply(stack, tid, GOOD_FINDING, role="regional_cs", failing_link="Tianhe station sorting")

    closed = await stack.http.post(f"/complaints/{cid}/unresolvable-closure", headers=auth("supervisor"),
                                   json={"reason": "customer withdrew the complaint"})  # at once, no time skipped
    assert closed.status_code == 200, closed.text
    await stack.env.client.get_workflow_handle(f"complaint-{cid}").result()

    # The answer, still open to a return by hand, ended with the complaint: answered, not cancelled.
    ticket = await dispatch(stack, tid)
    assert ticket["status"] == "answered" and "cancel" not in [e["action"] for e in ticket["events"]]
    async def opened() -> httpx.Response | None:
        resp = await stack.http.get(f"/judgements/judgement-{cid}", headers=auth("auditor"))
        return resp if resp.status_code == 200 else None

    judgement = await eventually(stack.env, opened, f"judgement-{cid} never opened")
    # proposed from the ticket's finding: Guangdong answered, its failing link names a station's sorting
    assert (judgement.json()["responsible_office"], judgement.json()["party"]) == ("gd", "station")
    assert (await return_(stack, tid, "front_seat")).status_code == 409  # the complaint is closed
