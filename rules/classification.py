"""Classification (DOMAIN §3): category, urgent or general with the reasons, level 1/2/3, priority.

Deterministic from the intake, the policy and the complainant's history: the same input always
gives the same answer, so the classification recorded in a workflow's input can be trusted.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
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
    """Every free-text field the customer fills (DOMAIN §11: urgency is found wherever it is said)."""
    texts = [("description", intake.description), ("demand", intake.demand or "")]
    if intake.contents is not None:
        texts.insert(0, ("contents", intake.contents.description))
    return [(source, unicodedata.normalize("NFKC", text).casefold()) for source, text in texts if text]


# A validity or an amount written in the text, for papers and valuables named only in words.
_VALID_DAYS = re.compile(r"有效期\D{0,4}?(\d+)\s*[天日]|(\d+)\s*[天日]内(?:有效|到期|过期)"
                         r"|valid (?:for )?(?:only )?(\d+) days?|expires? in (\d+) days?")
_AMOUNT = re.compile(r"(?:[¥]|cny|rmb)\s*(\d[\d,]*(?:\.\d+)?)(万)?|(\d[\d,]*(?:\.\d+)?)\s*(万元|万|元|块|cny|rmb|yuan)")


def written_valid_days(text: str) -> int | None:
    """The shortest validity written in the text ("有效期3天", "valid for 5 days"), or None."""
    days = [int(next(g for g in m.groups() if g)) for m in _VALID_DAYS.finditer(text)]
    return min(days) if days else None


def written_amount_cny(text: str) -> Decimal | None:
    """The largest amount written in the text ("12万元", "¥150,000", "25000 yuan"), or None."""
    amounts = []
    for m in _AMOUNT.finditer(text):
        number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = Decimal(number.replace(",", ""))
        amounts.append(value * 10000 if unit and unit.startswith("万") else value)
    return max(amounts) if amounts else None


def _urgent_reasons(intake: ComplaintIntake, policy: Policy) -> list[UrgencyReason]:
    """DOMAIN §3 urgency, each criterion looked for in contents, description and demand. A threshold
    uses the structured figure where the intake gives one (`contents.valid_days`,
    `contents.declared_value_cny`), else the one written in the same field; a time-critical paper
    whose validity is given nowhere counts (the urgent-item group's review settles it), an invoice
    whose value is given nowhere does not (an everyday invoice is not urgent)."""
    rules = policy.urgency
    critical, risky = rules.time_critical_papers, rules.high_risk_contents
    contents = intake.contents
    declared_days = contents.valid_days if contents is not None else None
    declared_value = contents.declared_value_cny if contents is not None else None
    reasons: list[UrgencyReason] = []

    def add(rule: UrgencyRule, matched: str, source: str) -> None:
        if all(r.rule is not rule for r in reasons):  # one reason per criterion: the first field that shows it
            reasons.append(UrgencyReason(rule=rule, matched=matched, source=source))

    def validity(text: str) -> tuple[bool, str]:
        days = declared_days if declared_days is not None else written_valid_days(text)
        if days is None:
            return True, "validity not given"
        return days <= critical.max_valid_days, f"valid {days} days"

    texts = _texts(intake)
    for source, text in texts:
        if (hit := first_match(rules.urgent_papers, text)) is not None:
            add(UrgencyRule.URGENT_PAPERS, hit, source)
        if (hit := first_match(critical.keywords, text)) is not None:
            short_lived, said = validity(text)
            if short_lived:
                add(UrgencyRule.TIME_CRITICAL_PAPERS, f"{hit}, {said}", source)
        if (hit := first_match(critical.invoice_keywords, text)) is not None:
            value = declared_value if declared_value is not None else written_amount_cny(text)
            short_lived, said = validity(text)
            if value is not None and float(value) > critical.invoice_min_value_cny and short_lived:
                add(UrgencyRule.TIME_CRITICAL_PAPERS,
                    f"{hit} over {critical.invoice_min_value_cny:,.0f} CNY, {said}", source)
        if (hit := first_match(risky.keywords, text)) is not None:
            add(UrgencyRule.HIGH_RISK_CONTENTS, hit, source)

    # A paper's value is its face value, not valuables in the parcel: an amount in a field that names
    # a paper (or declared for contents that do) is not read as valuables.
    papers = [*rules.urgent_papers, *critical.keywords, *critical.invoice_keywords]
    over = f"valuables over {risky.valuables_min_value_cny:,.0f} CNY"
    if declared_value is not None:
        names_paper = contents is not None and first_match(papers, contents.description) is not None
        if not names_paper and float(declared_value) > risky.valuables_min_value_cny:
            add(UrgencyRule.HIGH_RISK_CONTENTS, over, "contents.declared_value_cny")
    else:
        for source, text in texts:
            value = written_amount_cny(text)
            if value is not None and float(value) > risky.valuables_min_value_cny and first_match(papers, text) is None:
                add(UrgencyRule.HIGH_RISK_CONTENTS, f"{over} ({value:,.0f} written)", source)

    # An outside complaint or media threat is something the customer says: the contents field names
    # what is in the parcel ("a bundle of newspapers" is no media threat), so it is not read for them.
    said = [(source, text) for source, text in texts if source != "contents"]
    if intake.channel is Channel.REGULATOR:
        add(UrgencyRule.REGULATOR, "handed over by the regulator", "channel")
    for rule, keywords in ((UrgencyRule.REGULATOR, rules.outside_complaint_signals.regulator),
                           (UrgencyRule.MEDIA, rules.outside_complaint_signals.media)):
        for source, text in said:
            if (hit := first_match(keywords, text)) is not None:
                add(rule, hit, source)
    order = list(UrgencyRule)
    return sorted(reasons, key=lambda r: order.index(r.rule))


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
