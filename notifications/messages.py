"""What a workflow asks of the notify activity and what it gets back (pure pydantic, no I/O).

Safe to import inside the workflow sandbox: a workflow builds a ``NotifyRequest`` and calls
``workflow.execute_activity(NOTIFY_ACTIVITY, request, result_type=NotifyResult,
start_to_close_timeout=NOTIFY_START_TO_CLOSE, schedule_to_close_timeout=NOTIFY_SCHEDULE_TO_CLOSE,
retry_policy=NOTIFY_RETRY)``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from temporalio.common import RetryPolicy

from notifications.directory import RoleHolder
from rules.actors import Role

NOTIFY_ACTIVITY = "notify"

# Backoff between attempts of one notify activity: 1 s, 2 s, 4 s, ... capped at 5 minutes, with no
# attempt limit; the schedule-to-close timeout bounds the whole effort instead. A permanent failure
# (bad number, unknown mailbox) is raised non-retryable and ends it at once.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
)
# One attempt: every sender has its own shorter network timeout (10 s by default).
NOTIFY_START_TO_CLOSE = timedelta(minutes=1)
# Give up (the activity fails with a timeout) if the gateways stay down this long; run the notify
# call beside the escalation timer, not in front of it, so an outage never delays the next step.
NOTIFY_SCHEDULE_TO_CLOSE = timedelta(hours=4)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


Step = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def outbox_key(case_id: str, step: str, recipient_id: str, channel: Channel | str) -> str:
    """The idempotency key of one message: the same (case, step, recipient, channel) always gives
    the same key, so a retry, a replay or a second call finds the message it already made."""
    identity = json.dumps([case_id, step, recipient_id, str(channel)], ensure_ascii=False)
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


class NotifyRequest(_Message):
    """Tell the holders of a role in a unit (or one named person) about a step of a case.

    ``step`` names the occasion and must be stable for the case (``escalation-1-director``,
    ``dispatch-D42-overdue``): it is part of the idempotency key, so the same step is never sent
    twice to the same person on the same channel. Keep customer data out of subject and text
    beyond what the recipient's role may see (DOMAIN §9)."""

    case_id: Annotated[str, Field(min_length=1, max_length=100)]
    step: Step
    role: Role | None = None
    unit: str | None = None
    recipient: RoleHolder | None = None
    level_above: bool = False  # address `role` at the unit above `unit` (a missed clock's notice, DOMAIN §6)
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.SMS, Channel.EMAIL]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=4000)]

    @model_validator(mode="after")
    def _one_way_to_name_recipients(self) -> NotifyRequest:
        by_role = self.role is not None or self.unit is not None
        if self.recipient is not None and by_role:
            raise ValueError("give either recipient or role and unit, not both")
        if self.recipient is None and (self.role is None or self.unit is None):
            raise ValueError("give role and unit, or an explicit recipient")
        return self


class OutboxMessage(_Message):
    """One message to one address on one channel: what the outbox stores and a sender sends."""

    case_id: str
    step: str
    recipient_id: str
    recipient_role: Role
    recipient_unit: str
    passed_up_from: str | None = None  # the unit addressed, when nobody there held the role
    channel: Channel
    address: str  # e-mail address or phone number of a staff member, never logged
    subject: str
    body: str

    @property
    def key(self) -> str:
        return outbox_key(self.case_id, self.step, self.recipient_id, self.channel)


Outcome = Literal["delivered", "already_delivered", "skipped", "failed"]


class MessageOutcome(_Message):
    """What happened to one (recipient, channel); ids and reasons only, no addresses."""

    key: str
    recipient_id: str
    channel: Channel
    outcome: Outcome
    attempts: int = 0
    reason: str | None = None  # why skipped or failed: "no_address", "no_sender", "sms 400", ...
    recipient_unit: str | None = None
    passed_up_from: str | None = None  # the unit addressed, when nobody there held the role


class NotifyResult(_Message):
    case_id: str
    step: str
    messages: list[MessageOutcome]

    @property
    def delivered(self) -> list[str]:
        """Keys sent by this call."""
        return [m.key for m in self.messages if m.outcome == "delivered"]

    @property
    def already_delivered(self) -> list[str]:
        """Keys sent earlier (by an earlier attempt or call) and not sent again."""
        return [m.key for m in self.messages if m.outcome == "already_delivered"]

    @property
    def skipped(self) -> list[MessageOutcome]:
        return [m for m in self.messages if m.outcome == "skipped"]

    @property
    def failed(self) -> list[MessageOutcome]:
        return [m for m in self.messages if m.outcome == "failed"]
