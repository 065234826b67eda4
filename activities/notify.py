"""The notify activity: write each message to the outbox, then send what is not delivered yet.

One call covers every (holder, channel) of a request. Retries come from Temporal (the caller's
``NOTIFY_RETRY``): a retryable send failure is recorded on its row and raised, so the next attempt
sends only what is still pending, with the same idempotency key. A message already delivered is
never sent again, whether by a retry or by a later call for the same step. A channel with no sender
configured (the embedded default has none) is not a failure: its row is recorded ``skipped`` and the
activity completes, quietly. Logs carry keys, case ids, recipient ids and channels only: no
addresses, no message text (DOMAIN §9).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from notifications.directory import Addressees, Directory, RoleHolder
from notifications.messages import (
    NOTIFY_ACTIVITY,
    NOTIFY_RETRY,
    NOTIFY_SCHEDULE_TO_CLOSE,
    NOTIFY_START_TO_CLOSE,
    Channel,
    MessageOutcome,
    NotifyRequest,
    NotifyResult,
    OutboxMessage,
    outbox_key,
)
from notifications.senders import NO_SENDER, DeliveryFailed, Sender
from readmodel.outbox import Outbox, OutboxRow

__all__ = [
    "NOTIFY_ACTIVITY",
    "NOTIFY_RETRY",
    "NOTIFY_SCHEDULE_TO_CLOSE",
    "NOTIFY_START_TO_CLOSE",
    "NO_RECIPIENT",
    "NOTIFICATION_FAILED",
    "NOTIFICATION_PENDING",
    "NotificationActivities",
]

# ApplicationError types a caller can tell apart.
NO_RECIPIENT = "NoRecipient"  # nobody up the chart holds the role and no catch-all: non-retryable
NOTIFICATION_FAILED = "NotificationFailed"  # a message was rejected for good, or a configured channel had no address
NOTIFICATION_PENDING = "NotificationPending"  # retryable: some message is still to be delivered


class NotificationActivities:
    def __init__(
        self,
        outbox: Outbox | Engine | object,
        senders: Mapping[Channel | str, Sender],
        directory: Directory | Callable[[], Directory],
    ) -> None:
        """``outbox``: an Outbox, an Engine, or anything with an ``engine`` (the ReadModel).
        ``directory``: a Directory, or a callable giving the current one (the policy is re-read)."""
        if isinstance(outbox, Outbox):
            self.outbox = outbox
        elif isinstance(outbox, Engine):
            self.outbox = Outbox(outbox)
        else:
            self.outbox = Outbox(outbox.engine, getattr(outbox, "write_lock", None))  # type: ignore[attr-defined]
        self._senders = {Channel(k): v for k, v in senders.items()}
        self._directory = directory

    @activity.defn(name=NOTIFY_ACTIVITY)
    async def notify(self, request: NotifyRequest) -> NotifyResult:
        log = activity.logger
        addressees = self._addressees(request)
        outcomes: list[MessageOutcome] = []
        pending = 0
        for holder in addressees.holders:
            for channel in dict.fromkeys(request.channels):
                outcome = await self._deliver_one(request, holder, channel, addressees.passed_up_from)
                if outcome is None:  # a retryable failure, already recorded on its row
                    pending += 1
                else:
                    outcomes.append(outcome)
        result = NotifyResult(case_id=request.case_id, step=request.step, messages=outcomes)
        if pending:
            # The next attempt (after the caller's backoff) sends only these: the rest are delivered.
            raise ApplicationError(
                f"{pending} notification(s) of {request.step} not delivered yet",
                type=NOTIFICATION_PENDING,
            )
        if result.failed or not (result.delivered or result.already_delivered or _only_unconfigured(result)):
            log.warning(
                "notifications of %s failed: %s",
                request.step,
                ", ".join(f"{m.recipient_id}/{m.channel}: {m.reason}" for m in outcomes if m.outcome in ("failed", "skipped")),
            )
            raise ApplicationError(
                f"notifications of {request.step} could not all be delivered",
                result.model_dump(mode="json"),
                type=NOTIFICATION_FAILED,
                non_retryable=True,
            )
        return result

    def _addressees(self, request: NotifyRequest) -> Addressees:
        """The holders of the role where the notice is addressed, or up the org chart, or the
        catch-all: a notice is passed up, never dropped (DOMAIN §6)."""
        if request.recipient is not None:
            named = request.recipient
            return Addressees(holders=[named], addressed_unit=named.unit, unit=named.unit)
        directory = self._directory() if callable(self._directory) else self._directory
        assert request.role is not None and request.unit is not None
        found = directory.addressees(request.role, request.unit, level_above=request.level_above)
        if found is None:  # only a directory without a catch-all (the policy names one)
            raise ApplicationError(
                f"no {request.role} in unit {request.unit} or above it in the directory, and no catch-all",
                type=NO_RECIPIENT,
                non_retryable=True,
            )
        if found.passed_up_from is not None:
            activity.logger.info(
                "notice %s for %s of %s passed up to %s%s",
                request.step, request.role, found.passed_up_from, found.unit, " (catch-all)" if found.catch_all else "",
            )  # fmt: skip
        return found

    async def _deliver_one(
        self, request: NotifyRequest, holder: RoleHolder, channel: Channel, passed_up_from: str | None
    ) -> MessageOutcome | None:
        """Deliver one message; None when a retryable failure leaves it pending."""
        log = activity.logger

        def outcome(key: str, kind: str, row: OutboxRow | None = None, reason: str | None = None) -> MessageOutcome:
            return MessageOutcome(
                key=key,
                recipient_id=holder.id,
                channel=channel,
                outcome=kind,  # type: ignore[arg-type]
                attempts=row.attempts if row is not None else 0,
                reason=reason,
                recipient_unit=holder.unit,
                passed_up_from=passed_up_from,
            )

        key = outbox_key(request.case_id, request.step, holder.id, channel)
        address = holder.email if channel == Channel.EMAIL else holder.phone
        sender = self._senders.get(channel)
        if address is None:  # an unconfigured channel first: the embedded default has none at all
            return outcome(key, "skipped", reason=NO_SENDER if sender is None else "no_address")
        message = OutboxMessage(
            case_id=request.case_id,
            step=request.step,
            recipient_id=holder.id,
            recipient_role=holder.role,
            recipient_unit=holder.unit,
            passed_up_from=passed_up_from,
            channel=channel,
            address=address,
            subject=request.subject,
            body=request.text,
        )
        row = await asyncio.to_thread(self.outbox.enqueue, message)
        if row.status == "delivered":
            return outcome(key, "already_delivered", row)
        if row.status == "failed":
            return outcome(key, "failed", row, row.last_error)
        if sender is None:  # the deployment has not configured this channel: recorded, not an error
            row = await asyncio.to_thread(self.outbox.mark_skipped, key, NO_SENDER) or row
            return outcome(key, "skipped", row, NO_SENDER)
        # Send what the outbox holds: the first call's text and address, whatever this call says.
        stored = message.model_copy(update={"address": row.address, "subject": row.subject, "body": row.body})
        try:
            await sender.send(stored)
        except DeliveryFailed as exc:
            if not exc.retryable:
                row = await asyncio.to_thread(self.outbox.mark_failed, key, exc.reason)
                log.warning("notification %s (%s, %s) rejected: %s", key, holder.id, channel, exc.reason)
                return outcome(key, "failed", row, exc.reason)
            reason = exc.reason
        except Exception as exc:  # anything unforeseen: assume it may pass, Temporal retries
            reason = type(exc).__name__
        else:
            row = await asyncio.to_thread(self.outbox.mark_delivered, key, datetime.now(UTC))
            log.info("notification %s (%s, %s) delivered", key, holder.id, channel)
            return outcome(key, "delivered", row)
        await asyncio.to_thread(self.outbox.mark_attempt, key, reason)
        log.warning(
            "notification %s (%s, %s) not delivered on attempt %d: %s",
            key, holder.id, channel, activity.info().attempt, reason,
        )  # fmt: skip
        return None


def _only_unconfigured(result: NotifyResult) -> bool:
    """Nothing went out only because no channel asked for has a sender: skipped, not failed. A
    configured channel left without an address still fails the notice (the directory needs fixing)."""
    return bool(result.messages) and all(m.reason == NO_SENDER for m in result.messages)
