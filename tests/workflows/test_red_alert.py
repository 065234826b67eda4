"""A level-1 complaint raises a red alert straight to the duty manager (DOMAIN §3), end to end: filed
through the API on a running stack (dev server, worker, read model), the texts and e-mails leave
through the real senders to a local SMS gateway and SMTP server, which record every request.

The front seat files for the call centre; the call centre has no duty manager in the directory, so
the notify activity passes the alert up the chart to the head office's (duty-manager-hq,
+8610950009, duty-manager@example.com).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from readmodel.outbox import Outbox
from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, running_stack
from tests.factories import complaint_body
from tests.notifications.receivers import MailRecorder, SmsGateway, running_gateway, running_smtp
from tests.waiting import settled

DUTY_MANAGER_PHONE = "+8610950009"
DUTY_MANAGER_EMAIL = "duty-manager@example.com"


@dataclass
class AlertDesk:
    stack: Stack
    gateway: SmsGateway
    mail: MailRecorder


@pytest.fixture
async def alert_desk(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[AlertDesk]:
    with running_gateway() as gateway, running_smtp() as (mail, port):
        async with running_stack(dev_env, tmp_path, sms_gateway_url=gateway.url, smtp_host="127.0.0.1",
                                 smtp_port=port, smtp_from="客服中心 <complaints@carrier.example>") as stack:
            yield AlertDesk(stack, gateway, mail)


async def idle(handle: WorkflowHandle) -> None:
    """Until the case has no activity in flight: whatever it was going to send has been sent."""
    async def none_pending() -> bool:
        return not (await handle.describe()).raw_description.pending_activities

    await settled(none_pending, "a notice never finished", every=0.05)


async def delivered(desk: AlertDesk, texts: int, mails: int) -> None:
    """Until the gateway and the SMTP server have seen this many (bounded: real I/O, no clock)."""
    def arrived() -> bool:
        return len(desk.gateway.handset) >= texts and len(desk.mail.received) >= mails

    try:
        await settled(arrived, "never delivered", every=0.05)
    except AssertionError:
        raise AssertionError(f"never delivered: {desk.gateway.handset}, {len(desk.mail.received)} mails") from None


async def test_a_level_1_complaint_texts_and_mails_the_duty_manager_once_and_a_level_2_nobody(alert_desk: AlertDesk) -> None:
    desk = alert_desk
    stack = desk.stack
    # "受伤" (injured) is a safety risk: level 1 (DOMAIN §3).
    red = await file(stack, complaint_body(description="快递员送件时把我撞受伤了"))
    assert red["classification"]["level"] == 1
    plain = await file(stack)  # a plain delay: level 2
    assert plain["classification"]["level"] == 2
    red_case = stack.env.client.get_workflow_handle(red["workflow_id"])
    plain_case = stack.env.client.get_workflow_handle(plain["workflow_id"])
    await act(stack, plain["complaint_id"], "handling", {"note": "asked the Tianhe station"})  # its opening ran

    await delivered(desk, texts=1, mails=1)
    await idle(red_case)
    await idle(plain_case)
    # Exactly one request reached the gateway (a resend under the same key would be counted here
    # even though the gateway would not pass it to the handset) and one message the SMTP server.
    assert [r.body["to"] for r in desk.gateway.requests] == [DUTY_MANAGER_PHONE]
    assert [m["to"] for m in desk.gateway.handset] == [DUTY_MANAGER_PHONE]
    text = desk.gateway.handset[0]["text"]
    assert red["complaint_id"] in text and "safety_risk" in text
    assert "Li Na" not in text and "13800138000" not in text  # the case, not the customer's data
    assert [m.rcpt_tos for m in desk.mail.received] == [[DUTY_MANAGER_EMAIL]]
    assert "RED ALERT" in desk.mail.received[0].message["Subject"]
    # addressed to the call centre, taken by the head office's duty manager up the chart
    rows = Outbox(stack.read_model.engine).list_for_case(red["complaint_id"])
    assert sorted((r.step, r.recipient_id, r.channel, r.status) for r in rows) == [
        ("red-alert", "duty-manager-hq", "email", "delivered"), ("red-alert", "duty-manager-hq", "sms", "delivered")]
    assert Outbox(stack.read_model.engine).list_for_case(plain["complaint_id"]) == []

    # A new worker replays the case from its history and takes the next step: no second alert.
    await stack.stop_worker()
    await stack.start_worker()
    await act(stack, red["complaint_id"], "handling", {"note": "called the customer back"})
    await idle(red_case)
    # (the gateway counts every request, a resend under the delivered key too)
    assert [r.body["to"] for r in desk.gateway.requests] == [DUTY_MANAGER_PHONE]
    assert len(desk.mail.received) == 1
