"""Contact kinds besides complaints (DOMAIN §2, seed 001): what a channel hands us, which clocks each
kind runs, and which agent action may move a contact from which state.

consultation (咨询):        received → answered at once → closed
                            received → handed over (30 min) → department answered (2 h) → called back (3 h) → closed
rescue request (求助):       received → handed over to the nearest service point (10 min) → closed
new failure mode (新故障模式): received → handed over to the nearest service point (60 min) → closed

Pure Python: the API body and the workflow input share these models; the numbers are in the policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from rules.intake import AwareDatetime, Channel, Complainant, EvidenceRef


class ContactKind(StrEnum):
    CONSULTATION = "consultation"  # 咨询: the customer wants to know something
    RESCUE_REQUEST = "rescue_request"  # 求助: the customer needs help where they are, now
    NEW_FAILURE_MODE = "new_failure_mode"  # 新故障模式: a failure seen for the first time


class ContactStatus(StrEnum):
    RECEIVED = "received"
    HANDED_OVER = "handed_over"  # a consultation with its owning department
    ANSWERED = "answered"  # the department answered; the customer still has to be called back
    CLOSED = "closed"


class ContactAction(StrEnum):
    RECEIVE = "receive"
    ANSWER_AT_ONCE = "answer_at_once"
    HAND_OVER = "hand_over"
    RECORD_DEPARTMENT_ANSWER = "record_department_answer"
    CALL_BACK = "call_back"
    # Events that leave the status as it is:
    START_CLOCK = "start_clock"
    CLOCK_OVERDUE = "clock_overdue"


K, S, A = ContactKind, ContactStatus, ContactAction

# (kind, action) → (the state it may start from, the state it leads to)
TRANSITIONS: dict[tuple[ContactKind, ContactAction], tuple[ContactStatus, ContactStatus]] = {
    (K.CONSULTATION, A.ANSWER_AT_ONCE): (S.RECEIVED, S.CLOSED),
    (K.CONSULTATION, A.HAND_OVER): (S.RECEIVED, S.HANDED_OVER),
    (K.CONSULTATION, A.RECORD_DEPARTMENT_ANSWER): (S.HANDED_OVER, S.ANSWERED),
    (K.CONSULTATION, A.CALL_BACK): (S.ANSWERED, S.CLOSED),
    # The desk's part ends when the nearest service point has the notice (通知单).
    (K.RESCUE_REQUEST, A.HAND_OVER): (S.RECEIVED, S.CLOSED),
    (K.NEW_FAILURE_MODE, A.HAND_OVER): (S.RECEIVED, S.CLOSED),
}

# The clocks by the names the policy knows them by, with the label people read.
CONSULTATION_HANDOVER = "consultation_handover"
CONSULTATION_CALLBACK = "consultation_callback"
CONSULTATION_DEPARTMENT_ANSWER = "consultation_department_answer"
RESCUE_HANDOVER = "rescue_handover"
NEW_FAILURE_MODE_HANDOVER = "new_failure_mode_handover"
CLOCK_LABELS = {
    CONSULTATION_HANDOVER: "hand-over to the department",
    CONSULTATION_CALLBACK: "call-back to the customer",
    CONSULTATION_DEPARTMENT_ANSWER: "department answer",
    RESCUE_HANDOVER: "rescue hand-over to the nearest service point",
    NEW_FAILURE_MODE_HANDOVER: "failure report to the nearest service point",
}

# The clocks that start when the desk receives the contact (on the desk's side) ...
OPENING_CLOCKS: dict[ContactKind, tuple[str, ...]] = {
    K.CONSULTATION: (CONSULTATION_HANDOVER, CONSULTATION_CALLBACK),
    K.RESCUE_REQUEST: (RESCUE_HANDOVER,),
    K.NEW_FAILURE_MODE: (NEW_FAILURE_MODE_HANDOVER,),
}
# ... and which clocks each action stops and starts (a started one runs on the receiving unit's side).
CLOCKS_OF: dict[ContactAction, tuple[tuple[str, ...], tuple[str, ...]]] = {
    A.ANSWER_AT_ONCE: ((CONSULTATION_HANDOVER, CONSULTATION_CALLBACK), ()),
    A.HAND_OVER: ((CONSULTATION_HANDOVER, RESCUE_HANDOVER, NEW_FAILURE_MODE_HANDOVER), (CONSULTATION_DEPARTMENT_ANSWER,)),
    A.RECORD_DEPARTMENT_ANSWER: ((CONSULTATION_DEPARTMENT_ANSWER,), ()),
    A.CALL_BACK: ((CONSULTATION_CALLBACK,), ()),
}


class InvalidContactStep(ValueError):
    def __init__(self, kind: ContactKind, action: ContactAction, current: ContactStatus) -> None:
        allowed = TRANSITIONS.get((kind, action))
        where = f"allowed from: {allowed[0].value}" if allowed else f"a {kind.value.replace('_', ' ')} has no such step"
        super().__init__(f"cannot {action.value.replace('_', ' ')} a {kind.value.replace('_', ' ')} that is {current.value}; {where}")
        self.current = current


def next_status(kind: ContactKind, current: ContactStatus, action: ContactAction) -> ContactStatus:
    allowed = TRANSITIONS.get((kind, action))
    if allowed is None or allowed[0] is not current:
        raise InvalidContactStep(kind, action, current)
    return allowed[1]


def started_by(kind: ContactKind, action: ContactAction) -> tuple[str, ...]:
    """The clocks an action starts for this kind (only a consultation's hand-over starts one)."""
    return CLOCKS_OF[action][1] if kind is K.CONSULTATION else ()


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactIntake(_Record):
    """A consultation, rescue request or new failure mode as a channel or an agent files it."""

    kind: ContactKind
    channel: Channel
    received_at: AwareDatetime = Field(description="the channel's own time; every clock starts here")
    channel_message_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    customer: Complainant
    tracking_number: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9\-]{6,40}$")] = None
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    # Where the customer or the parcel is: how the desk finds the nearest service point (rescue).
    location: Annotated[str | None, Field(min_length=1, max_length=300)] = None
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []
