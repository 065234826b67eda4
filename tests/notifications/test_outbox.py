"""The outbox keeps exactly one row per (case, step, recipient, channel), on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from notifications.messages import Channel, OutboxMessage, outbox_key
from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from rules.actors import Role


def message(**overrides: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "case_id": "C1001",
        "step": "escalation-1-director",
        "recipient_id": "gd-director-wang",
        "recipient_role": Role.DIRECTOR,
        "recipient_unit": "gd",
        "channel": Channel.SMS,
        "address": "+8613800000001",
        "subject": "工单 C1001 超时",
        "body": "紧急工单 C1001 已超过 20 个工作小时未回复，请在 8 个工作小时内处理。",
    }
    fields.update(overrides)
    return OutboxMessage.model_validate(fields)


def test_create_schema_makes_the_outbox_table(read_model: ReadModel) -> None:
    columns = {c["name"] for c in inspect(read_model.engine).get_columns("outbox_message")}
    assert columns == {
        "id", "case_id", "step", "recipient_id", "recipient_role", "recipient_unit", "passed_up_from", "channel",
        "address", "subject", "body", "created_at", "attempts", "last_error", "delivered_at", "status",
    }  # fmt: skip


def test_a_row_says_from_which_unit_a_notice_was_passed_up(any_outbox: Outbox) -> None:
    # Addressed to the director of Guangzhou city (none there), taken by Guangdong's director.
    up = any_outbox.enqueue(message(recipient_unit="gd", passed_up_from="gd-gz"))
    assert (up.recipient_id, up.recipient_unit, up.passed_up_from) == ("gd-director-wang", "gd", "gd-gz")
    taken_where_addressed = any_outbox.enqueue(message(case_id="C1002"))
    assert taken_where_addressed.passed_up_from is None


def test_repeated_enqueue_keeps_the_first_row(any_outbox: Outbox) -> None:
    first_at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    first = any_outbox.enqueue(message(), now=first_at)
    for n in range(5):
        again = any_outbox.enqueue(message(body=f"changed text {n}"), now=first_at + timedelta(minutes=n + 1))
        assert again.id == first.id
        assert again.created_at == first_at
        assert again.body == first.body
    rows = any_outbox.list_for_case("C1001")
    assert [r.id for r in rows] == [message().key]
    assert rows[0].status == "pending" and rows[0].attempts == 0 and rows[0].delivered_at is None


def test_concurrent_enqueue_makes_one_row(any_outbox: Outbox) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda _: any_outbox.enqueue(message()), range(16)))
    assert {r.id for r in rows} == {message().key}
    assert len(any_outbox.list_for_case("C1001")) == 1


def test_each_step_recipient_and_channel_is_its_own_message(any_outbox: Outbox) -> None:
    variants = [
        message(),
        message(channel=Channel.EMAIL, address="wang.qiang@example.com"),
        message(recipient_id="gd-director-liu"),
        message(step="escalation-2-vice-president"),
        message(case_id="C1002"),
    ]
    for _ in range(3):
        for m in variants:
            any_outbox.enqueue(m)
    assert len({m.key for m in variants}) == 5
    assert len(any_outbox.list_for_case("C1001")) == 4
    assert len(any_outbox.list_for_case("C1002")) == 1


def test_a_delivered_message_stays_delivered(any_outbox: Outbox) -> None:
    key = any_outbox.enqueue(message()).id
    any_outbox.mark_attempt(key, "sms 503")
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    delivered = any_outbox.mark_delivered(key, first)
    assert delivered is not None
    assert (delivered.status, delivered.attempts, delivered.delivered_at, delivered.last_error) == (
        "delivered", 2, first, "sms 503",
    )  # fmt: skip
    any_outbox.mark_delivered(key, first + timedelta(hours=1))
    any_outbox.mark_attempt(key, "sms 503")
    any_outbox.mark_failed(key, "sms 400")
    after = any_outbox.get(key)
    assert after is not None
    assert (after.status, after.attempts, after.delivered_at) == ("delivered", 2, first)


def test_a_failed_message_is_final_for_retries(any_outbox: Outbox) -> None:
    key = any_outbox.enqueue(message()).id
    failed = any_outbox.mark_failed(key, "sms 400")
    assert failed is not None and (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "sms 400")
    any_outbox.mark_attempt(key, "sms 503")
    assert any_outbox.get(key).attempts == 1  # type: ignore[union-attr]


def test_the_key_names_case_step_recipient_and_channel_unambiguously() -> None:
    assert message().key == outbox_key("C1001", "escalation-1-director", "gd-director-wang", "sms")
    assert len(message().key) == 64
    # No separator trick makes two different messages share a key.
    assert outbox_key("C1", "a:b", "r", "sms") != outbox_key("C1:a", "b", "r", "sms")
