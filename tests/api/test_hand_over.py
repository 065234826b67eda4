"""Shift hand-over (交接班) over the API on a running stack: the seat that takes a case into handling
owns it; `GET /hand-over` lists a seat's or a unit's open cases with the clocks due within the
horizon and the promises still owed to the customer; a hand-over (one case, or a seat's whole
shift) moves the owner through the case's workflow and writes a row on its timeline.

Seats (config/tokens.dev.yaml): the front seat agent-wang (call-centre) files and takes the cases,
the evening front seat agent-li takes them over."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body

WANG, LI = "agent-wang", "agent-li"
EVENING = {"Authorization": "Bearer dev-front-seat-evening"}


async def detail(stack: Stack, complaint_id: str) -> dict[str, Any]:
    resp = await stack.http.get(f"/complaints/{complaint_id}", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def listing(stack: Stack, headers: dict[str, str] | None = None, **query: Any) -> dict[str, Any]:
    resp = await stack.http.get("/hand-over", params=query, headers=headers or auth("front_seat"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def expected_due(clocks: list[dict[str, Any]], as_of: datetime, until: datetime) -> list[str]:
    """The rule: every unmet clock due before the horizon's end (overdue ones too), soonest first."""
    unmet = [c for c in clocks if c["met_at"] is None and datetime.fromisoformat(c["due"]) < until]
    return [c["name"] for c in sorted(unmet, key=lambda c: c["due"])]


async def test_a_seats_open_work_is_listed_and_handed_over_to_the_evening_seat(stack: Stack) -> None:
    vip = (await file(stack, complaint_body(complainant={"name": "Wu Yi", "phone": "13900139000", "tier": "vip"})))["complaint_id"]
    plain = (await file(stack))["complaint_id"]
    untaken = (await file(stack))["complaint_id"]
    for cid in (vip, plain):
        taken = await act(stack, cid, "handling", {"note": "on it"})
        assert taken["owner"]["id"] == WANG  # the seat that takes the case owns it

    mine = await listing(stack, hours=6)  # no seat given: the caller's own
    assert mine["seat"] == WANG and sorted(c["complaint_id"] for c in mine["cases"]) == sorted([vip, plain])
    as_of, until = datetime.fromisoformat(mine["as_of"]), datetime.fromisoformat(mine["until"])
    assert until - as_of == timedelta(hours=6)
    for case in mine["cases"]:
        clocks = (await detail(stack, case["complaint_id"]))["clocks"]
        assert [c["kind"] for c in case["clocks_due"]] == expected_due(clocks, as_of, until)
        # promised to the customer, whatever the horizon: the next progress update and the solution
        assert sorted(p["kind"] for p in case["promises"]) == ["progress_update", "solution"]
        assert case["owner"]["id"] == WANG
    assert next(c for c in mine["cases"] if c["complaint_id"] == vip)["queue"] == "vip"
    assert mine["clocks_due"] == sum(len(c["clocks_due"]) for c in mine["cases"])

    default = await listing(stack)
    assert datetime.fromisoformat(default["until"]) - datetime.fromisoformat(default["as_of"]) == timedelta(hours=4)  # policy hand_over.horizon_hours

    unit = await listing(stack, unit="call-centre", hours=168)
    by_id = {c["complaint_id"]: c for c in unit["cases"]}
    assert set(by_id) == {vip, plain, untaken} and by_id[untaken]["owner"] is None  # led by the unit, not taken yet

    # One case handed over: the owner changes and the timeline says from whom to whom.
    resp = await stack.http.post(f"/complaints/{plain}/hand-over", headers=auth("front_seat"),
                                 json={"to_seat": LI, "note": "customer expects a call at 19:00"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["owner"] == {"id": LI, "name": "Li Ming (evening front seat)", "role": "front_seat", "unit": "call-centre"}
    shown = await detail(stack, plain)
    assert (shown["owner_id"], shown["owner_name"]) == (LI, "Li Ming (evening front seat)")
    row = shown["timeline"][-1]
    assert (row["action"], row["actor_id"], row["from_status"], row["to_status"]) == ("hand_over", WANG, "in_handling", "in_handling")
    assert (row["detail"]["from_seat"]["id"], row["detail"]["to_seat"]["id"]) == (WANG, LI)
    assert row["detail"]["note"] == "customer expects a call at 19:00"

    # The rest of the shift at once: only what agent-wang still owns moves.
    resp = await stack.http.post("/hand-overs", headers=auth("front_seat"), json={"from_seat": WANG, "to_seat": LI})
    assert resp.status_code == 200, resp.text
    bulk = resp.json()
    assert [s["complaint_id"] for s in bulk["handed_over"]] == [vip] and bulk["refused"] == []
    assert (await listing(stack, seat=WANG))["cases"] == []
    assert sorted(c["complaint_id"] for c in (await listing(stack, EVENING))["cases"]) == sorted([vip, plain])
    assert [e["action"] for e in (await detail(stack, vip))["timeline"]].count("hand_over") == 1

    # The evening seat owns them now: it may resolve one, and the list no longer shows its solution as owed.
    await act(stack, vip, "resolution", {"solution": "Redelivered by courier"})
    after = next(c for c in (await listing(stack, EVENING))["cases"] if c["complaint_id"] == vip)
    assert after["status"] == "resolved" and "solution" not in [p["kind"] for p in after["promises"]]

    inbox = await stack.http.get("/complaints", headers=auth("auditor"))
    assert sorted(c["complaint_id"] for c in inbox.json()["items"] if c["owner_id"] == LI) == sorted([vip, plain])

    # The unit's shift at once, by its supervisor: every owned open case of a call-centre seat, back
    # to agent-wang; the case nobody took stays unowned.
    resp = await stack.http.post("/hand-overs", headers=auth("supervisor"), json={"unit": "call-centre", "to_seat": WANG})
    assert resp.status_code == 200, resp.text
    assert sorted(s["complaint_id"] for s in resp.json()["handed_over"]) == sorted([vip, plain])
    assert (await detail(stack, untaken))["owner_id"] is None


async def test_a_hand_over_that_cannot_be_done_says_why(stack: Stack) -> None:
    taken = (await file(stack))["complaint_id"]
    await act(stack, taken, "handling", {"note": "on it"})
    untaken = (await file(stack))["complaint_id"]

    async def hand(cid: str, body: dict[str, Any], role: str = "front_seat") -> Any:
        return await stack.http.post(f"/complaints/{cid}/hand-over", json=body, headers=auth(role))

    unknown_seat = await hand(taken, {"to_seat": "nobody"})
    assert unknown_seat.status_code == 422 and unknown_seat.json()["detail"][0]["loc"] == ["body", "to_seat"]
    auditor_seat = await hand(taken, {"to_seat": "audit-he"})  # an auditor reads, never takes a case
    assert auditor_seat.status_code == 422 and "cannot take complaints over" in auditor_seat.json()["detail"][0]["msg"]
    assert (await hand(taken, {})).status_code == 422
    assert (await hand("C0000000000000", {"to_seat": LI})).status_code == 404
    not_taken = await hand(untaken, {"to_seat": LI})
    assert not_taken.status_code == 409 and "nobody has taken the complaint into handling" in not_taken.json()["detail"]
    own = await hand(taken, {"to_seat": WANG})
    assert own.status_code == 409 and "owns the complaint already" in own.json()["detail"]
    assert (await hand(taken, {"to_seat": LI}, role="production_unit")).status_code == 403  # may not handle complaints
    other_unit = await hand(taken, {"to_seat": LI}, role="regional_cs")  # gd is not above the call centre
    assert other_unit.status_code == 403 and "owned by seat agent-wang" in other_unit.json()["detail"]

    for query, field in (({"seat": WANG, "unit": "call-centre"}, "unit"), ({"unit": "nowhere"}, "unit"), ({"hours": 0}, "hours")):
        resp = await stack.http.get("/hand-over", params=query, headers=auth("front_seat"))
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", field], resp.text
    both = await stack.http.post("/hand-overs", headers=auth("front_seat"),
                                 json={"from_seat": WANG, "unit": "call-centre", "to_seat": LI})
    assert both.status_code == 422
    assert (await stack.http.get("/hand-over")).status_code == 401

    # Closed: no longer handed over.
    await act(stack, taken, "unresolvable-closure", {"reason": "customer unreachable"}, role="supervisor")
    closed = await hand(taken, {"to_seat": LI})
    assert closed.status_code == 409
    assert (await detail(stack, taken))["owner_id"] == WANG
