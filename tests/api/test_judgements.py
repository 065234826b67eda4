"""Judgement endpoints (DOMAIN §7) through the HTTP API on the dev server: inboxes, role and office
checks, the three levels checked against the unit directory, the four-party statement (422) and
the right to appeal taken away by last month's invalid-appeal rate (403)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from rules.actors import Actor, Role
from rules.dispatch import DispatchKind
from rules.judgement import JudgementStatus, month_before
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, auth
from tests.workflows.test_dispatches import SHANGHAI
from tests.workflows.test_judgements import SCANS, STATEMENT, act, judgement, open_judgement
from workflows.judgement import JudgementWorkflow
from workflows.judgement_messages import (
    DispatchFinding,
    JudgementChange,
    JudgementEvent,
    JudgementOpening,
    JudgementView,
    judgement_workflow_id,
)

NAMING = {"city_branch": "gd-gz", "failing_link": "sorting", "smallest_unit": "gd-gz-tianhe"}


async def sent(stack: Stack, category: str = "delay") -> str:
    jid = await open_judgement(stack, category)
    await act(stack, jid, "send", {}, role="front_seat")
    return jid


async def post(stack: Stack, jid: str, step: str, body: dict, role: str):  # type: ignore[no-untyped-def]
    return await stack.http.post(f"/judgements/{jid}/{step}", headers=auth(role), json=body)


async def inbox(stack: Stack, unit: str) -> list[str]:
    resp = await stack.http.get(f"/units/{unit}/judgements", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return [j["judgement_id"] for j in resp.json()]


async def test_a_judgement_moves_from_inbox_to_inbox(stack: Stack) -> None:
    jid = await open_judgement(stack)
    assert jid in await inbox(stack, "call-centre") and jid not in await inbox(stack, "gd")  # the lead office's draft

    await act(stack, jid, "send", {}, role="front_seat")
    assert jid in await inbox(stack, "gd") and jid not in await inbox(stack, "call-centre")
    await act(stack, jid, "appeal", {"reason": "the scans clear Tianhe", "evidence": [SCANS]})
    assert jid in await inbox(stack, "hq-arbitration") and jid not in await inbox(stack, "gd")
    await act(stack, jid, "decision", {"at_fault": False, "reason": "no fault found"}, role="arbitration")
    assert jid not in await inbox(stack, "hq-arbitration")
    assert (await stack.http.get("/units/nowhere/judgements", headers=auth("auditor"))).status_code == 404


async def test_only_the_arbitration_group_decides(stack: Stack) -> None:
    jid = await sent(stack)
    await act(stack, jid, "appeal", {"reason": "the scans clear Tianhe", "evidence": [SCANS]})

    for role in ("regional_cs", "head_office_cs", "supervisor"):
        refused = await post(stack, jid, "decision", {"at_fault": True, "reason": "x"}, role)
        assert refused.status_code == 403 and "allowed roles: arbitration" in refused.json()["detail"]
    assert (await post(stack, jid, "decision", {"at_fault": True, "reason": "no handover scan"}, "arbitration")).status_code == 200


async def test_only_the_lead_office_sends_and_only_the_responsible_office_answers(stack: Stack) -> None:
    jid = await open_judgement(stack)  # lead office: the call centre; responsible: Guangdong
    not_lead = await post(stack, jid, "send", {}, "regional_cs")
    assert not_lead.status_code == 403 and "lead office call-centre" in not_lead.json()["detail"]
    await act(stack, jid, "send", {}, role="supervisor")  # the call centre's supervisor

    other_office = await post(stack, jid, "accept", NAMING, "supervisor")
    assert other_office.status_code == 403 and "responsible office gd" in other_office.json()["detail"]
    station = await post(stack, jid, "accept", NAMING, "production_unit")
    assert station.status_code == 403  # a station may not answer a judgement at all
    assert (await post(stack, jid, "accept", NAMING, "director")).status_code == 200  # Guangdong's director


async def test_accepting_needs_the_three_levels_from_the_unit_directory(stack: Stack) -> None:
    jid = await sent(stack)

    missing = await post(stack, jid, "accept", {"city_branch": "gd-gz", "failing_link": "sorting"}, "regional_cs")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "smallest_unit"]
    unknown = await post(stack, jid, "accept", {**NAMING, "smallest_unit": "gd-gz-nowhere"}, "regional_cs")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "smallest_unit"]
    elsewhere = await post(stack, jid, "accept", {**NAMING, "city_branch": "zj-hz", "smallest_unit": "zj-hz-xihu"}, "regional_cs")
    assert elsewhere.status_code == 422 and elsewhere.json()["detail"][0]["msg"] == "not a city branch of gd"
    not_below = await post(stack, jid, "accept", {**NAMING, "smallest_unit": "gd-sz-nanshan"}, "regional_cs")
    assert not_below.status_code == 422 and not_below.json()["detail"][0]["msg"] == "not a production unit of gd-gz"
    assert (await judgement(stack, jid))["status"] == "awaiting_response"  # nothing was recorded


async def test_an_appeal_against_a_loss_judgement_without_the_four_party_statement_is_422_naming_it(stack: Stack) -> None:
    # DOMAIN §11: the judgement's fault type decides, not the complaint's category (here a delay)
    jid = await open_judgement(stack, "delay")
    assert (await judgement(stack, jid))["fault_type"] is None  # the Tianhe finding names no loss
    edited = await act(stack, jid, "draft", {"fault_type": "loss", "note": "the parcel was never found"}, role="front_seat")
    assert edited["fault_type"] == "loss"
    await act(stack, jid, "send", {}, role="front_seat")

    refused = await post(stack, jid, "appeal", {"reason": "lost in transport", "evidence": [SCANS]}, "regional_cs")

    assert refused.status_code == 422, refused.text
    problem = refused.json()["detail"][0]
    assert problem["loc"] == ["body", "evidence"] and problem["missing"] == ["four_party_statement"]
    assert "four-party signed statement" in problem["msg"] and "loss" in problem["msg"]
    assert (await post(stack, jid, "appeal", {"reason": "lost in transport", "evidence": [SCANS, STATEMENT]},
                       "regional_cs")).status_code == 200


async def test_a_loss_or_damage_complaint_whose_judgement_is_no_loss_needs_no_statement(stack: Stack) -> None:
    jid = await sent(stack, category="loss_or_damage")  # the finding: a late scan, no fault type
    appealed = await act(stack, jid, "appeal", {"reason": "the scans clear Tianhe", "evidence": [SCANS]})
    assert appealed["status"] == "in_arbitration"


async def test_a_false_information_judgement_is_proposed_from_the_finding(stack: Stack) -> None:
    cid = "C" + uuid.uuid4().hex[:12].upper()
    opening = JudgementOpening(complaint_id=cid, lead_unit="call-centre", category="delay",
                               opened_at=await stack.env.get_current_time(), findings=[DispatchFinding(
                                   dispatch_id=f"dispatch-{cid}-1", kind=DispatchKind.TICKET, unit="gd-gz-tianhe",
                                   finding="网点虚假回复已妥投，收件人未收到", failing_link="Tianhe station reply")])
    await stack.env.client.start_workflow(JudgementWorkflow.run, opening, id=judgement_workflow_id(cid),
                                          task_queue=stack.settings.temporal_task_queue)
    jid = judgement_workflow_id(cid)
    assert (await judgement(stack, jid, lambda j: j["status"] == "draft"))["fault_type"] == "false_information"
    await act(stack, jid, "send", {}, role="front_seat")
    refused = await post(stack, jid, "appeal", {"reason": "it was delivered", "evidence": [SCANS]}, "regional_cs")
    assert refused.status_code == 422 and refused.json()["detail"][0]["missing"] == ["four_party_statement"]


def last_months_judgement(n: int, invalid: bool, unit: str = "gd-gz-tianhe") -> JudgementChange:
    """A judgement sent to Guangdong against `unit` in the month before this one, its appeal decided as given."""
    sent_at = datetime.combine(month_before(datetime.now(UTC), SHANGHAI).first_day + timedelta(days=4), time(10), SHANGHAI)
    view = JudgementView(judgement_id=f"judgement-CSEEDED{n}", complaint_id=f"CSEEDED{n}", status=JudgementStatus.ACCEPTED,
                         lead_unit="call-centre", category="delay", opened_at=sent_at, responsible_office="gd",
                         at_fault_unit=unit, party="station", sent_at=sent_at, appealed_at=sent_at, decided_at=sent_at,
                         at_fault=invalid,
                         invalid_appeal=invalid, final_at=sent_at)
    actor = Actor(id="arb-wu", name="Wu Hao", role=Role.ARBITRATION, unit="hq-arbitration")
    return JudgementChange(workflow_id=view.judgement_id, view=view, event=JudgementEvent(
        seq=1, at=sent_at, actor=actor, action="decide", from_status=JudgementStatus.IN_ARBITRATION,
        to_status=view.status))


async def test_an_appeal_is_403_with_the_reason_and_rate_when_the_city_branch_was_over_the_bound(stack: Stack) -> None:
    # last month in Guangdong: Guangzhou 1 invalid of 2 (50 % > 30 %); Shenzhen 0 of 3
    stack.read_model.judgements.record([last_months_judgement(1, True), last_months_judgement(2, False, "gd-gz"),
                                        *(last_months_judgement(n, False, "gd-sz-nanshan") for n in (3, 4, 5))])
    jid = await sent(stack)  # against Tianhe, a Guangzhou station

    refused = await post(stack, jid, "appeal", {"reason": "the scans clear Tianhe", "evidence": [SCANS]}, "regional_cs")

    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert (body["office"], body["rate"], body["bound"], body["invalid_appeals"], body["judgements"]) == (
        "gd-gz", 0.5, 0.3, 1, 2)
    assert "50%" in body["detail"] and "no appeals this month" in body["detail"]
    assert (await judgement(stack, jid))["status"] == "awaiting_response"  # it may still accept
    await act(stack, jid, "accept", NAMING)

    # the same province's Shenzhen branch keeps its right (per province it would be 1 of 5 = 20 %,
    # which hides Guangzhou's 50 %); its appeal records the branch it was lodged for
    shenzhen = await open_judgement(stack)
    await act(stack, shenzhen, "draft", {"at_fault_unit": "gd-sz-nanshan"}, role="front_seat")
    await act(stack, shenzhen, "send", {}, role="front_seat")
    appealed = await act(stack, shenzhen, "appeal", {"reason": "Nanshan handed it over", "evidence": [SCANS]})
    assert (appealed["status"], appealed["appeal_branch"]) == ("in_arbitration", "gd-sz")


async def test_a_wrong_step_is_409_with_the_current_status(stack: Stack) -> None:
    jid = await open_judgement(stack)
    early = await post(stack, jid, "accept", NAMING, "regional_cs")
    assert early.status_code == 409 and early.json()["current_status"] == "draft"

    await act(stack, jid, "send", {}, role="front_seat")
    again = await post(stack, jid, "send", {}, "front_seat")
    assert again.status_code == 409 and again.json()["current_status"] == "awaiting_response"
    edit = await post(stack, jid, "draft", {"party": "transport"}, "front_seat")
    assert edit.status_code == 409
    await act(stack, jid, "accept", NAMING)
    late = await post(stack, jid, "appeal", {"reason": "too late", "evidence": [SCANS]}, "regional_cs")
    assert late.status_code == 409 and late.json()["current_status"] == "accepted"
    assert (await stack.http.get("/judgements/judgement-CNOSUCH", headers=auth("auditor"))).status_code == 404


async def test_the_draft_takes_only_known_parties_units_and_fault_types(stack: Stack) -> None:
    jid = await open_judgement(stack)

    party = await post(stack, jid, "draft", {"party": "weather"}, "front_seat")
    assert party.status_code == 422 and party.json()["detail"][0]["loc"] == ["body", "party"]
    fault_type = await post(stack, jid, "draft", {"fault_type": "loss_or_damage"}, "front_seat")  # a category, no fault type
    assert fault_type.status_code == 422 and fault_type.json()["detail"][0]["loc"] == ["body", "fault_type"]
    office = await post(stack, jid, "draft", {"responsible_office": "mars"}, "front_seat")
    assert office.status_code == 422 and office.json()["detail"][0]["loc"] == ["body", "responsible_office"]
    edited = await act(stack, jid, "draft", {"responsible_office": "zj", "party": "transport"}, role="front_seat")
    assert (edited["responsible_office"], edited["party"]) == ("zj", "transport")


async def test_the_complaint_shows_its_judgements(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    jid = await open_judgement(stack, complaint_id=cid)

    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()

    assert [(j["judgement_id"], j["status"], j["responsible_office"]) for j in detail["judgements"]] == [(jid, "draft", "gd")]
