"""What the API, the worker, the complaint workflow and the tests agree on about a responsibility
judgement (判责单, DOMAIN §7): its id, its input, the agents' updates and what the read model shows.

Pure pydantic models, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from rules.actors import Actor
from rules.intake import EvidenceRef
from rules.judgement import AppealEvidence, AppealRights, DispatchFinding, JudgementNotice, JudgementStatus, Proposal
from workflows.case import ByActor, Message, Text, UnitId

__all__ = [
    "AppealRights",
    "DispatchFinding",
    "JudgementOpening",
    "JudgementStatus",
    "judgement_workflow_id",
]


def judgement_workflow_id(complaint_id: str) -> str:
    return f"judgement-{complaint_id}"


JUDGEMENT_TERMS_ACTIVITY = "judgement_terms"
RECORD_JUDGEMENT_CHANGES_ACTIVITY = "record_judgement_changes"
APPEAL_RIGHTS_ACTIVITY = "appeal_rights"

# ApplicationError types the API tells apart (422 and 403; a wrong step is INVALID_TRANSITION, 409).
MISSING_EVIDENCE = "MissingEvidence"
APPEAL_RIGHTS_SUSPENDED = "AppealRightsSuspended"
UNKNOWN_PARTY = "UnknownParty"
UNKNOWN_FAULT_TYPE = "UnknownFaultType"


class JudgementOpening(Message):
    """The input of a JudgementWorkflow, started by the complaint when a case with an answered
    ticket closes (as a child with ParentClosePolicy.ABANDON: the judgement outlives the complaint)."""

    complaint_id: str
    lead_unit: str  # 主导客服: edits the draft and sends it
    category: str  # the complaint's category (shown; the fault type decides the four-party statement)
    opened_at: datetime  # the closing instant
    findings: list[DispatchFinding]
    # The workflow patches (workflows/judgement.py JUDGEMENT_PATCHES) this judgement was started
    # with: taken without asking workflow.patched; an older one asks.
    built_with: list[str] = []


class JudgementTerms(Message):
    """The policy resolved for one judgement at its start (an activity's answer, kept in history):
    the workflow itself never reads the policy."""

    proposal: Proposal
    parties: list[str]  # who can be at fault: courier, station, transport, customer_service
    required_appeal_evidence: list[str]  # by the complaint's category: only in terms recorded before appeal_evidence
    silence_becomes_accepted: bool
    remind: bool  # a reminder before the responsible office's clock ends
    arbitration_unit: str
    reminder: JudgementNotice  # of_unit "responsible_office" is the office the judgement is sent to
    late_arbitration: JudgementNotice
    fault_types: list[str] = []  # what the lead office may name as the judgement's fault type
    appeal_evidence: AppealEvidence | None = None  # the evidence an appeal needs, by the fault type


# API bodies (what an agent sends) and the update arguments (the body plus who sent it).
class DraftEdit(Message):
    """The lead office corrects the proposal before sending; unset fields stay as proposed."""

    responsible_office: UnitId | None = None
    party: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    at_fault_unit: UnitId | None = None
    # 判责类型: loss, false_information … (policy judgement.fault_types); decides the four-party statement.
    fault_type: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    note: Text | None = None


class Sending(Message):
    note: Text | None = None


class FaultNaming(Message):
    """Accepting (or, after a lost appeal, refining): the three levels at fault, all required."""

    city_branch: UnitId
    failing_link: Annotated[str, Field(min_length=1, max_length=200)]
    smallest_unit: UnitId


class Appeal(Message):
    """One submission with all the evidence (DOMAIN §7): there is no second appeal."""

    reason: Text
    evidence: Annotated[list[EvidenceRef], Field(min_length=1, max_length=50)]


class ArbitrationDecision(Message):
    at_fault: bool  # True: the appeal was invalid, the office names the smallest unit; False: cancelled
    reason: Text


class EditJudgementDraft(DraftEdit, ByActor):
    pass


class SendJudgement(Sending, ByActor):
    pass


class NameFault(FaultNaming, ByActor):
    pass


class AppealJudgement(Appeal, ByActor):
    pass


class DecideAppeal(ArbitrationDecision, ByActor):
    pass


class AppealRightsRequest(Message):
    office: str  # the responsible office, which appeals
    at: datetime  # the appeal's arrival: the month before it decides
    unit: str | None = None  # the unit held at fault: its city branch's rights decide (None: the office's)


class JudgementView(BaseModel):
    """A judgement as the read model and the API show it."""

    judgement_id: str
    complaint_id: str
    status: JudgementStatus
    lead_unit: str
    category: str
    opened_at: datetime
    responsible_office: str | None = None
    party: str | None = None
    at_fault_unit: str | None = None
    fault_type: str | None = None  # loss, false_information …: an appeal against these needs the four-party statement
    proposal_reason: str | None = None
    acting_unit: str | None = None  # who must act now: lead office, responsible office, arbitration
    due: datetime | None = None  # the running clock's end
    due_local: str | None = None
    reminder_at: datetime | None = None
    reminders: int = 0
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    in_time: bool | None = None
    city_branch: str | None = None
    failing_link: str | None = None
    smallest_unit: str | None = None
    appealed_at: datetime | None = None
    appeal_reason: str | None = None
    appeal_branch: str | None = None  # the city branch (市局) the appeal was lodged for, whose rights were checked
    decided_at: datetime | None = None
    at_fault: bool | None = None  # arbitration's decision
    invalid_appeal: bool = False  # an appeal decided as at fault (counts against the office)
    response_overdue: bool = False  # no answer in time where silence does not mean acceptance
    arbitration_overdue: bool = False
    final_at: datetime | None = None


class JudgementEvent(Message):
    seq: int
    at: datetime
    actor: Actor
    action: str
    from_status: JudgementStatus | None
    to_status: JudgementStatus
    detail: dict[str, Any] = {}


class JudgementChange(Message):
    workflow_id: str
    event: JudgementEvent
    view: JudgementView


def judgement_summary(opening: JudgementOpening) -> str:
    """The Web UI's one line for a judgement workflow (≤ 200 bytes, no personal data)."""
    return (f"Judgement for complaint {opening.complaint_id}: {opening.category} · lead {opening.lead_unit}"
            f" · {len(opening.findings)} finding(s)")[:200]
