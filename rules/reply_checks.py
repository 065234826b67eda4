"""Reply checks (DOMAIN §4, seed 000 "虚假信息零容忍"): every reply to a dispatch is checked before
it counts. A non-answer, "delivered" without proof or "lost" without a real search is returned (退回)
with the reason; "still following up, please redispatch" (邮件仍需跟进，请重派) asks for a redispatch."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from rules.intake import EvidenceRef
from rules.keywords import first_match


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
