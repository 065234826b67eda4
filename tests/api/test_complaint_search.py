"""GET /complaints filters, pages and sorts from the read model."""

from __future__ import annotations

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from datetime import UTC, datetime, timedelta

from tests.factories import complaint_body, urgent_body


async def listing(stack: Stack, **params: object) -> dict:
    resp = await stack.http.get("/complaints", params=params, headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def ids(page: dict) -> list[str]:
    return [c["complaint_id"] for c in page["items"]]


async def test_filters_by_each_field(stack: Stack) -> None:
    delay = (await file(stack, complaint_body(received_at="2026-03-01T10:00:00+08:00")))["complaint_id"]
    urgent = (await file(stack, urgent_body(channel="app", tracking_number="EX999000CN", received_at="2026-03-02T10:00:00+08:00")))["complaint_id"]
    fee = (await file(stack, complaint_body(category="fee_dispute", tracking_number=None, received_at="2026-03-03T10:00:00+08:00")))["complaint_id"]
    regional = await stack.http.post("/complaints", json=complaint_body(tracking_number="EX777000CN", received_at="2026-03-04T10:00:00+08:00"), headers=auth("regional_cs"))
    by_region = regional.json()["complaint_id"]
    await act(stack, delay, "handling", {})

    assert ids(await listing(stack, status="in_handling")) == [delay]
    assert ids(await listing(stack, urgency="urgent")) == [urgent]
    assert ids(await listing(stack, category="fee_dispute")) == [fee]
    assert ids(await listing(stack, channel="app")) == [urgent]
    assert ids(await listing(stack, tracking_number="EX999000CN")) == [urgent]
    assert ids(await listing(stack, unit="gd")) == [by_region]
    assert ids(await listing(stack, level=2, sort="received_at", received_to="2026-03-03T00:00:00+08:00")) == [delay, urgent]
    assert ids(await listing(stack, received_from="2026-03-02T00:00:00+08:00", received_to="2026-03-03T00:00:00+08:00")) == [urgent]


async def test_pages_and_sorts(stack: Stack) -> None:
    filed = [
        (await file(stack, complaint_body(received_at=f"2026-03-0{day}T10:00:00+08:00")))["complaint_id"]
        for day in range(1, 6)
    ]

    first = await listing(stack, sort="-received_at", page_size=2)
    third = await listing(stack, sort="-received_at", page_size=2, page=3)
    oldest_first = await listing(stack, sort="received_at", page_size=5)

    assert first["total"] == 5
    assert ids(first) == [filed[4], filed[3]]  # newest received first
    assert ids(third) == [filed[0]]
    assert ids(oldest_first) == filed


async def test_bad_query_parameters_are_422_naming_them(stack: Stack) -> None:
    for params, loc in (
        ({"sort": "password"}, ["query", "sort"]),
        ({"level": 7}, ["query", "level"]),
        ({"page_size": 1000}, ["query", "page_size"]),
        ({"status": "lost"}, ["query", "status"]),
        ({"received_from": "2026-03-01T00:00:00"}, ["query", "received_from"]),
    ):
        resp = await stack.http.get("/complaints", params=params, headers=auth("auditor"))
        assert resp.status_code == 422, params
        assert loc in [e["loc"] for e in resp.json()["detail"]], resp.json()


def minutes_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=n)).isoformat()


def customer(phone: str, tier: str = "standard") -> dict:
    return {"name": "Customer", "phone": phone, "tier": tier}


async def test_the_inbox_lists_high_priority_first_then_by_due_then_longest_waiting(stack: Stack) -> None:
    # Filed in the "wrong" order: the standard cases first, the VIP and the repeat last. Each its own
    # customer and parcel, so only the tier and the repeat make a case high priority (DOMAIN §3).
    earlier = (await file(stack, complaint_body(complainant=customer("13100000001"), received_at=minutes_ago(6))))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "It is at the Xihu station"})
    standard = (await file(stack, complaint_body(complainant=customer("13100000002"), received_at=minutes_ago(5))))
    later_standard = (await file(stack, complaint_body(complainant=customer("13100000003"), received_at=minutes_ago(4))))
    vip = (await file(stack, complaint_body(complainant=customer("13100000004", "vip"), received_at=minutes_ago(3))))
    repeat = (await file(stack, complaint_body(complainant=customer("13100000001"), received_at=minutes_ago(2))))
    assert [c["classification"]["priority"] for c in (standard, later_standard, vip, repeat)] == [
        "normal", "normal", "high", "high"]

    inbox = await listing(stack)  # the default order
    agents_inbox = await listing(stack, unit="call-centre", status="classified")

    # high first (vip, repeat); each group by its first-contact clock, due 2 h after receipt (delay) on the
    # same calendar, so the longer a case has waited the sooner it is due; the closed case owes no clock: last
    order = [vip, repeat, standard, later_standard, earlier]
    assert ids(inbox) == [c["complaint_id"] for c in order]
    assert ids(agents_inbox) == [c["complaint_id"] for c in order[:4]]
    assert [c["priority"] for c in inbox["items"]] == ["high", "high", "normal", "normal", "normal"]
    # an explicit sort still wins: newest received first; and -priority puts normal priority first
    assert ids(await listing(stack, sort="-received_at")) == [c["complaint_id"] for c in
                                                               (repeat, vip, later_standard, standard, earlier)]
    assert ids(await listing(stack, sort="-priority")) == [c["complaint_id"] for c in
                                                            (standard, later_standard, earlier, vip, repeat)]
