"""The complaint lifecycle through the HTTP API, with a real worker and a real Temporal server."""

from __future__ import annotations

from tests.conftest import Stack, auth
from workflows.complaint import ComplaintWorkflow
from tests.factories import complaint_body, urgent_body
from tests.workflows.test_built_with import patch_markers, version_upserts


async def file(stack: Stack, body: dict | None = None, **headers: str) -> dict:
    resp = await stack.http.post("/complaints", json=body or complaint_body(), headers={**auth("front_seat"), **headers})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def act(stack: Stack, complaint_id: str, step: str, body: dict, role: str = "front_seat") -> dict:
    resp = await stack.http.post(f"/complaints/{complaint_id}/{step}", json=body, headers=auth(role))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def timeline(stack: Stack, complaint_id: str) -> list[tuple[str, str | None, str]]:
    resp = await stack.http.get(f"/complaints/{complaint_id}", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return [(e["action"], e["from_status"], e["to_status"]) for e in resp.json()["timeline"]]


async def test_filing_classifies_and_shows_the_reasons_for_urgency(stack: Stack) -> None:
    created = await file(stack, urgent_body())

    assert created["workflow_id"] == f"complaint-{created['complaint_id']}"
    assert created["status"] == "classified"
    cls = created["classification"]
    assert cls["urgency"] == "urgent"
    assert cls["urgent_reasons"] == [{"rule": "urgent_papers", "matched": "passport", "source": "contents"}]
    assert cls["level"] == 2
    # readable at once from the read model, with who filed it
    detail = (await stack.http.get(f"/complaints/{created['complaint_id']}", headers=auth("auditor"))).json()
    assert detail["urgency"] == "urgent"
    assert detail["timeline"][0]["actor_id"] == "agent-wang"


async def test_a_case_filed_through_the_api_runs_the_customer_clocks_without_patch_markers(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {"note": "asked the Tianhe station"})

    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert {c["name"] for c in detail["clocks"]} >= {"first_contact", "solution", "progress_update"}
    handle = stack.env.client.get_workflow_handle(f"complaint-{cid}")
    assert await patch_markers(handle) == []
    assert await version_upserts(handle) == 0


async def test_full_lifecycle_with_a_dissatisfied_callback_that_reopens(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]

    await act(stack, cid, "handling", {"note": "asked the Tianhe station"})
    await act(stack, cid, "resolution", {"solution": "delivered today by a dedicated courier"})
    await act(stack, cid, "customer-confirmation", {"message": "Your parcel is out for delivery", "medium": "sms"})
    reopened = await act(stack, cid, "callback", {"satisfied": False, "customer_words": "It came broken"})
    assert reopened["status"] == "in_handling"
    assert reopened["handling_round"] == 1
    assert reopened["one_time_resolution"] is False

    await act(stack, cid, "resolution", {"solution": "compensation of 200 CNY paid"})
    await act(stack, cid, "customer-confirmation", {"message": "Compensation paid", "medium": "sms"})
    closed = await act(stack, cid, "callback", {"satisfied": True, "customer_words": "Thank you"})
    assert closed["status"] == "closed"

    assert await timeline(stack, cid) == [
        ("receive", None, "received"),
        ("classify", "received", "classified"),
        ("start_clock", "classified", "classified"),  # first contact
        ("start_clock", "classified", "classified"),  # the solution, owed from receipt (DOMAIN §5)
        ("take_into_handling", "classified", "in_handling"),
        ("resolve", "in_handling", "resolved"),
        ("confirm_with_customer", "resolved", "confirmed"),
        ("record_dissatisfied_callback", "confirmed", "in_handling"),
        ("resolve", "in_handling", "resolved"),
        ("confirm_with_customer", "resolved", "confirmed"),
        ("record_satisfied_callback", "confirmed", "closed"),
    ]
    outcome = await stack.env.client.get_workflow_handle_for(ComplaintWorkflow.run, f"complaint-{cid}").result()
    assert outcome.status == "closed" and outcome.handling_round == 1
    row = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert row["status"] == "closed" and row["closed_at"] is not None and row["one_time_resolution"] is False


async def test_simple_query_closes_at_first_contact(stack: Stack) -> None:
    cid = (await file(stack, complaint_body(category="fee_dispute")))["complaint_id"]

    closed = await act(stack, cid, "first-contact-answer", {"answer": "The fee includes the remote-area surcharge."})

    assert closed["status"] == "closed"
    assert await timeline(stack, cid) == [
        ("receive", None, "received"),
        ("classify", "received", "classified"),
        ("start_clock", "classified", "classified"),  # first contact
        ("start_clock", "classified", "classified"),  # the solution, owed from receipt (DOMAIN §5)
        ("answer_at_first_contact", "classified", "closed"),
    ]
    # Answered at once: the first contact is made and the answer is the solution, so no clock runs on.
    clocks = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["clocks"]
    assert {c["name"] for c in clocks} == {"first_contact", "solution"}
    assert all(c["met_at"] is not None for c in clocks)


async def test_supervisor_closes_an_unresolvable_case_with_a_reason(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {})

    closed = await act(stack, cid, "unresolvable-closure", {"reason": "customer unreachable for 5 days"}, role="supervisor")

    assert closed["status"] == "closed"
    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert detail["timeline"][-1]["detail"] == {"reason": "customer unreachable for 5 days"}
    assert detail["timeline"][-1]["actor_role"] == "supervisor"
