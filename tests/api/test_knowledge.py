"""The knowledge base through the API: a complaint solved to the customer's satisfaction is found
by a Chinese keyword and suggested when a similar complaint is typed at intake."""

from __future__ import annotations

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body

LOST_PARCEL = complaint_body(
    category="loss_or_damage",
    complainant={"name": "李娜", "phone": "13800138000", "tier": "standard"},
    description="客户李娜的包裹在广州转运中心丢失，电话13800138000",
    demand="尽快赔偿",
)


async def solved_case(stack: Stack) -> str:
    cid = (await file(stack, LOST_PARCEL))["complaint_id"]
    await act(stack, cid, "handling", {"note": "asked the Guangzhou hub"})
    await act(stack, cid, "resolution", {"solution": "转运中心确认丢失，按保价赔偿300元"})
    await act(stack, cid, "customer-confirmation", {"message": "赔偿已到账", "medium": "sms"})
    closed = await act(stack, cid, "callback", {"satisfied": True, "customer_words": "满意"})
    assert closed["status"] == "closed"
    return cid


async def test_a_solved_complaint_is_found_by_a_chinese_keyword(stack: Stack) -> None:
    cid = await solved_case(stack)

    resp = await stack.http.get("/knowledge", params={"q": "丢失"}, headers=auth("production_unit"))

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["words"] == ["丢失"]
    [hit] = body["items"]
    assert hit["complaint_id"] == cid
    assert (hit["category"], hit["outcome"], hit["handling_round"]) == ("loss_or_damage", "satisfied", 0)
    assert hit["solution"] == "转运中心确认丢失，按保价赔偿300元"
    assert hit["demand"] == "尽快赔偿"
    assert "[丢失]" in hit["snippet"]
    assert "李娜" not in resp.text and "13800138000" not in resp.text  # DOMAIN §9
    assert "Li Na" not in resp.text  # the recipient

    by_category = await stack.http.get("/knowledge", params={"q": "丢失", "category": "delay"}, headers=auth("auditor"))
    assert by_category.json()["items"] == []


async def test_at_intake_the_most_similar_solved_case_is_suggested(stack: Stack) -> None:
    cid = await solved_case(stack)
    draft = {"description": "我的包裹好像丢失了，想要赔偿", "category": "loss_or_damage",
             "tracking_number": "EX0000000042CN"}

    resp = await stack.http.post("/knowledge/suggestions", json=draft, headers=auth("front_seat"))

    assert resp.status_code == 200, resp.text
    [hit] = resp.json()["items"]
    assert hit["complaint_id"] == cid
    assert hit["score"] > 0
    assert hit["solution"] == "转运中心确认丢失，按保价赔偿300元"
    # Filing the next complaint is untouched: suggestions are a read beside it.
    assert (await stack.http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))).status_code == 201


async def test_bad_input_is_422_naming_the_field(stack: Stack) -> None:
    reader = auth("auditor")
    cases = [
        (await stack.http.get("/knowledge", params={"q": ""}, headers=reader), ["query", "q"]),
        (await stack.http.get("/knowledge", params={"q": "，。！"}, headers=reader), ["query", "q"]),
        (await stack.http.get("/knowledge", headers=reader), ["query", "q"]),
        (await stack.http.get("/knowledge", params={"q": "丢失", "category": "teleport"}, headers=reader),
         ["query", "category"]),
        (await stack.http.get("/knowledge", params={"q": "丢失", "limit": 0}, headers=reader), ["query", "limit"]),
        (await stack.http.post("/knowledge/suggestions", json={"description": ""}, headers=reader),
         ["body", "description"]),
        (await stack.http.post("/knowledge/suggestions", json={"description": "丢失", "category": "teleport"},
                               headers=reader), ["body", "category"]),
    ]
    for resp, loc in cases:
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"][0]["loc"] == loc

    assert (await stack.http.get("/knowledge", params={"q": "丢失"})).status_code == 401
