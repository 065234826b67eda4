"""POST /customers/erasure (PIPL art. 47): a supervisor erases one customer's data from every closed
case at once, audited; while a case of theirs is open the request is refused whole, naming it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body

LI_NA = {"name": "李娜", "phone": "13800138000", "tier": "standard"}


def li_na_complaint(description: str) -> dict:
    return complaint_body(complainant=LI_NA, recipient={"name": "李娜", "phone": "13800138000", "address": "西湖区文三路90号"},
                          description=description)


async def this_months_measures(stack: Stack) -> list[dict]:
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # the organisation's calendar month
    resp = await stack.http.get("/measures", params={"period": "month", "at": month, "group_by": "category"},
                                headers=auth("supervisor"))
    assert resp.status_code == 200, resp.text
    return resp.json()["measures"]


async def erase(stack: Stack, phone: str, role: str = "supervisor", reason: str = "the customer asked by phone"):  # type: ignore[no-untyped-def]
    return await stack.http.post("/customers/erasure", json={"phone": phone, "reason": reason}, headers=auth(role))


async def test_an_erasure_is_refused_while_a_case_is_open_then_takes_every_closed_case(stack: Stack) -> None:
    answered = (await file(stack, li_na_complaint("李娜问运费为什么这么高")))["complaint_id"]
    await act(stack, answered, "first-contact-answer", {"answer": "运费含偏远地区附加费"})
    still_open = (await file(stack, li_na_complaint("李娜的包裹三天没动")))["complaint_id"]

    # The same number written another way is the same customer.
    refused = await erase(stack, "+86 138-0013-8000")

    assert refused.status_code == 409, refused.text
    assert refused.json()["open_cases"] == [still_open]
    kept = stack.read_model.complaints.find(answered)
    assert kept is not None and (kept.complainant_name, kept.deidentified_at) == ("李娜", None)

    # The centre ends the open case first (the customer's request is the reason), then erases.
    await act(stack, still_open, "handling", {})
    await act(stack, still_open, "unresolvable-closure", {"reason": "customer asked to be forgotten"}, role="supervisor")
    measures_before = await this_months_measures(stack)
    done = await erase(stack, "+86 138-0013-8000")

    assert done.status_code == 200, done.text
    # In the order received: the answered one was filed first.
    assert done.json() == {"deidentified": 2, "complaints": [answered, still_open], "contacts": []}
    for cid in (answered, still_open):
        row = stack.read_model.complaints.find(cid)
        assert row is not None
        assert (row.complainant_name, row.complainant_phone, row.recipient["address"], row.status) == (
            "[name]", "[phone]", "[address]", "closed")
        assert "李娜" not in row.description
    # The measures count the erased cases as before: both closed this month, in every figure they were in.
    measures_after = await this_months_measures(stack)
    assert measures_after == measures_before
    assert any(g["denominator"] >= 2 for m in measures_after for g in m["groups"])
    audit = (await stack.http.get("/audit", params={"action": "erase"}, headers=auth("auditor"))).json()
    assert sorted((e["case_id"], e["actor_id"], e["reason"]) for e in audit["items"]) == sorted(
        (cid, "sup-ma", "the customer asked by phone") for cid in (answered, still_open))

    # Asked again: nothing left to erase, and the request is on record all the same.
    again = await erase(stack, "13800138000")
    assert again.json() == {"deidentified": 0, "complaints": [], "contacts": []}
    audit = (await stack.http.get("/audit", params={"action": "erase"}, headers=auth("auditor"))).json()
    assert audit["total"] == 3 and audit["items"][0]["case_id"] is None


async def test_only_a_supervisor_erases_and_bad_input_names_the_field(stack: Stack) -> None:
    # permissions.erase_customer_data is [supervisor].
    for role in ("front_seat", "head_office_cs", "operations", "auditor"):
        assert (await erase(stack, "13800138000", role=role)).status_code == 403, role
    assert (await stack.http.post("/customers/erasure", json={"phone": "13800138000", "reason": "x"})).status_code == 401

    for body, field in (({"phone": "not a phone", "reason": "asked"}, "phone"), ({"phone": "13800138000"}, "reason"),
                        ({"phone": "13800138000", "reason": ""}, "reason")):
        resp = await stack.http.post("/customers/erasure", json=body, headers=auth("supervisor"))
        assert resp.status_code == 422, resp.text
        assert [e["loc"] for e in resp.json()["detail"]] == [["body", field]]
