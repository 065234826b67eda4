"""Customer data by role (DOMAIN §9, GB/T 41833-2022): every role reads every person field masked, in
the complaint, the list, the contact and the CSV export, and no page shows a person; a role that must call the customer reveals one
field with a reason, answered once and audited; the production unit only on its open direct dispatch."""

from __future__ import annotations

import csv
import io

from tests.api.test_complaint_lifecycle import act, file
from tests.api.test_contacts import contact_body, desk  # noqa: F401 (desk: a fixture)
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.workflows.test_dispatches import GOOD_FINDING, dispatch, reply

READERS = ["front_seat", "urgent_group", "regional_cs", "production_unit", "director", "head_office_cs",
           "arbitration", "supervisor", "auditor", "operations"]  # permissions.read_complaints

PEOPLE = complaint_body(
    complainant={"name": "欧阳娜娜", "phone": "+86 138 0013 8034", "tier": "standard"},
    sender={"name": "Zhang San", "phone": "020-12345678", "address": "广州市天河区体育西路 101 号 2 栋 1203 室"},
    recipient={"name": "李娜", "phone": "13912345678", "address": "Room 1203, 18 Queen's Road Central, Hong Kong"},
    description="李娜 says: call 13912345678 or write to zsf@example.com; ID 110101199003071234.",
    demand="Ring 欧阳娜娜 back",
    evidence=[{"kind": "call_recording", "reference": "rec://2026/03/02/0001", "note": "李娜 called from 13912345678"}],
)

# Worked out from the rules, not read from the code:
# a phone keeps its first 3 and last 2 digits of the national form, the 6 or more between starred;
# a Chinese name keeps its surname (欧阳 is a two-character one), a Latin one each word's first letter;
# an address loses everything from its first number (Chinese) or each number (Latin).
MASKED = {
    "complainant_name": "欧阳**",
    "complainant_phone": "138******34",  # +86 dropped: 13800138034, 11 digits, 6 hidden
    "sender": {"name": "Z**** S**", "phone": "020******78", "address": "广州市天河区体育西路 ****"},
    "recipient": {"name": "李*", "phone": "139******78", "address": "Room ****, **** Queen's Road Central, Hong Kong"},
    "description": "李* says: call 139******78 or write to z**@example.com; ID 1****************4.",
    "demand": "Ring 欧阳** back",
    "evidence": [{"kind": "call_recording", "reference": "rec://2026/03/02/0001", "note": "李* called from 139******78"}],
}
FULL = ["欧阳娜娜", "13800138034", "138 0013 8034", "12345678", "李娜", "Zhang San", "13912345678",
        "zsf@example.com", "110101199003071234"]


def nothing_whole(text: str) -> None:
    for value in FULL:
        assert value not in text, value


async def test_every_role_reads_every_person_field_masked(stack: Stack) -> None:
    cid = (await file(stack, PEOPLE))["complaint_id"]
    await act(stack, cid, "progress-updates", {"message": "Told 李娜 we call 13912345678 at 16:00", "medium": "call"})

    for role in READERS:
        shown = (await stack.http.get(f"/complaints/{cid}", headers=auth(role))).json()
        assert {k: shown[k] for k in MASKED} == MASKED, role
        [listed] = (await stack.http.get("/complaints", headers=auth(role))).json()["items"]
        assert (listed["complainant_name"], listed["complainant_phone"]) == ("欧阳**", "138******34"), role
        nothing_whole(str(shown) + str(listed))
    timeline = [e["detail"] for e in shown["timeline"] if e["action"] == "record_progress_update"]
    assert timeline[0]["message"] == "Told 李* we call 139******78 at 16:00"


async def test_a_front_seat_reveals_one_number_with_a_reason_once_and_it_is_audited(stack: Stack) -> None:
    cid = (await file(stack, PEOPLE))["complaint_id"]

    resp = await stack.http.post(f"/complaints/{cid}/reveal", headers=auth("front_seat"),
                                 json={"field": "recipient.phone", "reason": "calling to arrange delivery"})

    assert resp.status_code == 200, resp.text
    assert resp.json() == {"complaint_id": cid, "field": "recipient.phone", "value": "13912345678"}
    assert resp.headers["cache-control"] == "no-store"
    [row] = (await stack.http.get("/audit", params={"action": "reveal"}, headers=auth("auditor"))).json()["items"]
    assert (row["actor_id"], row["role"], row["unit"], row["what"], row["case_id"], row["reason"]) == (
        "agent-wang", "front_seat", "call-centre", "recipient.phone", cid, "calling to arrange delivery")
    assert "13912345678" not in str(row)  # the log names the field, never the value
    # The detail stays masked after a reveal: the value was answered once, not unlocked.
    assert (await stack.http.get(f"/complaints/{cid}", headers=auth("front_seat"))).json()["recipient"]["phone"] == "139******78"


async def test_a_reveal_needs_a_known_field_a_reason_and_the_permission(stack: Stack) -> None:
    cid = (await file(stack, PEOPLE))["complaint_id"]

    async def ask(body: dict, role: str = "front_seat", case: str = cid) -> tuple[int, object]:
        resp = await stack.http.post(f"/complaints/{case}/reveal", headers=auth(role), json=body)
        return resp.status_code, resp.json()["detail"]

    status, detail = await ask({"field": "complainant.phone"})
    assert status == 422 and ["body", "reason"] in [e["loc"] for e in detail]
    status, detail = await ask({"field": "complainant.phone", "reason": "   "})
    assert status == 422 and ["body", "reason"] in [e["loc"] for e in detail]
    status, detail = await ask({"field": "complainant.name", "reason": "to greet her"})  # names are never revealed
    assert status == 422 and ["body", "field"] in [e["loc"] for e in detail]
    for role in ("auditor", "urgent_group", "director", "operations", "arbitration"):  # not in reveal_customer_data
        status, detail = await ask({"field": "complainant.phone", "reason": "curious"}, role=role)
        assert status == 403 and "may not reveal customer data" in str(detail), role
    assert (await ask({"field": "complainant.phone", "reason": "call"}, case="C-NOPE"))[0] == 404
    no_phone = (await file(stack, complaint_body()))["complaint_id"]  # the factory's sender gives no phone
    status, detail = await ask({"field": "sender.phone", "reason": "call"}, case=no_phone)
    assert status == 404 and "sender.phone" in str(detail)
    assert (await stack.http.get("/audit", params={"action": "reveal"}, headers=auth("auditor"))).json()["total"] == 0


async def test_a_production_unit_reveals_only_while_its_direct_dispatch_is_open(stack: Stack) -> None:
    cid = (await file(stack, PEOPLE))["complaint_id"]
    await act(stack, cid, "handling", {"note": "investigating"})
    body = {"field": "complainant.phone", "reason": "seed 000: call the customer first"}

    async def reveal(role: str) -> int:
        return (await stack.http.post(f"/complaints/{cid}/reveal", headers=auth(role), json=body)).status_code

    assert await reveal("production_unit") == 403  # no dispatch yet
    raised = await stack.http.post(f"/complaints/{cid}/dispatches", headers=auth("front_seat"), json={
        "kind": "direct_dispatch", "unit": "gd-gz-tianhe", "instruction": "Call 欧阳娜娜 on 13800138034 first"})
    assert raised.status_code == 201, raised.text
    did = raised.json()["dispatch_id"]
    await dispatch(stack, did)
    # The station reads the instruction masked like every other answer (surname kept; 3 + 6 hidden + 2) ...
    inbox = (await stack.http.get("/units/gd-gz-tianhe/inbox", headers=auth("production_unit"))).json()
    shown = (await stack.http.get(f"/dispatches/{did}", headers=auth("production_unit"))).json()
    assert [d["instruction"] for d in inbox] == [shown["instruction"]] == ["Call 欧阳** on 138******34 first"]
    # ... and reveals the number it must call.
    assert await reveal("production_unit") == 200  # Tianhe station: the dispatch is addressed to it
    assert await reveal("xihu_station") == 403  # another station
    answered = await reply(stack, did, GOOD_FINDING)
    assert answered["dispatch"]["instruction"] == "Call 欧阳** on 138******34 first"  # the update's answer too
    assert (await dispatch(stack, did))["status"] == "answered"
    assert await reveal("production_unit") == 403  # answered: no longer open

    audited = (await stack.http.get("/audit", params={"case_id": cid}, headers=auth("auditor"))).json()
    assert [(e["actor_id"], e["unit"]) for e in audited["items"]] == [("tianhe-liu", "gd-gz-tianhe")]


async def test_a_supervisor_exports_complaints_as_csv_masked_and_audited(stack: Stack) -> None:
    first = (await file(stack, PEOPLE))["complaint_id"]
    second = (await file(stack, complaint_body(category="loss_or_damage")))["complaint_id"]

    resp = await stack.http.get("/exports/complaints.csv", params={"category": "delay"}, headers=auth("supervisor"))

    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv") and resp.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [r["complaint_id"] for r in rows] == [first]  # the other one is loss_or_damage
    [row] = rows
    assert (row["complainant_name"], row["complainant_phone"]) == ("欧阳**", "138******34")
    assert (row["sender_name"], row["sender_phone"], row["sender_address"]) == (
        "Z**** S**", "020******78", "广州市天河区体育西路 ****")
    assert (row["recipient_name"], row["recipient_address"]) == ("李*", "Room ****, **** Queen's Road Central, Hong Kong")
    nothing_whole(resp.text)
    everything = await stack.http.get("/exports/complaints.csv", headers=auth("supervisor"))
    assert {r["complaint_id"] for r in csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig")))} == {first, second}

    audited = (await stack.http.get("/audit", params={"action": "export"}, headers=auth("auditor"))).json()["items"]
    assert [(e["what"], e["reason"], e["actor_id"], e["role"]) for e in audited] == [
        ("complaints.csv (2 rows)", "filter: none", "sup-ma", "supervisor"),
        ("complaints.csv (1 rows)", "filter: category=delay", "sup-ma", "supervisor")]


async def test_only_the_export_permission_exports(stack: Stack) -> None:
    for role in ("front_seat", "head_office_cs", "auditor", "operations"):  # permissions.export_complaints: supervisor
        resp = await stack.http.get("/exports/complaints.csv", headers=auth(role))
        assert resp.status_code == 403, role
    naive = await stack.http.get("/exports/complaints.csv", params={"received_from": "2026-03-01T00:00:00"},
                                 headers=auth("supervisor"))
    assert naive.status_code == 422 and ["query", "received_from"] in [e["loc"] for e in naive.json()["detail"]]
    assert (await stack.http.get("/audit", params={"action": "export"}, headers=auth("auditor"))).json()["total"] == 0


async def test_the_dashboard_page_shows_no_person(stack: Stack) -> None:
    await file(stack, PEOPLE)
    page = await stack.http.get("/dashboard", headers=auth("supervisor"))
    assert page.status_code == 200
    nothing_whole(page.text)
    assert "欧阳" not in page.text and "Queen's Road" not in page.text


async def test_a_contact_is_masked_for_every_role_and_revealed_to_who_calls_or_reaches_the_customer(desk: Stack) -> None:
    body = contact_body("rescue_request", customer={"name": "李娜", "phone": "13912345678", "tier": "standard"},
                        location="杭州市西湖区文三路 88 号 3 单元 502 室",
                        description="李娜 stuck at the depot, call 13912345678")
    cid = (await desk.http.post("/contacts", json=body, headers=auth("front_seat"))).json()["contact_id"]

    for role in READERS:
        shown = (await desk.http.get(f"/contacts/{cid}", headers=auth(role))).json()
        # surname kept; 3 + 6 hidden + 2; the address from its street number on; the text likewise
        assert (shown["customer_name"], shown["customer_phone"], shown["location"], shown["description"]) == (
            "李*", "139******78", "杭州市西湖区文三路 ****", "李* stuck at the depot, call 139******78"), role

    async def reveal(role: str, field: str = "location") -> int:
        return (await desk.http.post(f"/contacts/{cid}/reveal", headers=auth(role),
                                     json={"field": field, "reason": "going to help"})).status_code

    assert await reveal("production_unit") == 403  # Tianhe: not handed to it
    handed = await desk.http.post(f"/contacts/{cid}/hand-over", headers=auth("front_seat"),
                                  json={"unit": "zj-hz-xihu", "note": "nearest station"})
    assert handed.status_code == 200, handed.text
    assert await reveal("production_unit") == 403  # still not Tianhe's
    resp = await desk.http.post(f"/contacts/{cid}/reveal", headers=auth("xihu_station"),
                                json={"field": "location", "reason": "going to help"})
    assert resp.status_code == 200 and resp.json()["value"] == "杭州市西湖区文三路 88 号 3 单元 502 室"
    assert resp.headers["cache-control"] == "no-store"
    assert await reveal("front_seat", "customer.phone") == 200
    assert await reveal("auditor", "customer.phone") == 403
    assert await reveal("front_seat", "customer.name") == 422

    audited = (await desk.http.get("/audit", params={"case_id": cid}, headers=auth("auditor"))).json()["items"]
    assert [(e["actor_id"], e["what"]) for e in audited] == [("agent-wang", "customer.phone"), ("xihu-qian", "location")]
