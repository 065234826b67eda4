"""Every table of the read model, declared here and only here: complaints and their timeline,
dispatches, contacts, judgements, the knowledge base and the notification outbox. Written by
activities (and the API at intake), read by the API; the stores beside this module hold the queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores instants as UTC and hands them back aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the read model")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON))


class ComplaintRow(SQLModel, table=True):
    __tablename__ = "complaint"

    id: str = Field(primary_key=True)
    workflow_id: str
    status: str = Field(index=True)
    category: str = Field(index=True)
    category_group: str
    urgency: str = Field(index=True)
    urgent_reasons: Any = _json()
    level: int = Field(index=True)
    level_reasons: Any = _json()
    priority: str
    priority_reasons: Any = _json()
    channel: str = Field(index=True)
    channel_message_id: str | None = None
    received_at: datetime = _instant(nullable=False, index=True)
    filed_at: datetime = _instant(nullable=False)
    filed_by: str
    lead_unit: str = Field(index=True)
    tracking_number: str | None = Field(default=None, index=True)
    nature: str
    complainant_name: str
    complainant_phone: str = Field(index=True)
    # The phone in one form (rules/customer_data.py normalised_phone): what duplicates and repeats compare.
    phone_key: str | None = Field(default=None, index=True)
    complainant_tier: str
    sender: Any = _json()
    recipient: Any = _json()
    contents: Any = _json()
    demand: str | None = None
    description: str
    evidence: Any = _json()
    handling_round: int = 0
    one_time_resolution: bool = True
    closed_at: datetime | None = _instant(nullable=True, index=True)
    clocks: Any = _json()  # the running and finished clocks with their due instants
    next_due: datetime | None = _instant(nullable=True, index=True)  # the earliest running clock's due instant
    overdue_since: datetime | None = _instant(nullable=True, index=True)  # the earliest overdue, unmet clock's due
    due_soon_from: datetime | None = _instant(nullable=True, index=True)  # a running clock's earliest warning (issue #16)
    paused_since: datetime | None = _instant(nullable=True, index=True)  # its customer clocks paused since (rules/pauses.py)
    missed_clocks: int = 0  # customer clocks missed (each told to the supervisor)
    complex_case: bool = False
    plan: Any = _json()  # a complex case's actions with owners and due dates
    is_repeat: bool = Field(default=False, index=True)  # the customer or parcel complained before
    repeat_of: Any = _json()  # the earlier, closed complaints it repeats
    # When its customer's names, phones and addresses were replaced (readmodel/retention.py): past
    # the policy's retention or at the customer's request.
    deidentified_at: datetime | None = _instant(nullable=True)
    # The complaint this one is merged into (rules/merging.py): handled there, left out of the measures.
    merged_into: str | None = Field(default=None, index=True)
    # VIP service (差异化服务): the queue a VIP customer's case is routed to (policy vip_service.queue).
    queue: str | None = Field(default=None, index=True)
    # The seat that owns the case (took it into handling, or was handed it at shift end: 交接班).
    owner_id: str | None = Field(default=None, index=True)
    owner_name: str | None = None
    owner_unit: str | None = Field(default=None, index=True)
    last_seq: int
    updated_at: datetime = _instant(nullable=False)

    # Each list filter with the default newest-first order and a received-time range reads one index.
    __table_args__ = (
        Index("ix_complaint_status_received", "status", "received_at"),
        Index("ix_complaint_category_received", "category", "received_at"),
        Index("ix_complaint_channel_received", "channel", "received_at"),
        Index("ix_complaint_lead_unit_received", "lead_unit", "received_at"),
        Index("ix_complaint_category_channel_received", "category", "channel", "received_at"),
        # The measures over closed and received complaints read these alone, never the rows.
        Index("ix_complaint_closed_measures", "closed_at", "status", "one_time_resolution", "missed_clocks"),
        Index("ix_complaint_received_repeat", "received_at", "is_repeat"),
        # The dashboard lists high priority first, each by its next due instant.
        Index("ix_complaint_priority_next_due", "priority", "next_due"),
    )


class TimelineEventRow(SQLModel, table=True):
    __tablename__ = "timeline_event"

    id: str = Field(primary_key=True)  # "<workflow id>:<seq>": a retried write finds its own row
    complaint_id: str = Field(index=True)
    seq: int
    at: datetime = _instant(nullable=False)
    actor_id: str
    actor_name: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None = None
    to_status: str
    detail: Any = _json()

    __table_args__ = (Index("ix_timeline_event_action_at", "action", "at"),)  # measures count events by kind


class DispatchRow(SQLModel, table=True):
    """One dispatch or ticket (调度 / 工单) with its clock, as the unit inboxes show it."""

    __tablename__ = "dispatch"

    id: str = Field(primary_key=True)  # dispatch-<complaint id>-<n>
    complaint_id: str = Field(index=True)
    kind: str = Field(index=True)
    priority: str
    unit: str = Field(index=True)
    status: str = Field(index=True)
    instruction: str
    raised_by: str
    raised_at: datetime = _instant(nullable=False, index=True)
    due: datetime | None = _instant(nullable=True, index=True)
    due_local: str | None = None
    answered_at: datetime | None = _instant(nullable=True)
    in_time: bool | None = None
    late_working_minutes: int | None = None
    returns: int = 0
    escalation_level: int = Field(default=0, index=True)
    warn_at: datetime | None = _instant(nullable=True, index=True)  # its first warning before the due instant (issue #16)
    warn_at_local: str | None = None
    # Its clock's pause in force (rules/pauses.py), none when it runs.
    paused_at: datetime | None = _instant(nullable=True, index=True)
    pause_reason: str | None = None
    pause_ends_by: datetime | None = _instant(nullable=True)
    pause_ends_by_local: str | None = None
    finding: str | None = None
    failing_link: str | None = None
    replaces: str | None = None
    last_seq: int


class DispatchEventRow(SQLModel, table=True):
    """A dispatch's own timeline: raised, reviewed, returned replies, escalations, the answer."""

    __tablename__ = "dispatch_event"

    id: str = Field(primary_key=True)  # "<dispatch id>:<seq>"
    dispatch_id: str = Field(index=True)
    complaint_id: str = Field(index=True)
    seq: int
    at: datetime = _instant(nullable=False)
    actor_id: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None = None
    to_status: str
    detail: Any = _json()

    __table_args__ = (Index("ix_dispatch_event_action_at", "action", "at"),)


class ContactRow(SQLModel, table=True):
    """A consultation, rescue request or new failure mode (DOMAIN §2): its own table beside the
    complaints, so lists, measures and the dashboard count complaints only; its timeline rows share
    `timeline_event` (keyed by its own workflow id + seq, `complaint_id` holding the contact id)."""

    __tablename__ = "contact"

    id: str = Field(primary_key=True)
    workflow_id: str
    kind: str = Field(index=True)
    status: str = Field(index=True)
    channel: str
    channel_message_id: str | None = None
    received_at: datetime = _instant(nullable=False, index=True)
    filed_at: datetime = _instant(nullable=False)
    filed_by: str
    desk_unit: str = Field(index=True)  # received it: hands over and calls back
    customer_name: str
    customer_phone: str
    customer_tier: str
    tracking_number: str | None = Field(default=None, index=True)
    description: str
    location: str | None = None
    evidence: Any = _json()
    handed_to: str | None = Field(default=None, index=True)  # the department or the nearest service point
    clocks: Any = _json()  # with their due instants on the acting unit's (or the clock's own) calendar
    missed_clocks: int = 0  # each told to the supervisor of the unit that owed it
    closed_at: datetime | None = _instant(nullable=True)
    deidentified_at: datetime | None = _instant(nullable=True)  # as a complaint's (readmodel/retention.py)
    last_seq: int
    updated_at: datetime = _instant(nullable=False)


class JudgementRow(SQLModel, table=True):
    """One responsibility judgement (判责单) with its running clock."""

    __tablename__ = "judgement"

    id: str = Field(primary_key=True)  # judgement-<complaint id>
    complaint_id: str = Field(index=True)
    status: str = Field(index=True)
    lead_unit: str
    category: str
    opened_at: datetime = _instant(nullable=False)
    responsible_office: str | None = Field(default=None, index=True)
    party: str | None = None
    at_fault_unit: str | None = None
    fault_type: str | None = None  # loss, false_information …: decides the four-party statement
    proposal_reason: str | None = None
    acting_unit: str | None = Field(default=None, index=True)
    due: datetime | None = _instant(nullable=True, index=True)
    due_local: str | None = None
    reminder_at: datetime | None = _instant(nullable=True)
    reminders: int = 0
    sent_at: datetime | None = _instant(nullable=True, index=True)
    answered_at: datetime | None = _instant(nullable=True)
    in_time: bool | None = None
    city_branch: str | None = None
    failing_link: str | None = None
    smallest_unit: str | None = None
    appealed_at: datetime | None = _instant(nullable=True)
    appeal_reason: str | None = None
    appeal_branch: str | None = None  # the city branch (市局) the appeal was lodged for: its rights were checked
    decided_at: datetime | None = _instant(nullable=True)
    at_fault: bool | None = None
    invalid_appeal: bool = False
    response_overdue: bool = False
    arbitration_overdue: bool = False
    final_at: datetime | None = _instant(nullable=True, index=True)
    last_seq: int
    updated_at: datetime = _instant(nullable=False)

    # The appeal-rights count reads one index: an office's judgements sent in a month.
    __table_args__ = (Index("ix_judgement_office_sent", "responsible_office", "sent_at"),)


class JudgementEventRow(SQLModel, table=True):
    """A judgement's own timeline: generated, edited, sent, reminded, accepted, appealed, decided."""

    __tablename__ = "judgement_event"

    id: str = Field(primary_key=True)  # "<judgement id>:<seq>"
    judgement_id: str = Field(index=True)
    complaint_id: str = Field(index=True)
    seq: int
    at: datetime = _instant(nullable=False)
    actor_id: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None = None
    to_status: str
    detail: Any = _json()


class KnowledgeEntryRow(SQLModel, table=True):
    """What a closed complaint teaches: problem, category, solution, outcome. No customer data."""

    __tablename__ = "knowledge_entry"

    complaint_id: str = Field(primary_key=True)
    category: str = Field(index=True)
    problem: str  # the description, cleaned of names and phones
    demand: str | None = None  # what the customer asked for
    solution: str  # the last round's solution, the first-contact answer or the unresolvable reason
    outcome: str = Field(index=True)
    handling_round: int  # 0 = solved in the first round; each dissatisfied call-back adds one
    one_time_resolution: bool
    closed_at: datetime = _instant(nullable=False, index=True)
    terms: str  # problem, demand and solution cut into words: what the full-text index reads


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: str = Field(primary_key=True)  # sha256 of (case, step, recipient, channel): the idempotency key
    case_id: str = Field(index=True)
    step: str
    recipient_id: str
    recipient_role: str
    recipient_unit: str
    passed_up_from: str | None = None  # the unit the notice was addressed to, when nobody there held the role
    channel: str  # "email" | "sms"
    address: str  # staff e-mail or phone: stored to send, never logged
    subject: str
    body: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    attempts: int = 0  # send attempts whose outcome was recorded
    last_error: str | None = None  # "sms 503", "smtp 451", "ConnectTimeout": never an address
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    status: str = Field(default="pending", index=True)  # "pending" | "delivered" | "failed" | "skipped"

    __table_args__ = (UniqueConstraint("case_id", "step", "recipient_id", "channel", name="uq_outbox_message_target"),)


class IdempotencyKeyRow(SQLModel, table=True):
    """An `Idempotency-Key` (or a channel's message id) bound to the first request that used it: its
    caller and body, and the case it answered with. Taken before the case starts, so concurrent
    retries find it and answer with that case; another caller or body is refused."""

    __tablename__ = "idempotency_key"

    key: str = Field(primary_key=True)  # "<scope>:<key>", e.g. "complaint:call-0001"
    caller: str  # the actor id of the bearer token
    fingerprint: str  # sha256 of the request body, as JSON with sorted keys
    case_id: str  # the case the request opened, or the open case it joined as a duplicate
    claimed_at: datetime = _instant(nullable=False)


class DuplicateClaimRow(SQLModel, table=True):
    """Which case the same complaint joins (DOMAIN §2): one row per customer, parcel and category,
    taken by the first filing before its case starts, so two channels at the same moment make one case."""

    __tablename__ = "duplicate_claim"

    key: str = Field(primary_key=True)  # sha256 of (normalised phone, tracking number, category): no phone in clear
    complaint_id: str
    received_at: datetime = _instant(nullable=False)
    claimed_at: datetime = _instant(nullable=False)


class RequirementRow(SQLModel, table=True):
    """A level-3 suggestion forwarded to the product side as a requirement (DOMAIN §3). What the
    product side needs and no more: the suggestion's text (names and phones taken out) and category."""

    __tablename__ = "requirement"

    id: str = Field(primary_key=True)  # requirement-<complaint id>
    complaint_id: str = Field(index=True)
    category: str = Field(index=True)
    channel: str
    suggestion: str  # the description, cleaned of names and phones
    demand: str | None = None  # what the customer asked for, cleaned the same way
    received_at: datetime = _instant(nullable=False, index=True)
    forwarded_at: datetime = _instant(nullable=False)


class AuditRow(SQLModel, table=True):
    """One use of customer data (PIPL art. 51): a reveal, an export, a decode of workflow payloads or
    an erasure. Append-only: rows are inserted, never updated or deleted; only the auditor reads them."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _instant(nullable=False, index=True)
    actor_id: str = Field(index=True)
    role: str
    unit: str
    action: str = Field(index=True)  # reveal | export | decode | erase | deidentify
    what: str  # which data, e.g. "complainant.phone", "complaints.csv (312 rows)", "12 payloads"
    case_id: str | None = Field(default=None, index=True)
    reason: str | None = None  # as the actor gave it


class SurveyLinkRow(SQLModel, table=True):
    """A satisfaction survey link texted to a customer (rules/survey.py): taken once, by the one
    request that sets `used_at` while it is empty (compare-and-set), whichever API replica it reaches.
    The token itself is never stored, only its digest."""

    __tablename__ = "survey_link"

    id: str = Field(primary_key=True)  # the link id, the token's first part
    token_digest: str = Field(unique=True)  # sha256 of the whole signed token
    complaint_id: str = Field(index=True)
    handling_round: int | None = None  # the round it was sent for (None until the workflow sent it)
    issued_by: str  # the handler's actor id
    issued_at: datetime = _instant(nullable=False, index=True)
    expires_at: datetime | None = _instant(nullable=True)  # set by the workflow when it sent the text
    used_at: datetime | None = _instant(nullable=True)  # the answer taken (or refused by the case)
    rating: int | None = None  # 1-5
    satisfied: bool | None = None  # by the policy's satisfied_ratings
    outcome: str | None = None  # "recorded", or why the case refused the answer
