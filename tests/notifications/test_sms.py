"""SMS through a real HTTP gateway, with the notify activity run by a real worker on the
time-skipping test server: Temporal's retries with backoff, one key per message end to end."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NO_RECIPIENT, NOTIFICATION_FAILED, NotificationActivities
from notifications.directory import Directory
from notifications.messages import Channel, NotifyRequest, NotifyResult, OutboxMessage, outbox_key
from notifications.senders import Sender, SmsGatewaySender, SmtpSender
from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from rules.actors import Role
from tests.notifications.conftest import GD_DIRECTOR, GD_DIRECTOR_DEPUTY, GD_VICE_PRESIDENT
from tests.notifications.notify_workflow import NotifyOnceWorkflow
from tests.notifications.receivers import MailRecorder, SmsGateway

TEXT = "紧急工单仍未回复：请在 2 个工作小时内给出答复。"


def new_case() -> str:
    return "C" + uuid.uuid4().hex[:10].upper()


def escalation(case_id: str, role: Role = Role.VICE_PRESIDENT, **overrides: object) -> NotifyRequest:
    fields: dict[str, object] = {
        "case_id": case_id,
        "step": f"escalation-2-{role}",
        "role": role,
        "unit": "gd",
        "channels": [Channel.SMS],
        "subject": f"工单 {case_id} 升级",
        "text": TEXT,
    }
    fields.update(overrides)
    return NotifyRequest.model_validate(fields)


@asynccontextmanager
async def notify_worker(env: WorkflowEnvironment, activities: NotificationActivities) -> AsyncIterator[str]:
    task_queue = f"notify-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=task_queue, workflows=[NotifyOnceWorkflow], activities=[activities.notify]):
        yield task_queue


async def start_notify(env: WorkflowEnvironment, task_queue: str, request: NotifyRequest) -> WorkflowHandle:
    return await env.client.start_workflow(
        NotifyOnceWorkflow.run, request, id=f"notify-{request.case_id}-{uuid.uuid4().hex[:6]}", task_queue=task_queue
    )


async def activity_attempts(handle: WorkflowHandle) -> list[int]:
    """The attempt number of each activity execution that finished, from the workflow's history."""
    history = await handle.fetch_history()
    return [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]


def sms_activities(read_model: ReadModel, directory: Directory, sms: Sender, **more: Sender) -> NotificationActivities:
    return NotificationActivities(read_model, {Channel.SMS: sms, **more}, directory)


async def test_a_gateway_down_twice_delivers_once_on_the_third_attempt(
    time_env: WorkflowEnvironment,
    read_model: ReadModel,
    gateway: SmsGateway,
    directory: Directory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway.script = [503, 503]
    activities = sms_activities(read_model, directory, SmsGatewaySender(gateway.url, api_key="k-test", timeout=5))
    case_id = new_case()
    async with notify_worker(time_env, activities) as task_queue:
        handle = await start_notify(time_env, task_queue, escalation(case_id))
        result: NotifyResult = await handle.result()

    [row] = Outbox(read_model.engine).list_for_case(case_id)
    assert result.delivered == [row.id]
    assert row.id == outbox_key(case_id, "escalation-2-vice_president", GD_VICE_PRESIDENT.id, "sms")
    assert await activity_attempts(handle) == [3]
    assert gateway.keys == [row.id] * 3  # every attempt carried the same Idempotency-Key
    assert [r.status for r in gateway.requests] == [503, 503, 201]  # two refused, one taken: no repeat
    assert {r.authorization for r in gateway.requests} == {"Bearer k-test"}
    assert gateway.handset == [{"to": GD_VICE_PRESIDENT.phone, "text": TEXT, "reference": row.id}]
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, "sms 503")
    assert row.delivered_at is not None
    # DOMAIN §9: keys and ids in the logs, never a phone number or the text.
    assert "not delivered on attempt 1: sms 503" in caplog.text and row.id in caplog.text
    assert GD_VICE_PRESIDENT.phone not in caplog.text and TEXT not in caplog.text  # type: ignore[operator]


class DiesAfterSending:
    """Sends for real, then fails once as a worker would that died before recording the delivery."""

    def __init__(self, inner: Sender) -> None:
        self.inner = inner
        self.died = False

    async def send(self, message: OutboxMessage) -> None:
        await self.inner.send(message)
        if not self.died:
            self.died = True
            raise ConnectionResetError("worker died before recording the delivery")


async def test_a_send_whose_delivery_was_not_recorded_is_repeated_with_the_same_key(
    time_env: WorkflowEnvironment, read_model: ReadModel, gateway: SmsGateway, directory: Directory
) -> None:
    activities = sms_activities(read_model, directory, DiesAfterSending(SmsGatewaySender(gateway.url, timeout=5)))
    case_id = new_case()
    request = escalation(case_id)
    async with notify_worker(time_env, activities) as task_queue:
        first = await start_notify(time_env, task_queue, request)
        delivered: NotifyResult = await first.result()
        again: NotifyResult = await (await start_notify(time_env, task_queue, request)).result()

    [row] = Outbox(read_model.engine).list_for_case(case_id)
    assert await activity_attempts(first) == [2]
    assert gateway.keys == [row.id, row.id]  # sent twice, the same key both times ...
    assert len(gateway.handset) == 1  # ... so the gateway dropped the repeat (409) and one SMS went out
    assert [r.status for r in gateway.requests] == [201, 409]  # the repeat is the one a dead worker forces
    assert delivered.delivered == [row.id]
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, "ConnectionResetError")
    # Notify again after delivery: nothing is sent.
    assert again.already_delivered == [row.id] and again.delivered == []
    assert len(gateway.requests) == 2


async def test_a_rejected_number_is_not_retried_and_is_marked_failed(
    time_env: WorkflowEnvironment, read_model: ReadModel, gateway: SmsGateway, directory: Directory
) -> None:
    gateway.script = [400]
    activities = sms_activities(read_model, directory, SmsGatewaySender(gateway.url, timeout=5))
    case_id = new_case()
    async with notify_worker(time_env, activities) as task_queue:
        handle = await start_notify(time_env, task_queue, escalation(case_id))
        with pytest.raises(WorkflowFailureError) as err:
            await handle.result()
        # A later call for the same step does not send to the rejected number again.
        with pytest.raises(WorkflowFailureError):
            await (await start_notify(time_env, task_queue, escalation(case_id))).result()

    assert isinstance(err.value.cause, ActivityError)
    failure = err.value.cause.cause
    assert isinstance(failure, ApplicationError)
    assert (failure.type, failure.non_retryable) == (NOTIFICATION_FAILED, True)
    [details] = failure.details
    assert [(m["outcome"], m["reason"]) for m in details["messages"]] == [("failed", "sms 400")]
    assert await activity_attempts(handle) == [1]
    assert len(gateway.requests) == 1 and gateway.handset == []
    [row] = Outbox(read_model.engine).list_for_case(case_id)
    assert (row.status, row.attempts, row.last_error, row.delivered_at) == ("failed", 1, "sms 400", None)


async def test_a_retry_sends_only_what_is_still_pending(
    time_env: WorkflowEnvironment,
    read_model: ReadModel,
    gateway: SmsGateway,
    smtp: tuple[MailRecorder, int],
    directory: Directory,
) -> None:
    recorder, port = smtp
    gateway.script = [503]  # the first SMS (to the first director) fails once
    activities = sms_activities(
        read_model,
        directory,
        SmsGatewaySender(gateway.url, timeout=5),
        email=SmtpSender("127.0.0.1", port, "complaints@carrier.example", timeout=5),
    )
    case_id = new_case()
    request = escalation(case_id, Role.DIRECTOR, step="escalation-1-director", channels=["sms", "email"])
    async with notify_worker(time_env, activities) as task_queue:
        result: NotifyResult = await (await start_notify(time_env, task_queue, request)).result()

    rows = Outbox(read_model.engine).list_for_case(case_id)
    assert len(rows) == 4 and {r.status for r in rows} == {"delivered"}
    first_sms = outbox_key(case_id, "escalation-1-director", GD_DIRECTOR.id, "sms")
    assert result.delivered == [first_sms]  # by the second attempt
    assert len(result.already_delivered) == 3  # by the first, not sent again
    # Every request: the first director's text twice (503, then its retry), the deputy's once ...
    assert gateway.keys == [first_sms, outbox_key(case_id, "escalation-1-director", GD_DIRECTOR_DEPUTY.id, "sms"), first_sms]
    assert gateway.repeats == []  # ... and no text the phone already had was sent again
    assert [m["to"] for m in gateway.handset] == [GD_DIRECTOR_DEPUTY.phone, GD_DIRECTOR.phone]
    # E-mail went once each (the retry did not resend them): two arrived, two in the mailboxes.
    assert sorted(m.rcpt_tos[0] for m in recorder.received) == sorted([GD_DIRECTOR.email, GD_DIRECTOR_DEPUTY.email])
    assert len(recorder.mailbox) == len(recorder.received) == 2


async def test_without_an_org_chart_or_catch_all_nobody_in_the_role_fails_at_once(
    time_env: WorkflowEnvironment, read_model: ReadModel, gateway: SmsGateway, directory: Directory
) -> None:
    """A directory built from holders alone (no policy) cannot pass a notice up: NoRecipient. The
    worker's directory always comes from the policy, with its chart and catch-all."""
    activities = sms_activities(read_model, directory, SmsGatewaySender(gateway.url, timeout=5))
    async with notify_worker(time_env, activities) as task_queue:
        handle = await start_notify(time_env, task_queue, escalation(new_case(), unit="zj"))
        with pytest.raises(WorkflowFailureError) as err:
            await handle.result()
    assert err.value.cause.cause.type == NO_RECIPIENT  # type: ignore[union-attr]
    assert await activity_attempts(handle) == [1]
    assert gateway.requests == []
