"""A worker stopped in the middle of a case: a new worker on the same task queue finishes it."""

from __future__ import annotations

import asyncio

from tests.api.test_complaint_lifecycle import act, file, timeline
from tests.conftest import Stack, auth


async def test_a_new_worker_finishes_a_case_whose_worker_stopped_with_nothing_lost(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {"note": "asked the station"})

    await stack.stop_worker()
    # An agent resolves while no worker runs: the request waits, it is not lost.
    pending = asyncio.create_task(
        stack.http.post(f"/complaints/{cid}/resolution", json={"solution": "redelivered"}, headers=auth("front_seat"))
    )
    done, _ = await asyncio.wait({pending}, timeout=1)
    assert not done, "nothing should answer while no worker runs"

    await stack.start_worker()  # a brand-new worker: it rebuilds the case from history
    resolved = await pending
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"

    await act(stack, cid, "customer-confirmation", {"message": "Redelivered today", "medium": "sms"})
    closed = await act(stack, cid, "callback", {"satisfied": True, "customer_words": "fine"})
    assert closed["status"] == "closed"
    assert [a for a, _, _ in await timeline(stack, cid)] == [
        "receive",
        "classify",
        "start_clock",  # first contact
        "start_clock",  # the solution, owed from receipt (DOMAIN §5)
        "take_into_handling",
        "resolve",
        "confirm_with_customer",
        "record_satisfied_callback",
    ]
