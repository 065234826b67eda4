"""Responsibility judgement (判责单), appeal (申诉) and head-office arbitration (总部仲裁) — DOMAIN §7.

Pure rules, no I/O: the policy's judgement section and its deadlines (response, arbitration,
reminder), who is proposed at fault from the dispatch findings, what an acceptance must name, which
evidence an appeal needs, and the invalid-appeal rate that takes an office's right to appeal away
for a month. The workflow gets their answers from activities (recorded in history).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.actors import Role
from rules.calendar import WorkingDaysRule
from rules.dispatch import DispatchKind
from rules.keywords import Keywords, first_match
from rules.measures import Period, PeriodKind
from rules.org_chart import OrgChart, UnitKind


class JudgementStatus(StrEnum):
    DRAFT = "draft"  # the lead office checks the proposal and sends it
    AWAITING_RESPONSE = "awaiting_response"  # the responsible office: accept or appeal, 5 working days
    IN_ARBITRATION = "in_arbitration"  # head-office arbitration decides, 5 working days
    AWAITING_REFINEMENT = "awaiting_refinement"  # appeal lost: name the smallest unit, 5 working days
    ACCEPTED = "accepted"  # final: the city branch, the failing link and the smallest unit named
    ACCEPTED_BY_SILENCE = "accepted_by_silence"  # final: no answer in time (policy silence_becomes_accepted)
    CANCELLED = "cancelled"  # final: arbitration found no fault, the responsibility is cancelled


FINAL_STATUSES = frozenset({JudgementStatus.ACCEPTED, JudgementStatus.ACCEPTED_BY_SILENCE, JudgementStatus.CANCELLED})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the policy's judgement section (`judgement:` in the policy file) -----------------------------


class JudgementNotice(_Frozen):
    """Who hears of a judgement's clock: a role holder of a unit (or of the responsible office)."""

    notify: Role
    of_unit: Annotated[str, Field(description="a unit id, or responsible_office")]


class JudgementRules(_Frozen):
    """The numbers and parties of DOMAIN §7; their deadlines are the functions below."""

    response_working_days: Annotated[int, Field(gt=0)]
    arbitration_working_days: Annotated[int, Field(gt=0)]
    reminder_working_days_before: Annotated[int, Field(ge=0)]
    silence_becomes_accepted: bool
    invalid_appeal_rate_bound: Annotated[float, Field(ge=0, le=1)]
    at_fault_parties: Keywords
    arbitration_unit: str = "hq-arbitration"  # 总部仲裁组: decides appeals on its calendar
    reminder: JudgementNotice = JudgementNotice(notify=Role.DIRECTOR, of_unit="responsible_office")
    late_arbitration: JudgementNotice = JudgementNotice(notify=Role.DIRECTOR, of_unit="hq-cs")
    # The judgement's fault type (判责类型: loss 丢失, false information 虚假信息 …), proposed from a
    # dispatch's failing link or finding; none matching → no fault type (the lead office may set one).
    fault_types: dict[str, Keywords] = {}
    # Judgements of these fault types need the four-party signed statement (四方签字) to be appealed,
    # whatever the complaint's category.
    four_party_statement_kind: str = "four_party_statement"
    four_party_statement_fault_types: list[str] = []
    # The party proposed from a dispatch's failing link or finding; none matching → default_party.
    party_keywords: dict[str, Keywords] = {}
    default_party: str | None = None

    @model_validator(mode="after")
    def _parties_known(self) -> JudgementRules:
        unknown = (set(self.party_keywords) | {self.default_party or self.at_fault_parties[0]}) - set(self.at_fault_parties)
        if unknown:
            raise ValueError(f"party_keywords / default_party name parties not in at_fault_parties: {sorted(unknown)}")
        if unknown_types := set(self.four_party_statement_fault_types) - set(self.fault_types):
            raise ValueError(f"four_party_statement_fault_types names fault types not in fault_types: {sorted(unknown_types)}")
        return self


# -- the deadlines (Policy.clock_rule names them judgement_response, _arbitration, _reminder) ------


def response_deadline(rules: JudgementRules) -> WorkingDaysRule:
    """To accept or appeal, or to refine after a lost appeal: DOMAIN §7, `judgement.response_working_days`."""
    return WorkingDaysRule(days=rules.response_working_days)


def arbitration_deadline(rules: JudgementRules) -> WorkingDaysRule:
    """Head-office arbitration decides an appeal: DOMAIN §7, `judgement.arbitration_working_days`."""
    return WorkingDaysRule(days=rules.arbitration_working_days)


def response_reminder(rules: JudgementRules) -> WorkingDaysRule:
    """At the opening of the response's N-th last working day (1: the last): DOMAIN §7, `judgement.reminder_working_days_before`."""
    return WorkingDaysRule(days=max(1, rules.response_working_days - rules.reminder_working_days_before + 1), at="opening")


# -- the proposal -------------------------------------------------------------------------------


class DispatchFinding(_Frozen):
    """What one answered dispatch found: the material of the proposal."""

    dispatch_id: str
    kind: DispatchKind
    unit: str  # the unit the dispatch was addressed to
    finding: str | None = None
    failing_link: str | None = None


class Proposal(_Frozen):
    """The initial at-fault office and party; the lead office may change them before sending."""

    responsible_office: str | None
    party: str | None
    at_fault_unit: str | None  # the unit the finding points at (a station, an office)
    dispatch_id: str | None = None
    reason: str
    fault_type: str | None = None  # loss, false_information …: what decides the four-party statement


def responsible_office(chart: OrgChart, unit: str) -> str:
    """The province a unit belongs to (it names the city branch and the smallest unit); a unit
    outside any province answers through its own office (head-office groups: head office)."""
    return chart.province_of(unit)


def party_of(finding: DispatchFinding, rules: JudgementRules) -> tuple[str, str | None]:
    """(party, the keyword that named it): the failing link is read before the finding."""
    for text in (finding.failing_link, finding.finding):
        for party in rules.at_fault_parties:
            if text and (hit := first_match(rules.party_keywords.get(party, ()), text)):
                return party, hit
    return rules.default_party or rules.at_fault_parties[0], None


def fault_type_of(finding: DispatchFinding, rules: JudgementRules) -> str | None:
    """The fault type a dispatch's reply names (failing link first, then finding), or None."""
    for text in (finding.failing_link, finding.finding):
        for fault_type, keywords in rules.fault_types.items():
            if text and first_match(keywords, text):
                return fault_type
    return None


def propose(findings: list[DispatchFinding], rules: JudgementRules, chart: OrgChart) -> Proposal:
    """The last answered dispatch that names a failing link (else the last with a finding) is the
    investigation's final word: its unit's province is the office at fault, its words the party."""
    answered = [f for f in findings if f.finding or f.failing_link]
    if not answered:
        return Proposal(responsible_office=None, party=None, at_fault_unit=None,
                        reason="no dispatch finding: the lead office names the office and the party")
    chosen = next((f for f in reversed(answered) if f.failing_link), answered[-1])
    party, keyword = party_of(chosen, rules)
    why = f"'{keyword}' in its reply" if keyword else f"no party named in its reply: {party} by default"
    return Proposal(
        responsible_office=responsible_office(chart, chosen.unit),
        party=party,
        at_fault_unit=chosen.unit,
        dispatch_id=chosen.dispatch_id,
        reason=f"{chosen.dispatch_id} to {chosen.unit}: {why}",
        fault_type=fault_type_of(chosen, rules),
    )


class AppealEvidence(_Frozen):
    """Which evidence an appeal must carry, by the judgement's fault type (DOMAIN §7, §11): the
    workflow gets it with its terms and applies it to the fault type as sent."""

    four_party_statement_kind: str
    four_party_statement_fault_types: list[str]

    def required(self, fault_type: str | None) -> list[str]:
        """Lost items and false information need the four-party statement, whatever the complaint's category."""
        return [self.four_party_statement_kind] if fault_type in self.four_party_statement_fault_types else []


def appeal_evidence(rules: JudgementRules) -> AppealEvidence:
    return AppealEvidence(four_party_statement_kind=rules.four_party_statement_kind,
                          four_party_statement_fault_types=list(rules.four_party_statement_fault_types))


def required_appeal_evidence(rules: JudgementRules, fault_type: str | None) -> list[str]:
    """Evidence kinds an appeal against a judgement of `fault_type` must carry."""
    return appeal_evidence(rules).required(fault_type)


def missing_evidence(required: list[str], given_kinds: list[str]) -> list[str]:
    return [kind for kind in required if kind not in given_kinds]


def fault_naming_problems(chart: OrgChart, office: str, city_branch: str, smallest_unit: str) -> list[tuple[str, str, str]]:
    """(field, message, value) for each level that the unit directory does not confirm: the city
    branch must be a city office within the responsible office, the smallest unit a production
    unit within that city branch."""
    if city_branch not in chart:
        return [("city_branch", "unknown unit", city_branch)]
    if chart.kind_of(city_branch) is not UnitKind.CITY or not chart.is_at_or_above(office, city_branch):
        return [("city_branch", f"not a city branch of {office}", city_branch)]
    if smallest_unit not in chart:
        return [("smallest_unit", "unknown unit", smallest_unit)]
    if chart.kind_of(smallest_unit) is not UnitKind.PRODUCTION or not chart.is_at_or_above(city_branch, smallest_unit):
        return [("smallest_unit", f"not a production unit of {city_branch}", smallest_unit)]
    return []


# -- the right to appeal ------------------------------------------------------------------------


def appeal_branch(chart: OrgChart, unit: str) -> str:
    """The city branch (市局) whose right to appeal a judgement is at stake: the city of its at-fault
    unit (the unit itself if it is a city). The responsible office appeals on the branch's behalf;
    a unit in no city stands for its province (or office), as the responsible office does."""
    return chart.nearest(unit, UnitKind.CITY) or chart.province_of(unit)


def per_branch(counts: dict[str, tuple[int, int]], chart: OrgChart) -> dict[str, tuple[int, int]]:
    """(invalid appeals, judgements) per at-fault unit, folded into their city branches."""
    folded: dict[str, tuple[int, int]] = {}
    for unit, (invalid, judged) in counts.items():
        branch = appeal_branch(chart, unit)
        before = folded.get(branch, (0, 0))
        folded[branch] = (before[0] + invalid, before[1] + judged)
    return folded


class AppealRights(_Frozen):
    """Whether a city branch may appeal now, judged by its invalid-appeal rate of the previous month."""

    office: str  # the city branch judged (appeal_branch), or the responsible office standing for none
    month: str  # the month judged, "2026-10"
    invalid_appeals: int  # appeals of that month's judgements decided as at fault
    judgements: int  # judgements sent to the office that month (initially at fault)
    rate: float | None
    bound: float
    allowed: bool
    reason: str


def invalid_appeal_rate(invalid_appeals: int, judgements: int) -> float | None:
    """DOMAIN §8: appeals upheld as at fault / judgements initially at fault (None: nothing judged)."""
    return invalid_appeals / judgements if judgements else None


def appeal_rights(office: str, month: str, invalid_appeals: int, judgements: int, bound: float) -> AppealRights:
    rate = invalid_appeal_rate(invalid_appeals, judgements)
    allowed = rate is None or rate <= bound
    reason = (
        f"{office}'s invalid-appeal rate in {month} was {rate:.0%} ({invalid_appeals} of {judgements} judgements),"
        f" above the bound of {bound:.0%}: no appeals this month" if not allowed else
        f"{office}'s invalid-appeal rate in {month} was {'—' if rate is None else f'{rate:.0%}'}, within {bound:.0%}"
    )
    return AppealRights(office=office, month=month, invalid_appeals=invalid_appeals, judgements=judgements,
                        rate=rate, bound=bound, allowed=allowed, reason=reason)


def month_of(instant: datetime, zone: ZoneInfo) -> Period:
    return Period.parse(PeriodKind.MONTH, f"{instant.astimezone(zone):%Y-%m}")


def month_before(instant: datetime, zone: ZoneInfo) -> Period:
    """The month before the one `instant` falls in, on the office's clock: the month that decides."""
    return month_of(instant, zone).previous(2)[0]

