"""A key is rotated while a case runs: the case is filed under the old key, the worker and the API
restart on a ring whose current key is new (the old one kept), and the case closes under the new key."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.main import create_app
from protection.codec import KEY_ID, PayloadDecryptionError
from temporal_client import data_converter
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.protection.history import payloads_in, with_converter
from tests.protection.keys import DATA_CONVERTER, ROTATED_KEY_RING, with_keys
from worker import build_worker
from workflows.complaint import ComplaintWorkflow


async def step(http: httpx.AsyncClient, cid: str, name: str, body: dict) -> dict:
    resp = await http.post(f"/complaints/{cid}/{name}", json=body, headers=auth("front_seat"))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_a_case_started_under_the_old_key_finishes_under_the_new_one(stack: Stack) -> None:
    filed = await stack.http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))
    assert filed.status_code == 201, filed.text
    cid = filed.json()["complaint_id"]
    await step(stack.http, cid, "handling", {"note": "asked the Tianhe station"})
    await stack.stop_worker()

    # The rotation: every process restarts on the ring with test-2 current and test-1 kept.
    rotated = stack.settings.model_copy(update={"payload_keys": with_keys(ROTATED_KEY_RING)})
    client = with_converter(stack.env.client, data_converter(rotated))
    app = create_app(rotated, temporal=client)
    async with build_worker(client, rotated, stack.read_model, stack.executor), LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://api") as http:
            await step(http, cid, "resolution", {"solution": "delivered today by a dedicated courier"})
            await step(http, cid, "customer-confirmation", {"message": "Your parcel is out for delivery", "medium": "sms"})
            closed = await step(http, cid, "callback", {"satisfied": True, "customer_words": "Thank you"})
            outcome = await client.get_workflow_handle_for(ComplaintWorkflow.run, f"complaint-{cid}").result()

    assert closed["status"] == "closed" and outcome.status == "closed"
    history = await stack.env.client.get_workflow_handle(f"complaint-{cid}").fetch_history()
    key_ids = [p.metadata[KEY_ID] for e in history.events for p in payloads_in(e) if KEY_ID in p.metadata]
    # Filed and taken into handling under test-1; everything after the restart under test-2.
    assert key_ids[0] == b"test-1" and key_ids[-1] == b"test-2" and set(key_ids) == {b"test-1", b"test-2"}
    assert key_ids == sorted(key_ids)  # no payload went back to the old key
    # The result is sealed with the new key: the ring from before the rotation cannot read it.
    completed = history.events[-1].workflow_execution_completed_event_attributes.result
    with pytest.raises(PayloadDecryptionError, match="test-2"):
        await DATA_CONVERTER.decode(completed.payloads)
