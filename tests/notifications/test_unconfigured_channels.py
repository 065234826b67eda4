"""A channel nobody configured is not a failure: with no SMTP relay and no SMS gateway (the embedded
default, and this stack's), a notice completes as skipped. The case's history has no failed activity
(no red step in the Web UI), the outbox rows say skipped, and nothing is logged as an error."""

from __future__ import annotations

import asyncio
import logging

import pytest
from temporalio.api.enums.v1 import EventType

from readmodel.outbox import Outbox
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack
from tests.factories import complaint_body
from tests.workflows.test_red_alert import idle


async def test_a_red_alert_with_no_channel_configured_completes_as_skipped(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    assert (stack.settings.smtp_host, stack.settings.sms_gateway_url) == (None, None)
    caplog.set_level(logging.INFO)
    # "受伤" (injured) is a safety risk: level 1, so the duty manager is alerted at once (DOMAIN §3).
    red = await file(stack, complaint_body(description="快递员送件时把我撞受伤了"))
    assert red["classification"]["level"] == 1
    case = stack.env.client.get_workflow_handle(red["workflow_id"])
    outbox = Outbox(stack.read_model.engine)
    for _ in range(200):  # bounded: real I/O, no clock to skip
        if len(rows := outbox.list_for_case(red["complaint_id"])) == 2 and all(r.status != "pending" for r in rows):
            break
        await asyncio.sleep(0.05)
    await idle(case)

    # The call centre has no duty manager: the alert is passed up to head office's, who has a
    # phone and an e-mail address; neither channel has a sender, so both rows are skipped.
    assert sorted((r.step, r.recipient_id, r.channel, r.status, r.last_error, r.attempts) for r in rows) == [
        ("red-alert", "duty-manager-hq", "email", "skipped", "no_sender", 0),
        ("red-alert", "duty-manager-hq", "sms", "skipped", "no_sender", 0),
    ]
    history = (await case.fetch_history()).events
    kinds = {event.event_type for event in history}
    # The notify activity ran (the rows above are its work; in the task that decided the alert, a
    # local activity, for a complaint filed today) and nothing failed: no failed activity, no failed marker.
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED not in kinds
    assert not [e for e in history if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and e.marker_recorded_event_attributes.HasField("failure")]
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING and ("notif" in r.getMessage() or r.exc_info)]
    assert not loud, [r.getMessage() for r in loud]
