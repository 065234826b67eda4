"""The customer-care endpoints (progress updates, solution extension, complex cases) through the
API on the dev server: what each role may do, and the errors a caller sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth


async def in_handling(stack: Stack) -> str:
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {"note": "investigating"})
    return cid


def in_two_hours() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).isoformat()


async def test_a_manual_progress_update_is_on_the_timeline_and_moves_the_next_one(stack: Stack) -> None:
    cid = await in_handling(stack)
    before = {c["name"]: c for c in (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["clocks"]}

    await act(stack, cid, "progress-updates", {"message": "The station found it", "medium": "call"})

    shown = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    after = {c["name"]: c for c in shown["clocks"]}
    assert shown["timeline"][-1]["action"] == "record_progress_update"
    assert after["progress_update"]["due"] >= before["progress_update"]["due"]
    assert {"solution", "progress_update", "first_contact"} <= set(after)


async def test_a_wrong_medium_is_422_naming_the_field(stack: Stack) -> None:
    cid = await in_handling(stack)
    resp = await stack.http.post(f"/complaints/{cid}/progress-updates", json={"message": "hi", "medium": "pigeon"},
                                 headers=auth("front_seat"))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "medium"]


async def test_only_a_supervisor_takes_a_case_complex(stack: Stack) -> None:
    cid = await in_handling(stack)
    refused = await stack.http.post(f"/complaints/{cid}/complex", json={"reason": "three units"}, headers=auth("front_seat"))
    assert refused.status_code == 403

    await act(stack, cid, "complex", {"reason": "three units"}, role="supervisor")
    shown = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert shown["complex_case"] is True


async def test_the_plan_needs_a_meeting_first_and_known_departments(stack: Stack) -> None:
    cid = await in_handling(stack)
    await act(stack, cid, "complex", {"reason": "three units"}, role="supervisor")
    plan = {"actions": [{"department": "gd-gz-tianhe", "owner": "Guo Liang", "description": "search the line",
                         "due": in_two_hours()}]}

    early = await stack.http.post(f"/complaints/{cid}/plan", json=plan, headers=auth("supervisor"))
    assert early.status_code == 409 and "coordination meeting" in early.text

    unknown = await stack.http.post(f"/complaints/{cid}/coordination-meeting", headers=auth("supervisor"), json={
        "held_at": datetime.now(UTC).isoformat(), "departments": ["gd", "atlantis"], "attendees": ["Lin"],
        "findings": "scans show the parcel left unsorted"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "departments", "1"]

    await act(stack, cid, "coordination-meeting", {
        "held_at": datetime.now(UTC).isoformat(), "departments": ["gd", "gd-gz-tianhe"], "attendees": ["Lin", "Guo"],
        "findings": "scans show the parcel left unsorted"}, role="supervisor")
    await act(stack, cid, "plan", plan, role="supervisor")
    done = await act(stack, cid, "plan/1/done", {"outcome": "found and redelivered"})
    assert done["status"] == "resolved"  # the last action done resolved the case
    shown = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert shown["status"] == "resolved" and shown["plan"][0]["outcome"] == "found and redelivered"

    missing = await stack.http.post(f"/complaints/{cid}/plan/7/done", json={"outcome": "x"}, headers=auth("front_seat"))
    assert missing.status_code == 409


async def test_an_extension_of_a_resolved_case_is_409_with_the_state(stack: Stack) -> None:
    cid = await in_handling(stack)
    await act(stack, cid, "resolution", {"solution": "redelivered"})
    resp = await stack.http.post(f"/complaints/{cid}/solution-extension", json={"reason": "x", "medium": "call"},
                                 headers=auth("front_seat"))
    assert resp.status_code == 409 and "resolved" in resp.text
