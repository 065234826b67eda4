"""Repeat and duplicate complaints at intake (DOMAIN §2), through the API on the dev server."""

from __future__ import annotations

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body


async def detail(stack: Stack, complaint_id: str) -> dict:
    resp = await stack.http.get(f"/complaints/{complaint_id}", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_the_same_complaint_through_a_second_channel_returns_the_first_case(stack: Stack) -> None:
    first = await file(stack, complaint_body(channel="hotline", tracking_number="EX7000000001CN"))
    again = complaint_body(channel="wechat", tracking_number="EX7000000001CN", channel_message_id="wx-889")

    resp = await stack.http.post("/complaints", json=again, headers=auth("front_seat"))
    retried = await stack.http.post("/complaints", json=again, headers=auth("front_seat"))

    assert resp.status_code == 200, resp.text
    assert resp.json()["complaint_id"] == first["complaint_id"] and resp.json()["duplicate_of"] == first["complaint_id"]
    assert retried.status_code == 200 and retried.json()["complaint_id"] == first["complaint_id"]
    links = [e for e in (await detail(stack, first["complaint_id"]))["timeline"] if e["action"] == "link_duplicate"]
    assert len(links) == 1  # the retried request linked nothing twice
    assert links[0]["detail"]["channel"] == "wechat" and links[0]["detail"]["channel_message_id"] == "wx-889"
    listed = (await stack.http.get("/complaints", params={"tracking_number": "EX7000000001CN"},
                                   headers=auth("auditor"))).json()
    assert listed["total"] == 1  # no second case


async def test_another_category_or_parcel_is_a_case_of_its_own(stack: Stack) -> None:
    first = await file(stack, complaint_body(tracking_number="EX7000000002CN", category="delay"))
    other_category = await file(stack, complaint_body(tracking_number="EX7000000002CN", category="staff_attitude"))
    other_parcel = await file(stack, complaint_body(tracking_number="EX7000000003CN", category="delay"))

    assert len({first["complaint_id"], other_category["complaint_id"], other_parcel["complaint_id"]}) == 3
    assert other_category["duplicate_of"] is None and other_parcel["repeat_of"] == []  # the first is still open


async def test_complaining_again_after_closing_is_a_flagged_repeat_with_raised_priority(stack: Stack) -> None:
    customer = {"name": "Wu Lan", "phone": "13900001111", "tier": "standard"}
    earlier = await file(stack, complaint_body(complainant=customer, tracking_number="EX7000000004CN"))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "It is at the Xihu station"})

    again = await file(stack, complaint_body(complainant=customer, tracking_number="EX7000000004CN"))

    assert again["complaint_id"] != earlier["complaint_id"]  # closed: a new case, not a duplicate
    assert again["repeat_of"] == [earlier["complaint_id"]]
    assert again["classification"]["priority"] == "high"
    assert f"repeat complaint: earlier cases {earlier['complaint_id']}" in " ".join(
        again["classification"]["priority_reasons"])
    shown = await detail(stack, again["complaint_id"])
    assert shown["is_repeat"] is True and shown["repeat_of"] == [earlier["complaint_id"]]
    assert (await detail(stack, earlier["complaint_id"]))["is_repeat"] is False


async def test_the_same_parcel_from_another_customer_after_closing_is_a_repeat_too(stack: Stack) -> None:
    earlier = await file(stack, complaint_body(tracking_number="EX7000000005CN"))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "Delivered to the locker"})
    recipient = {"name": "Sun Yi", "phone": "13700002222", "tier": "vip"}

    again = await file(stack, complaint_body(complainant=recipient, tracking_number="EX7000000005CN"))

    assert again["repeat_of"] == [earlier["complaint_id"]]
