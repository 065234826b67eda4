"""Intake: idempotency, and the errors a channel or agent sees for bad requests."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus

from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body


async def test_same_idempotency_key_twice_gives_one_workflow_and_the_same_complaint(stack: Stack) -> None:
    body = complaint_body()  # a retry sends the same request again
    first = await file(stack, body, **{"Idempotency-Key": "call-20260302-0001"})

    retry = await stack.http.post(
        "/complaints", json=body, headers={**auth("front_seat"), "Idempotency-Key": "call-20260302-0001"}
    )

    assert retry.status_code == 200
    assert retry.json()["complaint_id"] == first["complaint_id"]
    assert retry.json()["replayed"] is True
    listed = (await stack.http.get("/complaints", headers=auth("auditor"))).json()
    assert listed["total"] == 1
    desc = await stack.env.client.get_workflow_handle(first["workflow_id"]).describe()
    assert desc.status is WorkflowExecutionStatus.RUNNING


async def test_the_channels_own_message_id_makes_a_retry_idempotent(stack: Stack) -> None:
    body = complaint_body(channel="wechat", channel_message_id="wx-msg-778899")
    first = await file(stack, body)

    retry = await stack.http.post("/complaints", json=body, headers=auth("front_seat"))

    assert retry.json()["complaint_id"] == first["complaint_id"]
    # the same message id on another channel is another complaint
    other = await file(stack, complaint_body(channel="weibo", channel_message_id="wx-msg-778899"))
    assert other["complaint_id"] != first["complaint_id"]


async def test_a_retry_after_the_case_closed_still_returns_it(stack: Stack) -> None:
    body = complaint_body()
    first = await file(stack, body, **{"Idempotency-Key": "k-closed"})
    await act(stack, first["complaint_id"], "first-contact-answer", {"answer": "answered"})

    retry = await stack.http.post(
        "/complaints", json=body, headers={**auth("front_seat"), "Idempotency-Key": "k-closed"}
    )

    assert retry.status_code == 200
    assert retry.json()["complaint_id"] == first["complaint_id"]
    assert retry.json()["status"] == "closed"


async def test_temporal_refuses_a_second_execution_even_when_the_read_model_lost_the_row(stack: Stack) -> None:
    body = complaint_body()
    first = await file(stack, body, **{"Idempotency-Key": "k-race"})
    handle = stack.env.client.get_workflow_handle(first["workflow_id"])
    run_before = (await handle.describe()).run_id
    # Forget the read model's rows (the case, its key and its claim), as if its database had been lost.
    with stack.read_model.engine.begin() as conn:
        for table in ("complaint", "timeline_event", "idempotency_key", "duplicate_claim"):
            conn.exec_driver_sql(f"DELETE FROM {table}")

    again = await stack.http.post(
        "/complaints", json=body, headers={**auth("front_seat"), "Idempotency-Key": "k-race"}
    )

    assert again.json()["complaint_id"] == first["complaint_id"]
    assert (await handle.describe()).run_id == run_before  # the same execution, not a second one
    assert (await stack.http.get(f"/complaints/{first['complaint_id']}", headers=auth("auditor"))).status_code == 200


async def test_if_the_apis_write_is_lost_the_workflow_writes_the_opening_rows_with_its_next_change(stack: Stack) -> None:
    from workflows.complaint import ComplaintWorkflow
    from workflows.complaint_messages import TakeIntoHandling
    from rules.actors import Actor

    created = await file(stack, complaint_body())
    with stack.read_model.engine.begin() as conn:  # as if the API had died right after starting the workflow
        conn.exec_driver_sql("DELETE FROM complaint")
        conn.exec_driver_sql("DELETE FROM timeline_event")
    agent = Actor(id="agent-wang", name="Wang", role="front_seat", unit="call-centre")

    await stack.env.client.get_workflow_handle(created["workflow_id"]).execute_update(
        ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=agent)
    )

    detail = (await stack.http.get(f"/complaints/{created['complaint_id']}", headers=auth("auditor"))).json()
    # DOMAIN §5: the first-contact and the solution clock both start at opening, from the received time.
    assert [e["action"] for e in detail["timeline"]] == ["receive", "classify", "start_clock", "start_clock",
                                                         "take_into_handling"]
    assert detail["status"] == "in_handling" and detail["clocks"][0]["name"] == "first_contact"
