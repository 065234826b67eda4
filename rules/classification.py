"""Classification (DOMAIN §3): category, urgent or general with the reasons, level 1/2/3, priority.

Deterministic from the intake, the policy and the complainant's history: the same input always
gives the same answer, so the classification recorded in a workflow's input can be trusted.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rules.intake import Channel, ComplaintIntake, Nature
from rules.keywords import first_match
from rules.policy import Policy


class Urgency(StrEnum):
    URGENT = "urgent"  # 紧急
    GENERAL = "general"  # 一般


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class UrgencyRule(StrEnum):
    URGENT_PAPERS = "urgent_papers"
    TIME_CRITICAL_PAPERS = "time_critical_papers"
    HIGH_RISK_CONTENTS = "high_risk_contents"
    REGULATOR = "regulator"
    MEDIA = "media"


class UrgencyReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: UrgencyRule
    matched: str  # the keyword or threshold that fired
    source: str  # which field it was found in

    def __str__(self) -> str:
        return f"{self.rule.value}: {self.matched} ({self.source})"


class ComplainantHistory(BaseModel):
    """What the read model knows of the complainant before this complaint."""

    model_config = ConfigDict(frozen=True)

    earlier_complaints: int = 0  # by the same phone or tracking number, inside the policy window
    repeat_of: tuple[str, ...] = ()  # the closed ones among them: this complaint is a repeat


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: str
    category_group: str
    urgency: Urgency
    urgent_reasons: list[UrgencyReason]
    level: int
    level_reasons: list[str]
    priority: Priority
    priority_reasons: list[str]


class UnknownCategory(ValueError):
    pass


def _texts(intake: ComplaintIntake) -> list[tuple[str, str]]:
    texts = [("description", intake.description), ("demand", intake.demand or "")]
    if intake.contents is not None:
        texts.insert(0, ("contents", intake.contents.description))
    return [(source, text.casefold()) for source, text in texts if text]


def _urgent_reasons(intake: ComplaintIntake, policy: Policy) -> list[UrgencyReason]:
    rules = policy.urgency
    texts = _texts(intake)
    reasons: list[UrgencyReason] = []

    def find(rule: UrgencyRule, keywords: list[str], sources: tuple[str, ...] | None = None) -> bool:
        for source, text in texts:
            if sources is not None and source not in sources:
                continue
            if (hit := first_match(keywords, text)) is not None:
                reasons.append(UrgencyReason(rule=rule, matched=hit, source=source))
                return True
        return False

    find(UrgencyRule.URGENT_PAPERS, rules.urgent_papers)

    contents = intake.contents
    if contents is not None:
        paper_text = contents.description.casefold()
        critical = rules.time_critical_papers
        short_lived = contents.valid_days is not None and contents.valid_days <= critical.max_valid_days
        value = float(contents.declared_value_cny) if contents.declared_value_cny is not None else None
        if short_lived:
            if (hit := first_match(critical.keywords, paper_text)) is not None:
                reasons.append(
                    UrgencyReason(
                        rule=UrgencyRule.TIME_CRITICAL_PAPERS,
                        matched=f"{hit}, valid {contents.valid_days} days",
                        source="contents",
                    )
                )
            elif (hit := first_match(critical.invoice_keywords, paper_text)) is not None and (
                value is not None and value > critical.invoice_min_value_cny
            ):
                reasons.append(
                    UrgencyReason(
                        rule=UrgencyRule.TIME_CRITICAL_PAPERS,
                        matched=f"{hit} over {critical.invoice_min_value_cny:,.0f} CNY, valid {contents.valid_days} days",
                        source="contents",
                    )
                )
        risky = rules.high_risk_contents
        is_paper = any(r.rule is UrgencyRule.TIME_CRITICAL_PAPERS for r in reasons)
        if not find(UrgencyRule.HIGH_RISK_CONTENTS, risky.keywords, ("contents",)):
            # A paper's declared value is its face value, not valuables in the parcel.
            if not is_paper and value is not None and value > risky.valuables_min_value_cny:
                reasons.append(
                    UrgencyReason(
                        rule=UrgencyRule.HIGH_RISK_CONTENTS,
                        matched=f"valuables over {risky.valuables_min_value_cny:,.0f} CNY",
                        source="contents.declared_value_cny",
                    )
                )

    if intake.channel is Channel.REGULATOR:
        reasons.append(UrgencyReason(rule=UrgencyRule.REGULATOR, matched="handed over by the regulator", source="channel"))
    else:
        find(UrgencyRule.REGULATOR, rules.outside_complaint_signals.regulator, ("description", "demand"))
    find(UrgencyRule.MEDIA, rules.outside_complaint_signals.media, ("description", "demand"))
    return reasons


def classify(intake: ComplaintIntake, policy: Policy, history: ComplainantHistory | None = None) -> Classification:
    category = policy.category(intake.category)
    if category is None:
        raise UnknownCategory(f"unknown category {intake.category!r}")
    history = history or ComplainantHistory()

    urgent_reasons = _urgent_reasons(intake, policy)
    urgency = Urgency.URGENT if urgent_reasons else Urgency.GENERAL

    level_reasons: list[str] = []
    texts = _texts(intake)
    for reason, keywords in policy.levels.level_1_keywords.items():
        hit = next((h for _, text in texts if (h := first_match(keywords, text)) is not None), None)
        if hit is not None:
            level_reasons.append(f"{reason}: {hit}")
    if policy.levels.outside_complaint_is_level_1:
        level_reasons += [
            f"{r.rule.value}: {r.matched}" for r in urgent_reasons if r.rule in (UrgencyRule.REGULATOR, UrgencyRule.MEDIA)
        ]
    if level_reasons:
        level = 1
    elif intake.nature is Nature.SUGGESTION:
        level, level_reasons = 3, ["suggestion: forwarded to the product side"]
    else:
        level, level_reasons = 2, ["general: handled by the front line"]

    priority_reasons: list[str] = []
    if urgency is Urgency.URGENT:
        priority_reasons.append("urgent")
    if level == 1:
        priority_reasons.append("level 1")
    if intake.complainant.tier in policy.priority.high_priority_tiers:
        priority_reasons.append(f"customer tier {intake.complainant.tier}")
    if history.repeat_of:
        priority_reasons.append(f"repeat complaint: earlier cases {', '.join(history.repeat_of)} were closed")
    if history.earlier_complaints >= policy.priority.earlier_complaints_for_high_priority:
        priority_reasons.append(
            f"{history.earlier_complaints} earlier complaints in {policy.priority.repeat_window_days} days"
        )

    return Classification(
        category=category.code,
        category_group=category.group.value,
        urgency=urgency,
        urgent_reasons=urgent_reasons,
        level=level,
        level_reasons=level_reasons,
        priority=Priority.HIGH if priority_reasons else Priority.NORMAL,
        priority_reasons=priority_reasons,
    )
