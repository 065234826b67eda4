"""The notification outbox: one row per (case, step, recipient, channel), written before sending.

The row id is the message's idempotency key (``notifications.messages.outbox_key``), so however
often a notify activity is retried or called again it finds the same row; a delivered row is never
sent again, and the key travels with every send (SMS ``Idempotency-Key``, e-mail ``Message-ID``)
so a receiver can drop the repeat of a send whose success we did not get to record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, select

from notifications.messages import OutboxMessage
from readmodel.tables import OutboxRow
from readmodel.writes import Store, insert_for

OutboxStatus = Literal["pending", "delivered", "failed", "skipped"]
MAX_ERROR_LENGTH = 500


class Outbox(Store):
    """Idempotent outbox writes on the read model's engine (SQLite or PostgreSQL). Its writes queue
    on the read model's writer mutex (SQLite) with its other writes instead of meeting them in
    SQLite's sleeping busy handler during a burst of notices."""

    def enqueue(self, message: OutboxMessage, now: datetime | None = None) -> OutboxRow:
        """Insert the message once and return the stored row: the first call's row wins, later
        calls (retries, replays, a second notify) get it back unchanged, delivered or not."""
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        insert = insert_for(self.engine.dialect.name)(table)
        stmt = insert.values(
            id=message.key,
            case_id=message.case_id,
            step=message.step,
            recipient_id=message.recipient_id,
            recipient_role=str(message.recipient_role),
            recipient_unit=message.recipient_unit,
            passed_up_from=message.passed_up_from,
            channel=str(message.channel),
            address=message.address,
            subject=message.subject,
            body=message.body,
            created_at=now or datetime.now(UTC),
            attempts=0,
            status="pending",
        ).on_conflict_do_nothing()
        with self._write_lock, Session(self.engine) as session:
            session.execute(stmt)
            session.commit()
            row = session.get(OutboxRow, message.key)
            assert row is not None
            return row

    def mark_attempt(self, message_id: str, error: str) -> OutboxRow | None:
        """An attempt failed and may be retried: count it and keep its error (pending rows only)."""
        return self._update(message_id, ("pending", "skipped"), last_error=_short(error), status="pending")

    def mark_failed(self, message_id: str, error: str) -> OutboxRow | None:
        """An attempt failed for good (rejected number or mailbox): the row is not sent again."""
        return self._update(message_id, ("pending", "skipped"), last_error=_short(error), status="failed")

    def mark_skipped(self, message_id: str, reason: str) -> OutboxRow | None:
        """Not sent, and no attempt made: its channel has no sender configured. A later call for
        the same step, once a sender is configured, sends it."""
        return self._update(message_id, ("pending",), attempted=False, last_error=_short(reason), status="skipped")

    def mark_delivered(self, message_id: str, at: datetime) -> OutboxRow | None:
        """An attempt delivered: count it and record when. A delivered row stays delivered with
        its first delivery time; marking it again changes nothing."""
        return self._update(message_id, ("pending", "failed", "skipped"), delivered_at=at, status="delivered")

    def get(self, message_id: str) -> OutboxRow | None:
        with Session(self.engine) as session:
            return session.get(OutboxRow, message_id)

    def list_for_case(self, case_id: str) -> list[OutboxRow]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxRow)
                .where(OutboxRow.case_id == case_id)
                .order_by(OutboxRow.created_at, OutboxRow.step, OutboxRow.recipient_id, OutboxRow.channel)  # type: ignore[arg-type]
            ).all()
            return list(rows)

    def _update(
        self, message_id: str, from_status: tuple[str, ...], attempted: bool = True, **values: Any
    ) -> OutboxRow | None:
        """Record the outcome of one attempt, only from the given statuses (so never un-deliver)."""
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        if attempted:
            values["attempts"] = table.c.attempts + 1
        stmt = table.update().where(table.c.id == message_id, table.c.status.in_(from_status)).values(**values)
        with self._write_lock, Session(self.engine) as session:
            session.execute(stmt)
            session.commit()
            return session.get(OutboxRow, message_id)


def _short(error: str) -> str:
    return error[:MAX_ERROR_LENGTH]
