"""The messages of a ComplaintWorkflow (投诉): its input, the agents' bodies and the update
arguments (the body plus who sent it), its read-model changes, its Web UI text and search attributes.

Pure pydantic models, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from rules.actors import Actor
from rules.classification import Classification
from rules.customer_clocks import FIRST_CONTACT, LABELS
from rules.intake import AwareDatetime, ComplaintIntake, EvidenceRef
from rules.lifecycle import ComplaintAction, ComplaintStatus
from workflows.case import (
    SYSTEM_ACTOR,
    ByActor,
    CaseSearch,
    Medium,
    Message,
    Text,
    UnitId,
)
from workflows.clocks import Clock, clock_started_detail
from workflows.deadlines import Deadline
from workflows.pauses import ClockPause
from workflows.dispatch_messages import DispatchResult, DispatchView


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


class ComplaintFiling(Message):
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
    # The workflow patches (workflows/complaint.py COMPLAINT_PATCHES) this case was started with. It
    # takes them without asking workflow.patched, so its history carries no patch marker and no
    # version search attribute upsert; a case started before this field existed asks as it always did.
    built_with: list[str] = []
    # The customer also gets an automatic "still being handled" text when a progress update falls
    # due without a person's (policy `clocks.customer.automatic_progress_text`, read at intake).
    automatic_progress_text: bool = False
    # Continue as new after this many history events instead of CONTINUE_AS_NEW_AFTER_EVENTS.
    continue_as_new_after_events: Annotated[int, Field(ge=50)] | None = None
    # A VIP customer's case (policy `vip_service`, read at intake): its queue and VIP desk; None: not VIP.
    vip: VipService | None = None


class VipService(Message):
    """How a VIP case is served (差异化服务): the inbox queue it is routed to, and the VIP desk whose
    supervisor hears of every clock it misses (besides the level above the lead office)."""

    queue: str
    desk: str


# API bodies (what an agent sends) and the update arguments (the body plus who sent it).
class FirstContactAnswer(Message):
    answer: Text


class HandlingStart(Message):
    note: Text | None = None


class Resolution(Message):
    solution: Text


class CustomerConfirmation(Message):
    message: Text
    medium: Annotated[str, Field(pattern=r"^(sms|email|letter|call|app)$")]


class SatisfactionCallback(Message):
    satisfied: bool
    customer_words: Text  # the customer's own words (DOMAIN §5)


class UnresolvableClosure(Message):
    reason: Text


class AnswerAtFirstContact(FirstContactAnswer, ByActor):
    pass


class TakeIntoHandling(HandlingStart, ByActor):
    pass


class Resolve(Resolution, ByActor):
    pass


class ConfirmWithCustomer(CustomerConfirmation, ByActor):
    pass


class RecordCallback(SatisfactionCallback, ByActor):
    # Answered through a survey link (rules/survey.py): the link and the customer's rating 1-5.
    survey_link: str | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None


class SendCallbackSurvey(ByActor):
    """The call-back asked for by text: the customer is sent the survey link the API made and signed.
    The link goes into the text only, never onto the timeline."""

    link_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
    url: Annotated[str, Field(min_length=1, max_length=500)]
    link_hours: Annotated[float, Field(gt=0)]  # the policy's callback_survey.link_hours


class CallbackSurveyLink(BaseModel):
    """A survey link sent for one round of handling: the workflow takes its answer until it expires."""

    link_id: str
    handling_round: int
    sent_at: datetime
    expires_at: datetime


class CloseUnresolvable(UnresolvableClosure, ByActor):
    pass


class ComplaintState(BaseModel):
    """What an update answers: where the complaint stands now."""

    complaint_id: str
    status: ComplaintStatus
    handling_round: int
    one_time_resolution: bool
    last_seq: int
    owner: Actor | None = None  # the seat that owns the case (took it into handling, or was handed it)
    merged_into: str | None = None  # the complaint this one is merged into (rules/merging.py)


class CaseHandOver(Message):
    """交接班: the case goes to another seat (at shift end), with what the next seat should know."""

    to_seat: Annotated[str, Field(min_length=1, max_length=100)]  # the actor id of the seat taking it over
    note: Text | None = None


class HandOverCase(ByActor):
    """The hand-over as the workflow takes it: the receiving seat resolved to its actor."""

    to: Actor
    note: Text | None = None


class TimelineEntry(Message):
    """One change, written to the read model's timeline exactly once (id = workflow id + seq)."""

    seq: int
    at: datetime
    actor: Actor
    action: ComplaintAction
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    detail: dict[str, Any] = {}


class ComplaintChange(Message):
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
    owner: Actor | None = None  # the case's owner after this change (None: nobody owns it yet)


class FirstContact(Message):
    """First contact with the customer (DOMAIN §5): apology, why it matters, first direction."""

    apology: Text
    why_it_matters: Text
    first_direction: Text


class RecordFirstContact(FirstContact, ByActor):
    pass


class ProgressUpdate(Message):
    """An agent told the customer how the case stands: the next automatic update waits a full interval."""

    message: Text
    medium: Medium


class RecordProgressUpdate(ProgressUpdate, ByActor):
    pass


class SolutionExtension(Message):
    """The customer was told the solution needs longer (complex case): 4 → 8 hours, if told in time."""

    reason: Text
    medium: Medium  # how the customer was told


class ExtendSolutionClock(SolutionExtension, ByActor):
    pass


class ComplexCaseOpening(Message):
    """A supervisor takes a complex case over (DOMAIN §4): departments are convened."""

    reason: Text


class MakeComplex(ComplexCaseOpening, ByActor):
    pass


class CoordinationMeeting(Message):
    """The departments' meeting: who came, what the evidence shows (waybill, scans, video)."""

    held_at: AwareDatetime
    departments: Annotated[list[UnitId], Field(min_length=1, max_length=20)]
    attendees: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=50)]
    findings: Text
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []


class RecordCoordinationMeeting(CoordinationMeeting, ByActor):
    pass


class PlannedAction(Message):
    department: UnitId
    owner: Annotated[str, Field(min_length=1, max_length=100)]
    description: Text
    due: AwareDatetime


class ActionPlan(Message):
    actions: Annotated[list[PlannedAction], Field(min_length=1, max_length=30)]


class AgreePlan(ActionPlan, ByActor):
    pass


class ActionDone(Message):
    outcome: Text


class CompleteAction(ActionDone, ByActor):
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


class DuplicateIntake(Message):
    """The same complaint again through another channel: linked to the open case, not a new one."""

    key: str  # the id the duplicate would have had: a retried duplicate links once
    channel: str
    received_at: datetime
    channel_message_id: str | None = None


class LinkDuplicate(DuplicateIntake, ByActor):
    pass


class CaseMerge(Message):
    """A supervisor merges this complaint into another one, the same matter (rules/merging.py)."""

    into: Annotated[str, Field(min_length=1, max_length=64)]  # the target complaint's id
    reason: Text


class MergeInto(CaseMerge, ByActor):
    pass


class CaseSplit(Message):
    """A supervisor splits a wrongly merged complaint back out of the one it was merged into."""

    reason: Text


class SplitOut(CaseSplit, ByActor):
    pass


class MergedCase(Message):
    """Signalled by a merged complaint to its target: taken in, or let go when split out."""

    complaint_id: str  # the merged complaint
    actor: Actor
    reason: str


class MergedDispatchFinished(Message):
    """A merged complaint's dispatch answered: forwarded to the target, whose judgement weighs it."""

    complaint_id: str  # the merged complaint the dispatch belongs to
    result: DispatchResult


class TargetAnswer(Message):
    """The target's word to a merged complaint: it closed (the merged one closes with it), or it
    could not take the merge after all (`refused`: the reason)."""

    target: str
    refused: str | None = None


class HeldClock(BaseModel):
    """A clock stopped by a merge, with the working minutes it had left on its calendar."""

    clock: Clock
    held_at: datetime  # the merge's instant: the split owes what was left from here (WorkingCalendar.resumed_due)
    remaining_minutes: int  # shown on the merge's timeline entry


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
        name=FIRST_CONTACT,
        label=LABELS[FIRST_CONTACT],
        started_at=filing.intake.received_at,
        due=deadline.due,
        due_local=deadline.due_local,
        unit=deadline.unit,
        calendar_version=deadline.calendar_version,
        warnings=[w.model_copy() for w in deadline.warnings],
    )


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


def complaint_summary(filing: ComplaintFiling) -> str:
    """One line for the Web UI's workflow list (≤ 200 bytes, no personal data)."""
    cls = filing.classification
    return (
        f"Complaint {filing.complaint_id}: {cls.category} · {cls.urgency.value} · level {cls.level}"
        f" · via {filing.intake.channel.value} · lead {filing.lead_unit}"
        + (f" · {filing.vip.queue} queue" if filing.vip is not None else "")  # VIP service: its queue, not the customer
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
        SearchAttributePair(CaseSearch.COMPLAINT_ID, filing.complaint_id),
        SearchAttributePair(CaseSearch.STATUS, ComplaintStatus.CLASSIFIED.value),
        SearchAttributePair(CaseSearch.CATEGORY, cls.category),
        SearchAttributePair(CaseSearch.URGENCY, cls.urgency.value),
        SearchAttributePair(CaseSearch.LEVEL, cls.level),
        SearchAttributePair(CaseSearch.CHANNEL, intake.channel.value),
    ]
    if intake.tracking_number:
        pairs.append(SearchAttributePair(CaseSearch.TRACKING_NUMBER, intake.tracking_number))
    return TypedSearchAttributes(pairs)


class ComplaintOutcome(BaseModel):
    complaint_id: str
    status: ComplaintStatus
    handling_round: int
    one_time_resolution: bool
    closed_at: datetime | None


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
    # Merge and split (rules/merging.py): where this complaint is merged, what it held, who is merged into it.
    merged_into: str | None = None
    status_before_merge: ComplaintStatus | None = None
    held_clocks: list[HeldClock] = []
    merged_cases: dict[str, list[str]] = {}  # merged complaint → its dispatches forwarded here
    callback_surveys: list[CallbackSurveyLink] = []  # survey links sent and not yet answered
    owner: Actor | None = None
    clock_pause: ClockPause | None = None  # the customer clocks' pause in force (rules/pauses.py)
    # Answered dispatches still running (they take a return by hand until the closing): a child does
    # not carry over, so the closing of a later run ends them by id.
    answered_dispatches: list[str] = []


ComplaintFiling.model_rebuild()

