"""E-mail goes over real SMTP (an aiosmtpd server on loopback): Chinese text intact, keyed Message-ID."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NOTIFICATION_FAILED, NotificationActivities
from notifications.directory import Directory
from notifications.messages import Channel, NotifyRequest, OutboxMessage
from notifications.senders import DeliveryFailed, SmtpSender
from readmodel.store import ReadModel
from rules.actors import Role
from tests.notifications.conftest import GD_DIRECTOR, GD_VICE_PRESIDENT
from tests.notifications.receivers import MailRecorder, free_port

SUBJECT = "投诉升级：紧急工单 C2001 已超时 20 个工作小时"
BODY = "王总您好：\n紧急工单 C2001（护照未到）仍未回复，请在 8 个工作小时内督办。\n——客服中心"
FROM = "客服中心 <complaints@carrier.example>"


def email_to_director(**overrides: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "case_id": "C2001",
        "step": "escalation-1-director",
        "recipient_id": GD_DIRECTOR.id,
        "recipient_role": Role.DIRECTOR,
        "recipient_unit": "gd",
        "channel": Channel.EMAIL,
        "address": "wang.qiang@example.com",
        "subject": SUBJECT,
        "body": BODY,
    }
    fields.update(overrides)
    return OutboxMessage.model_validate(fields)


async def test_chinese_subject_and_body_arrive_intact(smtp: tuple[MailRecorder, int]) -> None:
    recorder, port = smtp
    message = email_to_director()
    await SmtpSender("127.0.0.1", port, FROM, timeout=5).send(message)

    [mail] = recorder.received
    assert mail.rcpt_tos == ["wang.qiang@example.com"]
    assert mail.mail_from == "complaints@carrier.example"
    assert mail.message["Subject"] == SUBJECT
    assert mail.message.get_content().rstrip("\n") == BODY
    assert mail.message["From"].addresses[0].display_name == "客服中心"
    assert mail.message["Message-ID"] == f"<{message.key}@complaints.local>"
    assert mail.message["X-Complaint-Case"] == "C2001"
    assert mail.raw.isascii()  # RFC 2047 headers, base64 body: no relay needs SMTPUTF8 or 8BITMIME


async def test_a_refused_mailbox_is_a_permanent_failure(smtp: tuple[MailRecorder, int]) -> None:
    recorder, port = smtp
    recorder.refuse.add("gone@example.com")
    with pytest.raises(DeliveryFailed) as err:
        await SmtpSender("127.0.0.1", port, FROM, timeout=5).send(email_to_director(address="gone@example.com"))
    assert (err.value.retryable, err.value.reason) == (False, "smtp recipient refused 550")
    assert recorder.received == []


async def test_an_unreachable_relay_is_worth_retrying() -> None:
    with pytest.raises(DeliveryFailed) as err:
        await SmtpSender("127.0.0.1", free_port(), FROM, timeout=5).send(email_to_director())
    assert err.value.retryable
    assert "example.com" not in err.value.reason


async def test_notify_by_email_keys_the_message_by_its_outbox_row(
    smtp: tuple[MailRecorder, int], read_model: ReadModel
) -> None:
    recorder, port = smtp
    activities = NotificationActivities(
        read_model, {Channel.EMAIL: SmtpSender("127.0.0.1", port, FROM, timeout=5)}, Directory([GD_DIRECTOR])
    )
    request = NotifyRequest(
        case_id="C2001", step="escalation-1-director", role=Role.DIRECTOR, unit="gd",
        channels=[Channel.EMAIL], subject=SUBJECT, text=BODY,
    )  # fmt: skip
    env = ActivityEnvironment()

    result = await env.run(activities.notify, request)
    again = await env.run(activities.notify, request)

    [row] = activities.outbox.list_for_case("C2001")
    assert result.delivered == [row.id] and again.already_delivered == [row.id]
    assert (row.status, row.attempts, row.channel, row.recipient_id) == ("delivered", 1, "email", GD_DIRECTOR.id)
    [mail] = recorder.received  # every message that arrived: the second call sent nothing ...
    assert recorder.mailbox == [mail]  # ... and the reader has the one
    assert mail.message["Message-ID"] == f"<{row.id}@complaints.local>"
    assert mail.message["Subject"] == SUBJECT


async def test_a_channel_without_an_address_or_a_sender_is_skipped(
    smtp: tuple[MailRecorder, int], read_model: ReadModel
) -> None:
    recorder, port = smtp
    activities = NotificationActivities(
        read_model, {Channel.EMAIL: SmtpSender("127.0.0.1", port, FROM, timeout=5)}, Directory([GD_DIRECTOR, GD_VICE_PRESIDENT])
    )
    env = ActivityEnvironment()
    to_director = NotifyRequest(
        case_id="C2002", step="escalation-1-director", role=Role.DIRECTOR, unit="gd", subject=SUBJECT, text=BODY
    )
    result = await env.run(activities.notify, to_director)  # SMS has no sender here: skipped, e-mail sent
    assert [(m.channel, m.outcome, m.reason) for m in result.messages] == [
        ("sms", "skipped", "no_sender"), ("email", "delivered", None),
    ]  # fmt: skip

    # The vice-president has no e-mail address and SMS has no sender: nothing can go out.
    to_vice_president = to_director.model_copy(update={"step": "escalation-2-vice-president", "role": Role.VICE_PRESIDENT})
    with pytest.raises(ApplicationError) as err:
        await env.run(activities.notify, to_vice_president)
    assert (err.value.type, err.value.non_retryable) == (NOTIFICATION_FAILED, True)
    assert [(m["channel"], m["reason"]) for m in err.value.details[0]["messages"]] == [
        ("sms", "no_sender"), ("email", "no_address"),
    ]  # fmt: skip
    assert len(recorder.received) == 1
    # Rows: the director's SMS skipped (no SMS sender) and e-mail delivered; the vice-president's
    # SMS skipped; his e-mail has no address to store, so no row.
    rows = activities.outbox.list_for_case("C2002")
    assert sorted((r.recipient_id, r.channel, r.status) for r in rows) == sorted([
        (GD_DIRECTOR.id, "sms", "skipped"), (GD_DIRECTOR.id, "email", "delivered"), (GD_VICE_PRESIDENT.id, "sms", "skipped"),
    ])  # fmt: skip
