"""What the API, the worker and the tests agree on: ids, search attributes and the messages
that cross the workflow boundary (workflow input, update arguments, read-model changes).

Pure pydantic models, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from rules.actors import Actor
from rules.calendar import DeadlineRule
from rules.classification import Classification
from rules.dispatch import (
    DispatchKind,
    DispatchStatus,
    LadderStep,
    Reply,
    ReplyCheckRules,
    ReplyOutcome,
    TicketPriority,
)
from rules.intake import AwareDatetime, ComplaintIntake, EvidenceRef
from rules.lifecycle import ComplaintAction, ComplaintStatus


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


class ComplaintSearch:
    """Typed search attributes on every complaint workflow (no personal data: they are not encrypted)."""

    COMPLAINT_ID = SearchAttributeKey.for_keyword("ComplaintId")
    STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
    CATEGORY = SearchAttributeKey.for_keyword("Category")
    URGENCY = SearchAttributeKey.for_keyword("Urgency")
    LEVEL = SearchAttributeKey.for_int("Level")
    CHANNEL = SearchAttributeKey.for_keyword("Channel")
    TRACKING_NUMBER = SearchAttributeKey.for_keyword("TrackingNumber")

    ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")  # on dispatches: ladder step reached
    JUDGEMENT_STATUS = SearchAttributeKey.for_keyword("JudgementStatus")  # on judgements (DOMAIN §7)
    RESPONSIBLE_OFFICE = SearchAttributeKey.for_keyword("ResponsibleOffice")  # on judgements: the office at fault

    ALL = (COMPLAINT_ID, STATUS, CATEGORY, URGENCY, LEVEL, CHANNEL, TRACKING_NUMBER, ESCALATION_LEVEL,
           JUDGEMENT_STATUS, RESPONSIBLE_OFFICE)





Text = Annotated[str, Field(min_length=1, max_length=4000)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComplaintFiling(_Message):
    """The workflow input: the record as filed, with the classification made at intake."""

    complaint_id: str
    intake: ComplaintIntake
    classification: Classification
    filed_by: Actor
    filed_at: datetime
    lead_unit: str  # 主导客服: the office that owns the customer relationship
    # The first-contact deadline, computed at intake from the lead unit's calendar: a value in the
    # workflow's input is as replay-safe as an activity result, and saves the first task a round trip.
    first_contact: Deadline | None = None
    # Closed complaints of the same customer or parcel inside the repeat window (a repeat complaint).
    repeat_of: list[str] = []
    # Set only when a long case continues as new: where the previous run left it.
    resumed: ComplaintCarryOver | None = None
    # The workflow changes (patch ids) this case was started with. It takes them without asking
    # workflow.patched, so its history carries no patch marker and no version search attribute
    # upsert; a case started before this field existed asks workflow.patched as it always did.
    built_with: list[str] = []


# API bodies (what an agent sends) and the update arguments (the body plus who sent it).
class FirstContactAnswer(_Message):
    answer: Text


class HandlingStart(_Message):
    note: Text | None = None


class Resolution(_Message):
    solution: Text


class CustomerConfirmation(_Message):
    message: Text
    medium: Annotated[str, Field(pattern=r"^(sms|email|letter|call|app)$")]


class SatisfactionCallback(_Message):
    satisfied: bool
    customer_words: Text  # the customer's own words (DOMAIN §5)


class UnresolvableClosure(_Message):
    reason: Text


class _ByActor(_Message):
    actor: Actor


class AnswerAtFirstContact(FirstContactAnswer, _ByActor):
    pass


class TakeIntoHandling(HandlingStart, _ByActor):
    pass


class Resolve(Resolution, _ByActor):
    pass


class ConfirmWithCustomer(CustomerConfirmation, _ByActor):
    pass


class RecordCallback(SatisfactionCallback, _ByActor):
    pass


class CloseUnresolvable(UnresolvableClosure, _ByActor):
    pass


class ComplaintState(BaseModel):
    """What an update answers: where the complaint stands now."""

    complaint_id: str
    status: ComplaintStatus
    handling_round: int
    one_time_resolution: bool
    last_seq: int


class TimelineEntry(_Message):
    """One change, written to the read model's timeline exactly once (id = workflow id + seq)."""

    seq: int
    at: datetime
    actor: Actor
    action: ComplaintAction
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    detail: dict[str, Any] = {}


class ComplaintChange(_Message):
    """A read-model write: the timeline entry plus the complaint's state after it."""

    complaint_id: str
    workflow_id: str
    entry: TimelineEntry
    status: ComplaintStatus
    handling_round: int
    one_time_resolution: bool
    filing: ComplaintFiling | None = None  # only on the first change, to create the row
    clocks: list[Clock] | None = None  # None: the clocks did not change
    missed_clocks: int | None = None  # customer clocks missed so far (None: not tracked by this run)
    complex_case: bool | None = None
    plan: list[PlanAction] | None = None  # None: the plan did not change


class DeadlineRequest(_Message):
    """Ask the calendar when a clock falls due, from `start` on `unit`'s calendar: either the
    policy's rule for a named clock (the policy at the time of asking) or an explicit rule."""

    unit: str
    start: datetime
    clock: str | None = None  # a policy clock, e.g. "first_contact"
    category: str | None = None  # customer clocks differ by category and level
    level: int | None = None
    rule: DeadlineRule | None = None


class FollowingDeadline(_Message):
    """A deadline counted from the one before it in a chain, on `unit`'s calendar."""

    unit: str
    rule: DeadlineRule


class DeadlineChainRequest(_Message):
    """A deadline and the deadlines that follow it, each counted from the one before: a dispatch's
    due instant and its escalation ladder's answer-by instants, asked for once."""

    first: DeadlineRequest
    then: list[FollowingDeadline]


class Deadline(_Message):
    due: datetime  # UTC
    due_local: str  # on the unit's wall clock, for people: "2026-03-02 09:30"
    unit: str
    calendar: str
    calendar_version: str  # which calendar data produced it (recorded in history)


class ClockKind(StrEnum):
    CUSTOMER = "customer"  # a promise to the customer: missed → the supervisor is told, and it counts
    PROGRESS = "progress"  # the next progress update: sent automatically when it falls due
    ACTION = "action"  # a complex case's planned action: overdue → the owner's supervisor is told


class Clock(BaseModel):
    """A customer clock, a progress-update clock or a planned action of one complaint."""

    name: str
    label: str
    started_at: datetime
    due: datetime
    due_local: str
    unit: str  # whose calendar runs it; its supervisor hears of a miss
    calendar_version: str
    met_at: datetime | None = None
    overdue_at: datetime | None = None
    kind: ClockKind = ClockKind.CUSTOMER
    extended: bool = False  # the solution clock moved from 4 to 8 hours, the customer told in time

    @property
    def running(self) -> bool:
        return self.met_at is None and self.overdue_at is None


class FirstContact(_Message):
    """First contact with the customer (DOMAIN §5): apology, why it matters, first direction."""

    apology: Text
    why_it_matters: Text
    first_direction: Text


class RecordFirstContact(FirstContact, _ByActor):
    pass


Medium = Annotated[str, Field(pattern=r"^(sms|email|letter|call|app)$")]


class ProgressUpdate(_Message):
    """An agent told the customer how the case stands: the next automatic update waits a full interval."""

    message: Text
    medium: Medium


class RecordProgressUpdate(ProgressUpdate, _ByActor):
    pass


class SolutionExtension(_Message):
    """The customer was told the solution needs longer (complex case): 4 → 8 hours, if told in time."""

    reason: Text
    medium: Medium  # how the customer was told


class ExtendSolutionClock(SolutionExtension, _ByActor):
    pass


class ComplexCaseOpening(_Message):
    """A supervisor takes a complex case over (DOMAIN §4): departments are convened."""

    reason: Text


class MakeComplex(ComplexCaseOpening, _ByActor):
    pass


UnitId = Annotated[str, Field(min_length=1, max_length=60)]


class CoordinationMeeting(_Message):
    """The departments' meeting: who came, what the evidence shows (waybill, scans, video)."""

    held_at: AwareDatetime
    departments: Annotated[list[UnitId], Field(min_length=1, max_length=20)]
    attendees: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=50)]
    findings: Text
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []


class RecordCoordinationMeeting(CoordinationMeeting, _ByActor):
    pass


class PlannedAction(_Message):
    department: UnitId
    owner: Annotated[str, Field(min_length=1, max_length=100)]
    description: Text
    due: AwareDatetime


class ActionPlan(_Message):
    actions: Annotated[list[PlannedAction], Field(min_length=1, max_length=30)]


class AgreePlan(ActionPlan, _ByActor):
    pass


class ActionDone(_Message):
    outcome: Text


class CompleteAction(ActionDone, _ByActor):
    number: Annotated[int, Field(ge=1)]


class PlanAction(BaseModel):
    """One action of a complex case's plan, as it stands."""

    number: int
    department: str
    owner: str
    description: str
    due: datetime
    done_at: datetime | None = None
    outcome: str | None = None
    overdue_at: datetime | None = None


class DuplicateIntake(_Message):
    """The same complaint again through another channel: linked to the open case, not a new one."""

    key: str  # the id the duplicate would have had: a retried duplicate links once
    channel: str
    received_at: datetime
    channel_message_id: str | None = None


class LinkDuplicate(DuplicateIntake, _ByActor):
    pass


SYSTEM_ACTOR = Actor(id="system", name="Complaint workflow", role="operations", unit="hq")


def intake_changes(filing: ComplaintFiling) -> list[ComplaintChange]:
    """The two changes every complaint starts with; the API and the workflow both write them,
    so they must be identical (same seq, same instant) for the writes to be idempotent."""
    wf_id = complaint_workflow_id(filing.complaint_id)
    common = dict(complaint_id=filing.complaint_id, workflow_id=wf_id, handling_round=0, one_time_resolution=True)
    received = TimelineEntry(
        seq=1,
        at=filing.filed_at,
        actor=filing.filed_by,
        action=ComplaintAction.RECEIVE,
        from_status=None,
        to_status=ComplaintStatus.RECEIVED,
        detail={"channel": filing.intake.channel.value, "received_at": filing.intake.received_at.isoformat()},
    )
    classified = TimelineEntry(
        seq=2,
        at=filing.filed_at,
        actor=SYSTEM_ACTOR,
        action=ComplaintAction.CLASSIFY,
        from_status=ComplaintStatus.RECEIVED,
        to_status=ComplaintStatus.CLASSIFIED,
        detail=filing.classification.model_dump(mode="json"),
    )
    return [
        ComplaintChange(entry=received, status=ComplaintStatus.RECEIVED, filing=filing, **common),
        ComplaintChange(entry=classified, status=ComplaintStatus.CLASSIFIED, **common),
    ]


def opening_clock(filing: ComplaintFiling) -> Clock | None:
    deadline = filing.first_contact
    if deadline is None:
        return None
    return Clock(
        name="first_contact",
        label="first contact",
        started_at=filing.intake.received_at,
        due=deadline.due,
        due_local=deadline.due_local,
        unit=deadline.unit,
        calendar_version=deadline.calendar_version,
    )


def clock_started_detail(clock: Clock, calendar: str) -> dict[str, Any]:
    """The timeline detail of a started clock, the same whether the API or the workflow writes it."""
    return {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local,
            "unit": clock.unit, "calendar": calendar, "calendar_version": clock.calendar_version}


def opening_changes(filing: ComplaintFiling) -> list[ComplaintChange]:
    """Received, classified and the first-contact clock: written by the API at intake and again by
    the workflow with its first later change (idempotent), so neither can lose them."""
    changes = intake_changes(filing)
    clock = opening_clock(filing)
    if clock is not None:
        deadline = filing.first_contact
        assert deadline is not None
        entry = TimelineEntry(
            seq=3,
            at=filing.filed_at,
            actor=SYSTEM_ACTOR,
            action=ComplaintAction.START_CLOCK,
            from_status=ComplaintStatus.CLASSIFIED,
            to_status=ComplaintStatus.CLASSIFIED,
            detail=clock_started_detail(clock, deadline.calendar),
        )
        changes.append(ComplaintChange(
            complaint_id=filing.complaint_id, workflow_id=complaint_workflow_id(filing.complaint_id), entry=entry,
            status=ComplaintStatus.CLASSIFIED, handling_round=0, one_time_resolution=True, clocks=[clock],
        ))
    return changes


RECORD_CHANGES_ACTIVITY = "record_complaint_changes"
COMPUTE_DEADLINE_ACTIVITY = "compute_deadline"
COMPUTE_DEADLINE_CHAIN_ACTIVITY = "compute_deadline_chain"


def complaint_summary(filing: ComplaintFiling) -> str:
    """One line for the Web UI's workflow list (≤ 200 bytes, no personal data)."""
    cls = filing.classification
    return (
        f"Complaint {filing.complaint_id}: {cls.category} · {cls.urgency.value} · level {cls.level}"
        f" · via {filing.intake.channel.value} · lead {filing.lead_unit}"
    )[:200]


def complaint_details(filing: ComplaintFiling) -> str:
    """Static details for the Web UI: why it was classified so (no name, phone or address)."""
    cls, intake = filing.classification, filing.intake
    reasons = "\n".join(f"- {r}" for r in cls.urgent_reasons) or "- none: general"
    return (
        f"**Complaint {filing.complaint_id}** filed {filing.filed_at.isoformat()} by {filing.filed_by.role.value}"
        f" of {filing.filed_by.unit}\n\n"
        f"- received {intake.received_at.isoformat()} via {intake.channel.value}\n"
        f"- tracking number {intake.tracking_number or '—'}\n"
        f"- category {cls.category} ({cls.category_group})\n"
        f"- level {cls.level}: {'; '.join(cls.level_reasons)}\n"
        f"- priority {cls.priority.value}: {'; '.join(cls.priority_reasons) or '—'}\n\n"
        f"**Urgency: {cls.urgency.value}**\n{reasons}\n"
    )


def search_attributes_at_filing(filing: ComplaintFiling) -> TypedSearchAttributes:
    cls, intake = filing.classification, filing.intake
    pairs = [
        SearchAttributePair(ComplaintSearch.COMPLAINT_ID, filing.complaint_id),
        SearchAttributePair(ComplaintSearch.STATUS, ComplaintStatus.CLASSIFIED.value),
        SearchAttributePair(ComplaintSearch.CATEGORY, cls.category),
        SearchAttributePair(ComplaintSearch.URGENCY, cls.urgency.value),
        SearchAttributePair(ComplaintSearch.LEVEL, cls.level),
        SearchAttributePair(ComplaintSearch.CHANNEL, intake.channel.value),
    ]
    if intake.tracking_number:
        pairs.append(SearchAttributePair(ComplaintSearch.TRACKING_NUMBER, intake.tracking_number))
    return TypedSearchAttributes(pairs)


class ComplaintOutcome(BaseModel):
    complaint_id: str
    status: ComplaintStatus
    handling_round: int
    one_time_resolution: bool
    closed_at: datetime | None


# -- dispatches (DOMAIN §4, §6) ----------------------------------------------------------------

def dispatch_workflow_id(complaint_id: str, n: int) -> str:
    return f"dispatch-{complaint_id}-{n}"


RECORD_DISPATCH_CHANGES_ACTIVITY = "record_dispatch_changes"
WORKING_MINUTES_ACTIVITY = "working_minutes_between"


class DispatchOrder(_Message):
    """The input of a DispatchWorkflow: resolved at raising time from the policy, so the workflow
    never reads the policy (the ladder it will climb is recorded in its history)."""

    dispatch_id: str  # = workflow id, dispatch-<complaint id>-<n>
    complaint_id: str
    kind: DispatchKind
    priority: TicketPriority = TicketPriority.NORMAL
    unit: str  # the unit that must act; its calendar runs the clock
    instruction: Text
    raised_by: Actor
    raised_at: datetime
    review_unit: str | None = None  # urgent tickets: the urgent-item group
    ladder: list[LadderStep]  # climbed once the dispatch is overdue
    confirm_notice: LadderStep | None = None  # urgent ticket confirmed: who is texted at once
    review_overdue_notice: LadderStep | None = None  # urgent review late: the group's head
    parent_workflow_id: str
    replaces: str | None = None  # the dispatch this one redispatches
    reply_checks: ReplyCheckRules  # the policy's checks at raising time
    # The workflow changes (patch ids) this dispatch was started with: taken without asking
    # workflow.patched (no marker, no version upsert); an older dispatch asks as it always did.
    built_with: list[str] = []


class UrgentReview(_Message):
    """The urgent-item group's review of an urgent ticket (it re-listens to the call)."""

    confirm: bool  # confirm → dispatch at once; downgrade → a normal ticket
    reason: Text


class RaiseDispatch(_ByActor):
    """Raise a dispatch or open a ticket for a complaint; the API resolves the policy into it."""

    kind: DispatchKind
    priority: TicketPriority = TicketPriority.NORMAL
    unit: str
    instruction: Text
    review_unit: str | None = None
    ladder: list[LadderStep]
    confirm_notice: LadderStep | None = None
    review_overdue_notice: LadderStep | None = None
    reply_checks: ReplyCheckRules


class ReviewUrgentTicket(UrgentReview, _ByActor):
    pass


class ReplyToDispatch(_ByActor):
    reply: Reply


class DispatchView(BaseModel):
    """A dispatch as the read model and the API show it."""

    dispatch_id: str
    complaint_id: str
    kind: DispatchKind
    priority: TicketPriority
    unit: str
    status: DispatchStatus
    instruction: str
    raised_by: str
    raised_at: datetime
    due: datetime | None = None
    due_local: str | None = None
    answered_at: datetime | None = None
    in_time: bool | None = None
    late_working_minutes: int | None = None
    returns: int = 0
    escalation_level: int = 0
    finding: str | None = None
    failing_link: str | None = None
    replaces: str | None = None


class DispatchEvent(_Message):
    seq: int
    at: datetime
    actor: Actor
    action: str
    from_status: DispatchStatus | None
    to_status: DispatchStatus
    detail: dict[str, Any] = {}


class DispatchChange(_Message):
    workflow_id: str
    event: DispatchEvent
    view: DispatchView


class ReplyAnswer(BaseModel):
    """What the replying unit is told: accepted, returned with the reason, or redispatched."""

    outcome: ReplyOutcome
    reason: str
    dispatch: DispatchView


class DispatchResult(BaseModel):
    """Sent to the complaint when a dispatch ends."""

    dispatch: DispatchView
    redispatch: bool = False


class WorkingTimeRequest(_Message):
    unit: str
    start: datetime
    end: datetime


class ComplaintCarryOver(BaseModel):
    """Where a long complaint stands when it continues as new: its next run starts from here with a
    fresh history (never with dispatches open, since children do not carry over)."""

    status: ComplaintStatus
    seq: int
    handling_round: int
    one_time_resolution: bool
    clocks: list[Clock]
    missed_clocks: int
    progress_updates: int
    dispatches_raised: int
    finished_dispatches: list[DispatchView]
    complex_case: bool
    meeting_recorded: bool
    plan: list[PlanAction]
    linked_duplicates: list[str]
    runs: int  # how many runs came before this one


ComplaintFiling.model_rebuild()
