"""What the API, the worker and the tests agree on about a contact (咨询 / 求助 / 新故障模式): its id,
the workflow input, the agents' updates and the read-model changes.

Pure pydantic models, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from rules.actors import Actor
from rules.contact import CLOCK_LABELS, OPENING_CLOCKS, ContactAction, ContactIntake, ContactKind, ContactStatus
from workflows.case import SYSTEM_ACTOR, ByActor, CaseSearch, Message, Text, UnitId
from workflows.clocks import Clock, clock_started_detail
from workflows.deadlines import Deadline, DeadlineRequest

RECORD_CONTACT_CHANGES_ACTIVITY = "record_contact_changes"


def contact_workflow_id(contact_id: str) -> str:
    """One id space for the three kinds: an idempotency key names one contact, whatever its kind."""
    return f"contact-{contact_id}"


class ContactFiling(Message):
    """The workflow input: the contact as filed, with the desk that received it."""

    contact_id: str
    intake: ContactIntake
    filed_by: Actor
    filed_at: datetime
    desk_unit: str  # the unit that received it: it hands over and calls back
    # The opening clocks' deadlines, computed at intake on the desk's calendar (the same function
    # as the calendar activity); empty: the workflow asks the calendar activity itself.
    opening: list[Deadline] = []
    # The workflow patches this contact is started with (workflows/contact.py CONTACT_PATCHES); a
    # contact started before the field existed has none and asks workflow.patched.
    built_with: list[str] = []


def opening_requests(filing: ContactFiling) -> list[tuple[str, DeadlineRequest]]:
    """The clocks a contact starts with, from the channel's received time on the desk's side."""
    return [(name, DeadlineRequest(unit=filing.desk_unit, start=filing.intake.received_at, clock=name))
            for name in OPENING_CLOCKS[filing.intake.kind]]


def clock_from(name: str, start: datetime, deadline: Deadline) -> Clock:
    return Clock(name=name, label=CLOCK_LABELS[name], started_at=start, due=deadline.due,
                 due_local=deadline.due_local, unit=deadline.unit, calendar_version=deadline.calendar_version)


# API bodies (what an agent sends) and the update arguments (the body plus who sent it).
class AnswerAtOnce(Message):
    answer: Text


class HandOver(Message):
    """To the owning department (consultation) or to the nearest service point (rescue, new failure)."""

    unit: UnitId
    note: Text | None = None


class DepartmentAnswer(Message):
    answer: Text


class CallBack(Message):
    message: Text  # what the customer was told


class AnswerContactAtOnce(AnswerAtOnce, ByActor):
    pass


class HandOverContact(HandOver, ByActor):
    pass


class RecordDepartmentAnswer(DepartmentAnswer, ByActor):
    pass


class CallCustomerBack(CallBack, ByActor):
    pass


class ContactState(BaseModel):
    """Where a contact stands: what an update answers and what each change writes to its row."""

    contact_id: str
    kind: ContactKind
    status: ContactStatus
    handed_to: str | None = None
    clocks: list[Clock] = []
    missed_clocks: int = 0  # clocks missed so far (each told to the supervisor of the unit that owed it)
    closed_at: datetime | None = None
    last_seq: int = 0


class ContactEvent(Message):
    """One timeline entry, written once (id = workflow id + seq) to the shared timeline table."""

    seq: int
    at: datetime
    actor: Actor
    action: ContactAction
    from_status: ContactStatus | None
    to_status: ContactStatus
    detail: dict[str, Any] = {}


class ContactChange(Message):
    workflow_id: str
    event: ContactEvent
    state: ContactState
    filing: ContactFiling | None = None  # only on the first change, to create the row


def opening_changes(filing: ContactFiling, deadlines: list[Deadline]) -> list[ContactChange]:
    """Received, then each opening clock (deadlines in the order of `opening_requests`): the API
    writes them at intake and the workflow again at its start (idempotent: same seq, same instant)."""
    start = filing.intake.received_at
    clocks = [clock_from(name, start, d) for (name, _), d in zip(opening_requests(filing), deadlines)]
    events = [ContactEvent(seq=1, at=filing.filed_at, actor=filing.filed_by, action=ContactAction.RECEIVE,
                           from_status=None, to_status=ContactStatus.RECEIVED,
                           detail={"kind": filing.intake.kind.value, "channel": filing.intake.channel.value,
                                   "received_at": start.isoformat()})]
    events += [ContactEvent(seq=n, at=filing.filed_at, actor=SYSTEM_ACTOR, action=ContactAction.START_CLOCK,
                            from_status=ContactStatus.RECEIVED, to_status=ContactStatus.RECEIVED,
                            detail=clock_started_detail(clock, d.calendar))
               for n, (clock, d) in enumerate(zip(clocks, deadlines), start=2)]
    return [
        ContactChange(
            workflow_id=contact_workflow_id(filing.contact_id), event=e, filing=filing if e.seq == 1 else None,
            state=ContactState(contact_id=filing.contact_id, kind=filing.intake.kind, status=ContactStatus.RECEIVED,
                               clocks=clocks[: e.seq - 1], last_seq=e.seq),
        )
        for e in events
    ]


KIND_TITLES = {ContactKind.CONSULTATION: "Consultation", ContactKind.RESCUE_REQUEST: "Rescue request",
               ContactKind.NEW_FAILURE_MODE: "New failure mode"}


def contact_summary(filing: ContactFiling) -> str:
    """One line for the Web UI's workflow list (≤ 200 bytes, no personal data)."""
    return (f"{KIND_TITLES[filing.intake.kind]} {filing.contact_id}: via {filing.intake.channel.value}"
            f" · desk {filing.desk_unit}")[:200]


def contact_details(filing: ContactFiling) -> str:
    """Static details for the Web UI (no name, phone, location or text: those stay in the payloads)."""
    intake = filing.intake
    return (f"**{KIND_TITLES[intake.kind]} {filing.contact_id}** filed {filing.filed_at.isoformat()}"
            f" by {filing.filed_by.role.value} of {filing.desk_unit}\n\n"
            f"- received {intake.received_at.isoformat()} via {intake.channel.value}\n"
            f"- tracking number {intake.tracking_number or '—'}\n")


def contact_search_attributes(filing: ContactFiling) -> TypedSearchAttributes:
    """The contact's own id and status (ContactId, ContactStatus); ComplaintId and ComplaintStatus
    carry them too, as before those existed, so saved queries keep finding contacts; the channel and
    tracking number mean the same as on a complaint. The workflow type tells the kind apart."""
    pairs = [SearchAttributePair(CaseSearch.CONTACT_ID, filing.contact_id),
             SearchAttributePair(CaseSearch.CONTACT_STATUS, ContactStatus.RECEIVED.value),
             SearchAttributePair(CaseSearch.COMPLAINT_ID, filing.contact_id),
             SearchAttributePair(CaseSearch.STATUS, ContactStatus.RECEIVED.value),
             SearchAttributePair(CaseSearch.CHANNEL, filing.intake.channel.value)]
    if filing.intake.tracking_number:
        pairs.append(SearchAttributePair(CaseSearch.TRACKING_NUMBER, filing.intake.tracking_number))
    return TypedSearchAttributes(pairs)
