"""Level-3 suggestions go to the product side as requirements (DOMAIN §3): GET /requirements lists
them a page at a time, with the suggestion's text and category and no name or phone, to the roles
the policy gives `read_requirements`; the record survives the API losing its write."""

from __future__ import annotations

from rules.actors import Actor
from rules.knowledge import EMAIL_MARK, ID_CARD_MARK, NAME_MARK, PHONE_MARK
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import TakeIntoHandling


def suggestion(**overrides: object) -> dict:
    return complaint_body(nature="suggestion", category="special_request_not_met", **overrides)


async def requirements(stack: Stack, role: str = "head_office_cs", **params: object) -> dict:
    resp = await stack.http.get("/requirements", params=params, headers=auth(role))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_a_suggestion_is_forwarded_as_a_requirement_without_the_customers_name_or_phone(stack: Stack) -> None:
    filed = await file(stack, suggestion(
        description="Please offer evening delivery slots on Saturdays. Li Na, call me on 138 0013 8000.",
        demand="Saturday evening delivery"))
    general = await file(stack, complaint_body())  # a level-2 complaint: nothing for the product side

    listed = await requirements(stack)

    assert filed["classification"]["level"] == 3 and general["classification"]["level"] == 2
    assert listed["total"] == 1
    [req] = listed["items"]
    assert req["complaint_id"] == filed["complaint_id"] and req["requirement_id"] == f"requirement-{filed['complaint_id']}"
    assert req["category"] == "special_request_not_met" and req["channel"] == "hotline"
    assert req["suggestion"] == f"Please offer evening delivery slots on Saturdays. {NAME_MARK}, call me on {PHONE_MARK}."
    assert req["demand"] == "Saturday evening delivery"
    assert "Li Na" not in str(req) and "8000" not in str(req) and "complainant" not in req


async def test_the_product_side_pages_through_them_newest_received_first(stack: Stack) -> None:
    ids = [(await file(stack, suggestion(received_at=f"2026-03-0{day}T10:00:00+08:00")))["complaint_id"]
           for day in (1, 2, 3)]

    first = await requirements(stack, role="auditor", page_size=2)
    second = await requirements(stack, role="supervisor", page_size=2, page=2)

    assert first["total"] == 3 and [r["complaint_id"] for r in first["items"]] == [ids[2], ids[1]]
    assert [r["complaint_id"] for r in second["items"]] == [ids[0]]
    assert (await requirements(stack, role="operations", category="delay"))["total"] == 0


async def test_only_the_roles_the_policy_names_read_them(stack: Stack) -> None:
    for role in ("front_seat", "production_unit", "regional_cs"):  # not in permissions.read_requirements
        resp = await stack.http.get("/requirements", headers=auth(role))
        assert resp.status_code == 403, role
        assert "read requirements" in resp.json()["detail"]


async def test_the_requirement_survives_the_api_losing_its_write(stack: Stack) -> None:
    filed = await file(stack, suggestion(description="A locker at the Tianhe metro station, please."))
    with stack.read_model.engine.begin() as conn:  # as if the API had died right after starting the workflow
        for table in ("complaint", "timeline_event", "requirement"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    agent = Actor(id="agent-wang", name="Wang", role="front_seat", unit="call-centre")

    await stack.env.client.get_workflow_handle(filed["workflow_id"]).execute_update(
        ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=agent))

    [req] = (await requirements(stack))["items"]  # the workflow's write brought it back, once
    assert req["complaint_id"] == filed["complaint_id"] and req["suggestion"] == "A locker at the Tianhe metro station, please."


async def test_a_requirement_keeps_no_email_address_or_id_card_number(stack: Stack) -> None:
    # DOMAIN §9: cut out as the knowledge base cuts them (rules/knowledge.py redact).
    await file(stack, suggestion(description="请开通周六晚间派送，回复到zsf@example.com，我的身份证110101199003071234"))

    [req] = (await requirements(stack))["items"]

    assert req["suggestion"] == f"请开通周六晚间派送，回复到{EMAIL_MARK}，我的身份证{ID_CARD_MARK}"
