"""Contacts through the HTTP API (POST /contacts, GET /contacts/{id}, the actions), with a real
worker on the Temporal dev server: 201 with the clocks, idempotent retries, 401/403/404/409/422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from readmodel.tables import ContactRow
from rules.calendar import WorkingCalendar
from rules.policy import load_policy
from settings import ROOT
from tests.conftest import Stack, auth
from tests.factories import just_now

DESK_CALENDAR = WorkingCalendar(load_policy(ROOT / "policies" / "express_carrier.yaml").calendars["production_unit"])


@pytest.fixture
async def desk(stack: Stack) -> AsyncIterator[Stack]:
    """The stack; the contacts a test leaves open are ended with it."""
    yield stack
    with Session(stack.read_model.engine) as session:
        ids = [r.workflow_id for r in session.exec(select(ContactRow)) if r.status != "closed"]
    for workflow_id in ids:
        try:
            await stack.env.client.get_workflow_handle(workflow_id).terminate("test finished")
        except Exception:
            pass  # already closed


def contact_body(kind: str = "consultation", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "channel": "hotline",
        "received_at": just_now(),
        "customer": {"name": "Li Na", "phone": "13800138000"},
        "tracking_number": "EX0000000042CN",
        "description": "How much does insured delivery to Hangzhou cost?",
    }
    if kind == "rescue_request":
        body["location"] = "G4 service area, km 112"
    body.update(overrides)
    return body


async def post(stack: Stack, path: str, body: dict, role: str = "front_seat", expect: int = 200, **headers: str) -> dict:
    resp = await stack.http.post(path, json=body, headers={**auth(role), **headers})
    assert resp.status_code == expect, resp.text
    return resp.json()


async def file(stack: Stack, body: dict | None = None, **headers: str) -> dict:
    return await post(stack, "/contacts", body or contact_body(), expect=201, **headers)


def dues(created: dict) -> dict[str, datetime]:
    return {c["name"]: datetime.fromisoformat(c["due"]) for c in created["clocks"]}


async def test_a_consultation_is_filed_201_with_its_clocks_on_the_desks_calendar(desk: Stack) -> None:
    body = contact_body()
    created = await file(desk, body)

    received = datetime.fromisoformat(body["received_at"])
    assert created["contact_id"].startswith("K") and created["workflow_id"] == f"contact-{created['contact_id']}"
    assert created["kind"] == "consultation" and created["status"] == "received" and created["replayed"] is False
    assert dues(created) == {
        "consultation_handover": DESK_CALENDAR.deadline(received, timedelta(minutes=30)),
        "consultation_callback": DESK_CALENDAR.deadline(received, timedelta(hours=3)),
    }
    shown = (await desk.http.get(f"/contacts/{created['contact_id']}", headers=auth("auditor"))).json()
    assert [e["action"] for e in shown["timeline"]] == ["receive", "start_clock", "start_clock"]
    assert shown["customer_phone"] == "138******00"  # masked, 6 digits hidden (DOMAIN §9)
    assert shown["desk_unit"] == "call-centre" and shown["missed_clocks"] == 0


async def test_a_rescue_request_is_due_ten_minutes_after_receipt_day_or_night(desk: Stack) -> None:
    body = contact_body("rescue_request")
    created = await file(desk, body)

    assert dues(created) == {"rescue_handover": datetime.fromisoformat(body["received_at"]) + timedelta(minutes=10)}
    closed = await post(desk, f"/contacts/{created['contact_id']}/hand-over", {"unit": "gd-gz-tianhe", "note": "nearest station"})
    assert closed["status"] == "closed" and closed["handed_to"] == "gd-gz-tianhe"


async def test_a_retried_intake_returns_the_same_contact(desk: Stack) -> None:
    body = contact_body()
    first = await file(desk, body, **{"Idempotency-Key": "call-contact-0001"})
    again = await desk.http.post("/contacts", json=body, headers={**auth("front_seat"), "Idempotency-Key": "call-contact-0001"})

    assert again.status_code == 200
    assert again.json()["contact_id"] == first["contact_id"] and again.json()["replayed"] is True
    assert again.json()["clocks"] == first["clocks"]
    by_message = contact_body("new_failure_mode", channel="wechat", channel_message_id="wx-msg-77")
    assert (await file(desk, by_message))["contact_id"] == (await desk.http.post(
        "/contacts", json=by_message, headers=auth("front_seat"))).json()["contact_id"]


async def test_a_consultation_handed_over_answered_and_called_back_closes(desk: Stack) -> None:
    cid = (await file(desk))["contact_id"]

    handed = await post(desk, f"/contacts/{cid}/hand-over", {"unit": "gd"})
    answered = await post(desk, f"/contacts/{cid}/department-answer", {"answer": "Insured value costs 1 % of the value"}, role="regional_cs")
    closed = await post(desk, f"/contacts/{cid}/callback", {"message": "Told the customer: 1 % of the value"})

    assert handed["status"] == "handed_over" and answered["status"] == "answered" and closed["status"] == "closed"
    assert {c["name"]: c["unit"] for c in closed["clocks"]}["consultation_department_answer"] == "gd"
    shown = (await desk.http.get(f"/contacts/{cid}", headers=auth("front_seat"))).json()
    assert [e["action"] for e in shown["timeline"]][-4:] == ["hand_over", "start_clock", "record_department_answer", "call_back"]
    assert shown["customer_phone"] == "138******00"  # the front seat too: whole only by a reveal


async def test_an_invalid_body_is_422_naming_the_field(desk: Stack) -> None:
    wrong_kind = await desk.http.post("/contacts", json=contact_body(kind="gossip"), headers=auth("front_seat"))
    no_location = await desk.http.post("/contacts", json=contact_body("rescue_request", location=None), headers=auth("front_seat"))
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    in_future = await desk.http.post("/contacts", json=contact_body(received_at=future), headers=auth("front_seat"))

    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["loc"] == ["body", "kind"]
    assert no_location.status_code == 422 and no_location.json()["detail"][0]["loc"] == ["body", "location"]
    assert in_future.status_code == 422 and in_future.json()["detail"][0]["loc"] == ["body", "received_at"]
    rescue = (await file(desk, contact_body("rescue_request")))["contact_id"]
    unknown = await desk.http.post(f"/contacts/{rescue}/hand-over", json={"unit": "atlantis"}, headers=auth("front_seat"))
    office = await desk.http.post(f"/contacts/{rescue}/hand-over", json={"unit": "gd"}, headers=auth("front_seat"))
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "unit"]
    assert office.status_code == 422 and "not a service point" in office.json()["detail"][0]["msg"]


async def test_a_role_or_unit_that_may_not_act_is_403(desk: Stack) -> None:
    filed_by_auditor = await desk.http.post("/contacts", json=contact_body(), headers=auth("auditor"))
    assert filed_by_auditor.status_code == 403 and "may not file contact" in filed_by_auditor.json()["detail"]

    cid = (await file(desk))["contact_id"]
    by_station = await desk.http.post(f"/contacts/{cid}/hand-over", json={"unit": "gd"}, headers=auth("production_unit"))
    assert by_station.status_code == 403
    await post(desk, f"/contacts/{cid}/hand-over", {"unit": "gd"})
    other_unit = await desk.http.post(f"/contacts/{cid}/department-answer", json={"answer": "not ours"},
                                      headers=auth("xihu_station"))
    assert other_unit.status_code == 403 and "handed to gd" in other_unit.json()["detail"]
    assert (await desk.http.get(f"/contacts/{cid}")).status_code == 401


async def test_a_wrong_step_is_409_with_the_current_status(desk: Stack) -> None:
    cid = (await file(desk))["contact_id"]

    early = await desk.http.post(f"/contacts/{cid}/callback", json={"message": "too early"}, headers=auth("front_seat"))
    assert early.status_code == 409 and early.json()["current_status"] == "received"
    assert "allowed from: answered" in early.json()["detail"]

    rescue = (await file(desk, contact_body("rescue_request")))["contact_id"]
    no_such_step = await desk.http.post(f"/contacts/{rescue}/answer", json={"answer": "x"}, headers=auth("front_seat"))
    assert no_such_step.status_code == 409 and "a rescue request has no such step" in no_such_step.json()["detail"]

    await post(desk, f"/contacts/{cid}/answer", {"answer": "Insured value costs 1 % of the value"})
    await desk.env.client.get_workflow_handle(f"contact-{cid}").result()
    after_closing = await desk.http.post(f"/contacts/{cid}/hand-over", json={"unit": "gd"}, headers=auth("front_seat"))
    assert after_closing.status_code == 409 and after_closing.json()["current_status"] == "closed"


async def test_an_unknown_contact_is_404(desk: Stack) -> None:
    assert (await desk.http.get("/contacts/KNOSUCHCASE00", headers=auth("auditor"))).status_code == 404
    resp = await desk.http.post("/contacts/KNOSUCHCASE00/callback", json={"message": "x"}, headers=auth("front_seat"))
    assert resp.status_code == 404
