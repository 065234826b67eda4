"""Merge and split over the HTTP API (rules/merging.py): what a supervisor sees, and each refusal
with the field or the reason it names."""

from __future__ import annotations

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.waiting import eventually
from tests.workflows.test_search_attributes import workflow_ids

REASON = {"reason": "the same parcel, called in twice"}


async def in_handling(stack: Stack, body: dict | None = None) -> str:
    cid = (await file(stack, body or complaint_body()))["complaint_id"]
    await act(stack, cid, "handling", {"note": "investigating"})
    return cid


async def merge(stack: Stack, cid: str, into: str, role: str = "supervisor") -> tuple[int, dict]:
    resp = await stack.http.post(f"/complaints/{cid}/merge", headers=auth(role), json={"into": into, **REASON})
    return resp.status_code, resp.json()


async def detail(stack: Stack, cid: str) -> dict:
    return (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()


async def test_a_merged_complaint_points_to_its_target_and_a_split_brings_it_back(stack: Stack) -> None:
    target = await in_handling(stack)
    duplicate_body = complaint_body()
    duplicate = await in_handling(stack, duplicate_body)
    raised = await stack.http.post(f"/complaints/{duplicate}/dispatches", headers=auth("front_seat"), json={
        "kind": "direct_dispatch", "unit": "gd-gz-tianhe", "instruction": "Check the scan records"})
    assert raised.status_code == 201, raised.text

    status, merged = await merge(stack, duplicate, target)

    assert status == 200 and merged["status"] == "merged" and merged["merged_into"] == target
    assert (await detail(stack, duplicate))["merged_into"] == target
    assert (await detail(stack, target))["merged_cases"] == [duplicate]
    dispatches = (await stack.http.get(f"/complaints/{target}/dispatches", headers=auth("auditor"))).json()
    assert [d["dispatch_id"] for d in dispatches] == [raised.json()["dispatch_id"]]  # the duplicate's, shown on the target
    listed = (await stack.http.get("/complaints", params={"status": "merged"}, headers=auth("auditor"))).json()
    assert [c["complaint_id"] for c in listed["items"]] == [duplicate]
    # In the Temporal Web UI: ComplaintStatus = "merged" (a search attribute, no personal data)
    found = await workflow_ids(stack.env.client, f'ComplaintStatus = "merged" AND ComplaintId = "{duplicate}"', 1)
    assert found == {f"complaint-{duplicate}"}
    page = (await stack.http.get("/dashboard", headers=auth("supervisor"))).text
    assert 'id="merged-total">1<' in page  # one complaint merged, its clocks stopped
    step = await stack.http.post(f"/complaints/{duplicate}/resolution", headers=auth("front_seat"),
                                 json={"solution": "redelivered"})
    assert step.status_code == 409 and step.json()["current_status"] == "merged"

    # The customer calls again about the merged case: the contact joins the target.
    again = await stack.http.post("/complaints", headers=auth("front_seat"), json={**duplicate_body, "channel": "app"})
    assert again.status_code == 200 and again.json()["duplicate_of"] == target
    linked = await eventually(stack.env, lambda: [e for e in stack.read_model.complaints.get(target)[1]
                                                  if e.action == "link_duplicate"], "the contact never reached the target")
    assert linked[0].detail["channel"] == "app"

    split = await stack.http.post(f"/complaints/{duplicate}/split", headers=auth("supervisor"), json=REASON)
    assert split.status_code == 200 and split.json()["status"] == "in_handling" and split.json()["merged_into"] is None
    assert (await detail(stack, duplicate))["merged_into"] is None
    assert (await detail(stack, target))["merged_cases"] == []
    again = await stack.http.post(f"/complaints/{duplicate}/split", headers=auth("supervisor"), json=REASON)
    assert again.status_code == 409 and "not merged" in again.json()["detail"]


async def test_a_merge_is_refused_naming_the_field_or_the_reason(stack: Stack) -> None:
    a, b, c = [await in_handling(stack) for _ in range(3)]

    status, body = await merge(stack, a, a)
    assert status == 422 and body["detail"][0]["loc"] == ["body", "into"]
    status, body = await merge(stack, a, "C-NOSUCHCASE")
    assert status == 422 and body["detail"][0]["loc"] == ["body", "into"] and "no complaint" in body["detail"][0]["msg"]
    missing = await stack.http.post(f"/complaints/{a}/merge", headers=auth("supervisor"), json={"into": b})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]
    assert (await merge(stack, a, b, role="front_seat"))[0] == 403
    assert (await stack.http.post(f"/complaints/C-NOSUCHCASE/merge", headers=auth("supervisor"),
                                  json={"into": b, **REASON})).status_code == 404

    assert (await merge(stack, a, b))[0] == 200
    status, body = await merge(stack, c, a)  # A is merged into B: A → B … C refused, naming `into`
    assert status == 409 and body["detail"].startswith(f"into: complaint {a} is itself merged into {b}")
    status, body = await merge(stack, b, c)  # B holds A
    assert status == 409 and "merges are one level deep" in body["detail"]

    await act(stack, c, "unresolvable-closure", {"reason": "customer unreachable"}, role="supervisor")
    await eventually(stack.env, lambda: stack.read_model.complaints.find(c).status == "closed", "C never closed")
    status, body = await merge(stack, a, c)
    assert status == 409 and body["detail"] == f"into: complaint {c} is closed; a complaint is merged only into an open one"
