"""An Idempotency-Key is bound to its first request's caller and body (complaints and contacts):
a retry gets that request's case, another caller or body is a 422 naming the header, and ten
concurrent requests with one key make one case: one 201, nine 200 replayed."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.test_contacts import contact_body, desk  # noqa: F401  (the fixture ends the contacts a test leaves)
from tests.conftest import Stack, auth
from tests.factories import complaint_body

KEY_ERROR = ["header", "Idempotency-Key"]


def post(stack: Stack, path: str, body: dict, key: str, role: str = "front_seat") -> asyncio.Future[httpx.Response]:
    return stack.http.post(path, json=body, headers={**auth(role), "Idempotency-Key": key})  # type: ignore[return-value]


async def cases(stack: Stack) -> int:
    return (await stack.http.get("/complaints", headers=auth("auditor"))).json()["total"]


async def test_ten_concurrent_requests_with_one_key_make_one_complaint(stack: Stack) -> None:
    body = complaint_body()

    answers = await asyncio.gather(*(post(stack, "/complaints", body, "call-0001") for _ in range(10)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 9 + [201], [a.text for a in answers]
    assert {a.json()["complaint_id"] for a in answers} == {answers[0].json()["complaint_id"]}
    assert sorted(a.json()["replayed"] for a in answers) == [False] + [True] * 9  # the one 201 is not a replay
    assert await cases(stack) == 1
    timeline = (await stack.http.get(f"/complaints/{answers[0].json()['complaint_id']}", headers=auth("auditor"))).json()
    assert [e["action"] for e in timeline["timeline"]].count("receive") == 1


async def test_the_same_key_with_another_body_is_a_422_naming_the_header(stack: Stack) -> None:
    first = await post(stack, "/complaints", complaint_body(tracking_number="EX5100000001CN"), "call-0002")
    other = complaint_body(tracking_number="EX5100000002CN")  # another parcel: another complaint

    again = await post(stack, "/complaints", other, "call-0002")

    assert first.status_code == 201
    assert again.status_code == 422, again.text
    [error] = again.json()["detail"]
    assert error["loc"] == KEY_ERROR and "another body" in error["msg"] and error["input"] == "call-0002"
    assert await cases(stack) == 1  # neither the first complaint returned nor a second one filed


async def test_the_same_key_from_another_caller_is_a_422_naming_the_header(stack: Stack) -> None:
    body = complaint_body()
    assert (await post(stack, "/complaints", body, "call-0003")).status_code == 201

    again = await post(stack, "/complaints", body, "call-0003", role="regional_cs")  # same body, another token

    assert again.status_code == 422, again.text
    [error] = again.json()["detail"]
    assert error["loc"] == KEY_ERROR and "another caller" in error["msg"]
    assert (await post(stack, "/complaints", body, "call-0003")).status_code == 200  # its own caller still replays


async def test_the_same_body_in_another_key_order_is_the_same_request(stack: Stack) -> None:
    body = complaint_body()
    first = await post(stack, "/complaints", body, "call-0004")

    again = await post(stack, "/complaints", dict(reversed(list(body.items()))), "call-0004")

    assert again.status_code == 200 and again.json()["complaint_id"] == first.json()["complaint_id"]
    assert again.json()["replayed"] is True


async def test_a_contacts_key_is_bound_the_same_way(desk: Stack) -> None:  # noqa: F811
    body = contact_body()

    answers = await asyncio.gather(*(post(desk, "/contacts", body, "contact-0001") for _ in range(10)))
    other_body = await post(desk, "/contacts", contact_body(description="Where is my parcel?"), "contact-0001")
    other_caller = await post(desk, "/contacts", body, "contact-0001", role="regional_cs")

    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    assert len({a.json()["contact_id"] for a in answers}) == 1
    assert sorted(a.json()["replayed"] for a in answers) == [False] + [True] * 9
    for refused, why in ((other_body, "another body"), (other_caller, "another caller")):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == KEY_ERROR and why in refused.json()["detail"][0]["msg"]
