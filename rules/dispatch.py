"""Dispatches and tickets (DOMAIN §4) and the checks every reply passes before it is accepted.

A dispatch (调度) orders one unit to check or act, with its own deadline: a direct dispatch (直派)
from the front seat to a production unit, a linked dispatch (关联调度) from the assisting office
to a production unit, or a ticket (工单) to an assisting office. Zero tolerance for false
information: a non-answer, "delivered" without proof or "lost" without a search is returned (退回).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from rules.intake import EvidenceRef
from rules.keywords import first_match

if TYPE_CHECKING:
    from rules.policy import Policy


class DispatchKind(StrEnum):
    DIRECT = "direct_dispatch"  # 直派调度: 2 working hours
    LINKED = "linked_dispatch"  # 关联调度: 4 working hours or the check windows
    TICKET = "ticket"  # 工单: 20 working hours ("48 hours")


class TicketPriority(StrEnum):
    NORMAL = "normal"  # 普通工单
    URGENT = "urgent"  # 紧急工单: reviewed by the urgent-item group first


class DispatchStatus(StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    OPEN = "open"
    ANSWERED = "answered"
    REDISPATCHED = "redispatched"  # 重派: closed, a new dispatch follows
    CANCELLED = "cancelled"


class ReplyOutcome(StrEnum):
    ACCEPTED = "accepted"
    RETURNED = "returned"  # 退回: not acceptable, the clock keeps running
    REDISPATCH = "redispatch"  # "still following up, please redispatch" (邮件仍需跟进，请重派)


class Reply(BaseModel):
    """A unit's answer to a dispatch: what it found, which link failed, the evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: Annotated[str, Field(min_length=1, max_length=4000)]
    failing_link: Annotated[str | None, Field(max_length=200)] = None
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []
    still_following_up: bool = False  # asks for a redispatch


class ReplyCheckRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_finding_chars: Annotated[int, Field(ge=1)]
    non_answer_phrases: list[str]
    delivered_phrases: list[str]
    delivery_proof_kinds: list[str]  # evidence kinds that prove a delivery (signature, photo, ...)
    lost_phrases: list[str]
    search_record_kinds: list[str]  # evidence kinds that prove a real search


class ReplyVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: ReplyOutcome
    reason: str


def check_reply(reply: Reply, rules: ReplyCheckRules) -> ReplyVerdict:
    """DOMAIN §4: replies are checked before they count; the reason is recorded and counted."""
    if reply.still_following_up:
        return ReplyVerdict(outcome=ReplyOutcome.REDISPATCH, reason="the unit is still following up and asks for a redispatch")
    finding = reply.finding.strip()
    kinds = {e.kind for e in reply.evidence}
    phrase = first_match(rules.non_answer_phrases, finding)
    if len(finding) < rules.min_finding_chars or (phrase is not None and len(finding) < 3 * rules.min_finding_chars):
        return ReplyVerdict(
            outcome=ReplyOutcome.RETURNED,
            reason=f"a non-answer{f' ({phrase!r})' if phrase else ''}: say what was found and which link failed",
        )
    if (said := first_match(rules.delivered_phrases, finding)) is not None and not kinds & set(rules.delivery_proof_kinds):
        return ReplyVerdict(
            outcome=ReplyOutcome.RETURNED,
            reason=f"{said!r} without proof of delivery: attach one of {', '.join(rules.delivery_proof_kinds)}",
        )
    if (said := first_match(rules.lost_phrases, finding)) is not None and not kinds & set(rules.search_record_kinds):
        return ReplyVerdict(
            outcome=ReplyOutcome.RETURNED,
            reason=f"{said!r} without a search record: attach one of {', '.join(rules.search_record_kinds)}",
        )
    return ReplyVerdict(outcome=ReplyOutcome.ACCEPTED, reason="accepted")


class LadderStep(BaseModel):
    """Notify `role` of `unit`, then give them `wait_hours` working hours on `unit`'s calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    unit: str
    wait_hours: float


def resolve_ladder(policy: Policy, ladder: str, acting_unit: str) -> list[LadderStep]:
    """A policy ladder made concrete for one dispatch: 'assisting_province' becomes the province
    above the acting unit, 'unit_above' its parent, and so on (DOMAIN §6)."""
    steps = []
    for step in policy.escalation[ladder].steps:
        unit = _unit_for(policy, step.of_unit, acting_unit)
        if unit is not None:
            steps.append(LadderStep(role=step.notify.value, unit=unit, wait_hours=step.then_wait_hours))
    return steps


def _unit_for(policy: Policy, reference: str, acting_unit: str) -> str | None:
    if reference in policy.units:
        return reference
    if reference == "unit_above":
        return policy.units[acting_unit].parent
    kind = {"assisting_province": "province", "assisting_city": "city"}.get(reference)
    if kind is None:
        raise ValueError(f"unknown unit reference {reference!r} in an escalation ladder")
    unit: str | None = acting_unit
    while unit is not None and policy.units[unit].kind != kind:
        unit = policy.units[unit].parent
    return unit  # None: no such level above this unit, the step is left out
