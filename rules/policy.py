"""One organisation's policy: every number of DOMAIN.md lives here, never in workflow code.

The policy is a YAML file validated at start-up; a bad file stops start-up with a message that
names the offending key (``clocks.customer.solution_hours: Input should be greater than 0``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.actors import Permission, Role
from rules.reply_checks import ReplyCheckRules
from rules.calendar import CalendarSpec, CheckWindowRule, DeadlineRule, ElapsedHoursRule, WorkingHoursRule
from rules.customer_clocks import ELAPSED_CLOCKS, OPINION
from rules.judgement import JudgementRules, arbitration_deadline, response_deadline, response_reminder
from rules.keywords import Keywords
from rules.org_chart import OrgChart, UnitKind
from rules.pauses import PauseRules
from rules.survey import SurveyRules

PositiveHours = Annotated[float, Field(gt=0)]
PositiveMinutes = Annotated[int, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryGroup(StrEnum):
    SERVICE_QUALITY = "service_quality"
    PRODUCT = "product"
    OTHER = "other"


class Category(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    group: CategoryGroup
    label: str
    label_zh: str


class TimeCriticalPapers(_Strict):
    """Papers valid for a week or less (时效性单据); an invoice only above a value."""

    keywords: Keywords
    max_valid_days: Annotated[int, Field(ge=0)]
    invoice_keywords: Keywords
    invoice_min_value_cny: Annotated[float, Field(gt=0)]


class HighRiskContents(_Strict):
    keywords: Keywords
    valuables_min_value_cny: Annotated[float, Field(gt=0)]


class OutsideComplaintSignals(_Strict):
    """The customer threatens to go to the regulator or the media (外部投诉 / 媒体曝光)."""

    regulator: Keywords
    media: Keywords


class UrgencyRules(_Strict):
    urgent_papers: Keywords
    time_critical_papers: TimeCriticalPapers
    high_risk_contents: HighRiskContents
    outside_complaint_signals: OutsideComplaintSignals


class LevelRules(_Strict):
    """Level 1 triggers by reason (safety risk, account security, group complaint, ...)."""

    level_1_keywords: dict[str, Keywords]
    outside_complaint_is_level_1: bool = True


class PriorityRules(_Strict):
    tiers: Annotated[list[str], Field(min_length=1)]
    high_priority_tiers: list[str]
    repeat_window_days: Annotated[int, Field(gt=0)]
    earlier_complaints_for_high_priority: Annotated[int, Field(gt=0)]
    # The same customer, parcel and category again while the first case is open: a duplicate.
    duplicate_window_hours: PositiveHours = 72

    @model_validator(mode="after")
    def _high_tiers_known(self) -> PriorityRules:
        unknown = set(self.high_priority_tiers) - set(self.tiers)
        if unknown:
            raise ValueError(f"high_priority_tiers names unknown tiers {sorted(unknown)}")
        return self


DeadlineRuleKind = Literal["working_hours", "check_windows"]


class DispatchClocks(_Strict):
    direct_dispatch_hours: PositiveHours
    linked_dispatch_hours: PositiveHours
    ticket_hours: PositiveHours
    urgent_review_hours: PositiveHours
    # Per dispatch kind: plain working-hours arithmetic, or the check-window schedule (DOMAIN §5).
    deadline_rules: dict[Literal["direct_dispatch", "linked_dispatch", "ticket"], DeadlineRuleKind] = {}
    check_windows: CheckWindowRule = CheckWindowRule()


class CustomerClockOverride(_Strict):
    """Customer clocks that differ for a category or a level; unset keys keep the general value."""

    first_contact_minutes: PositiveMinutes | None = None
    solution_hours: PositiveHours | None = None
    complex_solution_hours: PositiveHours | None = None
    progress_update_hours: PositiveHours | None = None
    written_confirmation_hours: PositiveHours | None = None
    satisfaction_callback_hours: PositiveHours | None = None


class CustomerClocks(_Strict):
    """What the customer is promised (DOMAIN §5), in working time on the lead office's calendar."""

    first_contact_minutes: PositiveMinutes
    cross_department_opinion_minutes: PositiveMinutes
    solution_hours: PositiveHours
    complex_solution_hours: PositiveHours  # only when the customer was told before the solution was due
    progress_update_hours: PositiveHours
    written_confirmation_hours: PositiveHours
    satisfaction_callback_hours: PositiveHours  # elapsed hours (DOMAIN §11), not working hours
    # A progress update is owed by a person (DOMAIN §11); this sends an automatic text beside each miss.
    automatic_progress_text: bool = False
    # The unit that keeps a customer clock when it is not the lead office (the call centre calls
    # back): the clock runs on that unit's calendar and its miss is that unit's.
    kept_by: dict[str, str] = {}
    # A category's value replaces the general one; a level's and a customer tier's apply where stricter.
    by_category: dict[str, CustomerClockOverride] = {}
    by_level: dict[Annotated[int, Field(ge=1, le=3)], CustomerClockOverride] = {}
    by_tier: dict[str, CustomerClockOverride] = {}  # 差异化服务: a VIP's clocks are shorter (DOMAIN §5)

    def value(self, key: str, category: str | None, level: int | None, tier: str | None = None) -> float:
        chosen = getattr(self.by_category.get(category or ""), key, None) or getattr(self, key)
        stricter = [v for v in (getattr(self.by_level.get(level or 0), key, None),
                                getattr(self.by_tier.get(tier or ""), key, None)) if v is not None]
        return min([chosen, *stricter])


class ContactKindClocks(_Strict):
    consultation_callback_hours: PositiveHours
    consultation_handover_minutes: PositiveMinutes
    consultation_department_answer_hours: PositiveHours
    rescue_minutes: PositiveMinutes
    new_failure_mode_minutes: PositiveMinutes
    # Per contact clock, a calendar that replaces the acting unit's own (e.g. round the clock for a
    # rescue: 10 minutes on an 8–18 calendar at 23:00 would mean the next morning).
    calendars: dict[str, str] = {}

    @model_validator(mode="after")
    def _calendars_name_contact_clocks(self) -> ContactKindClocks:
        unknown = set(self.calendars) - set(CONTACT_CLOCKS)
        if unknown:
            raise ValueError(f"calendars: unknown contact clocks {sorted(unknown)}; one of {sorted(CONTACT_CLOCKS)}")
        return self

    def rule(self, clock: str) -> WorkingHoursRule:
        key = CONTACT_CLOCKS[clock]
        value = getattr(self, key)
        return WorkingHoursRule(hours=value / 60 if key.endswith("_minutes") else value)


# Contact clocks by name (as the contact workflows ask for them) → their key in the policy.
CONTACT_CLOCKS = {
    "consultation_handover": "consultation_handover_minutes",
    "consultation_callback": "consultation_callback_hours",
    "consultation_department_answer": "consultation_department_answer_hours",
    "rescue_handover": "rescue_minutes",
    "new_failure_mode_handover": "new_failure_mode_minutes",
}


# Customer clocks by name (as the workflows ask for them) → their key in the policy.
CUSTOMER_CLOCK_HOURS = {
    "solution": "solution_hours",
    "complex_solution": "complex_solution_hours",
    "progress_update": "progress_update_hours",
    "written_confirmation": "written_confirmation_hours",
    "satisfaction_callback": "satisfaction_callback_hours",
}


class Clocks(_Strict):
    dispatch: DispatchClocks
    customer: CustomerClocks
    contact_kinds: ContactKindClocks


class EscalationStep(_Strict):
    """Notify a role holder of a unit, then give them this many working hours (DOMAIN §6)."""

    notify: Role
    of_unit: Annotated[str, Field(description="a unit id, or assisting_province, assisting_city, unit_above")]
    then_wait_hours: PositiveHours | None = None  # none for a one-off notice (ONE_OFF_NOTICES)


# Ladders that are one notice, not climbed: nobody is owed an answer by a later instant, so their
# steps take no then_wait_hours (a number no code would read).
ONE_OFF_NOTICES = frozenset({"urgent_review", "urgent_confirmed"})


class EscalationLadder(_Strict):
    steps: Annotated[list[EscalationStep], Field(min_length=1)]


class ReportRules(_Strict):
    """The monthly report (DOMAIN §8): a category holding more than this share of the month is a hot spot."""

    hot_spot_share: Annotated[float, Field(gt=0, lt=1)] = 0.15


class RetentionRules(_Strict):
    """How long a closed case keeps its customer's personal data (DOMAIN §9, PIPL art. 19 and 47):
    then names, phones and addresses are replaced, and the case stays for the measures."""

    personal_data_days_after_closing: Annotated[int, Field(gt=0, le=3650)] = 365


class VipServiceRules(_Strict):
    """VIP service (差异化服务, seed 003): the tiers served as VIPs, the inbox queue their cases are
    routed to, and the VIP desk whose manager hears of every clock a VIP case misses."""

    tiers: Annotated[list[str], Field(min_length=1)]
    queue: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")] = "vip"
    desk: str  # a unit id: the VIP desk (its vip_desk_manager is told)


class HandOverRules(_Strict):
    """Shift hand-over (交接班, seed 003): how far ahead the hand-over list looks by default."""

    horizon_hours: PositiveHours = 4


class WarningRules(_Strict):
    """Warnings before a breach (issue #16): at each fraction of a clock's working time the owner of
    the next step (`notify` of the unit that owes the clock) is told once; the dashboard shows the
    clock as due soon from the first."""

    fractions: list[Annotated[float, Field(gt=0, lt=1)]] = []
    notify: Role = Role.SUPERVISOR

    @model_validator(mode="after")
    def _increasing(self) -> WarningRules:
        if self.fractions != sorted(set(self.fractions)):
            raise ValueError("fractions: give each fraction once, in increasing order")
        return self


# Notices that quiet hours may hold, by kind: a clock's warning, a ladder's rung, an overdue notice (a late
# dispatch's, a missed customer clock's, a late planned action's).
NoticeKind = Literal["warning", "escalation", "overdue"]
QuietHoursExemption = Literal["urgent", "level_1"]


class QuietHoursRule(_Strict):
    """A notice of this kind to a person waits for the working hours of the unit it is addressed
    to, unless its case is one of `unless` (urgent, level 1): those go out at once."""

    held: bool = True
    unless: list[QuietHoursExemption] = []


class Unit(_Strict):
    name: str
    kind: UnitKind
    parent: str | None = None
    calendar: str


class DirectoryCatchAll(_Strict):
    """The role and unit that take a notice nobody up the org chart holds the role for."""

    role: Role
    unit: str


class Policy(_Strict):
    organisation: str
    reply_checks: ReplyCheckRules
    categories: Annotated[list[Category], Field(min_length=1)]
    urgency: UrgencyRules
    levels: LevelRules
    priority: PriorityRules
    clocks: Clocks
    escalation: dict[str, EscalationLadder]
    judgement: JudgementRules
    targets: dict[str, Annotated[float, Field(ge=0, le=1)]]
    report: ReportRules = ReportRules()
    retention: RetentionRules = RetentionRules()
    pauses: PauseRules = PauseRules()  # clock pauses while waiting on the customer or a third party (issue #16)
    warnings: WarningRules = WarningRules()  # warnings before a breach (issue #16)
    quiet_hours: dict[NoticeKind, QuietHoursRule] = {}  # notices held to working hours, by kind (issue #16)
    callback_survey: SurveyRules = SurveyRules()  # the call-back by survey link (DOMAIN §5)
    vip_service: VipServiceRules | None = None  # none: every customer is served alike
    hand_over: HandOverRules = HandOverRules()
    calendars: Annotated[dict[str, CalendarSpec], Field(min_length=1)]
    units: Annotated[dict[str, Unit], Field(min_length=1)]
    permissions: dict[Permission, list[Role]]
    # Role holders with phone and email, for notifications (validated by notifications.directory).
    directory: list[dict[str, Any]] = []
    directory_catch_all: DirectoryCatchAll | None = None  # checked against the directory there too

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        codes = [c.code for c in self.categories]
        if len(codes) != len(set(codes)):
            raise ValueError("categories: duplicate category code")
        unknown = set(self.clocks.customer.by_category) - set(codes)
        if unknown:
            raise ValueError(f"clocks.customer.by_category: unknown categories {sorted(unknown)}")
        for tier in self.clocks.customer.by_tier:
            if tier not in self.priority.tiers:
                raise ValueError(f"clocks.customer.by_tier.{tier}: unknown tier; one of {self.priority.tiers}")
        if (vip := self.vip_service) is not None:
            if unknown := set(vip.tiers) - set(self.priority.tiers):
                raise ValueError(f"vip_service.tiers: unknown tiers {sorted(unknown)}")
            if vip.desk not in self.units:
                raise ValueError(f"vip_service.desk: unknown unit {vip.desk!r}")
        for clock, keeper in self.clocks.customer.kept_by.items():
            if keeper not in self.units:
                raise ValueError(f"clocks.customer.kept_by.{clock}: unknown unit {keeper!r}")
        for unit_id, unit in self.units.items():
            if unit.parent is not None and unit.parent not in self.units:
                raise ValueError(f"units.{unit_id}.parent: unknown unit {unit.parent!r}")
            if unit.calendar not in self.calendars:
                raise ValueError(f"units.{unit_id}.calendar: unknown calendar {unit.calendar!r}")
        missing = set(Permission) - set(self.permissions)
        if missing:
            raise ValueError(f"permissions: no roles given for {sorted(missing)}")
        return self

    @model_validator(mode="after")
    def _ladder_hours(self) -> Policy:
        for name, ladder in self.escalation.items():
            for i, step in enumerate(ladder.steps):
                if name in ONE_OFF_NOTICES and step.then_wait_hours is not None:
                    raise ValueError(f"escalation.{name}.steps[{i}].then_wait_hours: a one-off notice waits for nobody")
                if name not in ONE_OFF_NOTICES and step.then_wait_hours is None:
                    raise ValueError(f"escalation.{name}.steps[{i}].then_wait_hours: required on a ladder that is climbed")
        return self

    @model_validator(mode="after")
    def _contact_calendars_exist(self) -> Policy:
        for clock, calendar in self.clocks.contact_kinds.calendars.items():
            if calendar not in self.calendars:
                raise ValueError(f"clocks.contact_kinds.calendars.{clock}: unknown calendar {calendar!r}")
        return self

    @cached_property
    def org_chart(self) -> OrgChart:
        """The units as a tree, built once per policy (a reloaded file is a new Policy, a new chart)."""
        return OrgChart(self.units)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Policy:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("org_chart", None)  # a copy with other units must not keep this chart
        return copied

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def roles_with(self, permission: Permission) -> frozenset[Role]:
        return frozenset(self.permissions.get(permission, ()))

    def permission_refusal(self, role: Role, permission: Permission) -> str | None:
        """Why `role` may not do what `permission` allows (naming the roles that may), or None."""
        allowed = self.roles_with(permission)
        if role in allowed:
            return None
        return (f"role {role.value} may not {permission.value.replace('_', ' ')};"
                f" allowed roles: {', '.join(sorted(r.value for r in allowed))}")

    def acting_unit(self, unit_id: str, clock: str | None = None) -> str:
        """The unit that must act on a clock: the one asked for, unless the policy gives the clock a
        keeper of its own (`clocks.customer.kept_by`)."""
        return self.clocks.customer.kept_by.get(clock or "", unit_id)

    def notice_held(self, kind: str, *, urgent: bool, level: int | None) -> bool:
        """Whether quiet hours hold a notice of this kind for a case so marked (issue #16)."""
        rule = self.quiet_hours.get(kind)  # type: ignore[call-overload]
        if rule is None or not rule.held:
            return False
        return not (("urgent" in rule.unless and urgent) or ("level_1" in rule.unless and level == 1))

    def calendar_of(self, unit_id: str, clock: str | None = None) -> tuple[str, CalendarSpec]:
        """The calendar of the unit that must act: every deadline runs on it (DOMAIN §5), unless the
        policy gives the clock a calendar of its own (`clocks.contact_kinds.calendars`)."""
        name = self.clocks.contact_kinds.calendars.get(clock or "") or self.units[unit_id].calendar
        return name, self.calendars[name]

    def first_contact_minutes(self, category: str | None, level: int | None = None, tier: str | None = None) -> float:
        return self.clocks.customer.value("first_contact_minutes", category, level, tier)

    def vip_tier(self, tier: str) -> bool:
        """A customer of this tier is served as a VIP (routed to the VIP queue, the VIP desk told)."""
        return self.vip_service is not None and tier in self.vip_service.tiers

    def clock_rule(self, clock: str, category: str | None = None, level: int | None = None,
                   tier: str | None = None) -> DeadlineRule:
        """The deadline rule of a named clock; the one table from clock names to policy numbers."""
        if clock == "first_contact":
            return WorkingHoursRule(hours=self.first_contact_minutes(category, level, tier) / 60)
        if clock == OPINION:
            return WorkingHoursRule(hours=self.clocks.customer.cross_department_opinion_minutes / 60)
        if clock in CUSTOMER_CLOCK_HOURS:
            hours = self.clocks.customer.value(CUSTOMER_CLOCK_HOURS[clock], category, level, tier)
            return ElapsedHoursRule(hours=hours) if clock in ELAPSED_CLOCKS else WorkingHoursRule(hours=hours)
        dispatch = self.clocks.dispatch
        if clock in ("direct_dispatch", "linked_dispatch", "ticket"):
            if dispatch.deadline_rules.get(clock, "working_hours") == "check_windows":  # type: ignore[call-overload]
                return dispatch.check_windows
            return WorkingHoursRule(hours=getattr(dispatch, f"{clock}_hours"))
        if clock == "urgent_review":
            return WorkingHoursRule(hours=dispatch.urgent_review_hours)
        judgement = {"judgement_response": response_deadline, "judgement_arbitration": arbitration_deadline,
                     "judgement_reminder": response_reminder}.get(clock)
        if judgement is not None:
            return judgement(self.judgement)
        if clock in CONTACT_CLOCKS:
            return self.clocks.contact_kinds.rule(clock)
        raise KeyError(f"no clock {clock!r} in the policy")


class PolicyError(Exception):
    """The policy file cannot be used; the message names the file and the key."""


def parse_policy(data: dict, source: str = "<policy>") -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise PolicyError(f"policy file {source}: {problems}") from None


class PolicyFile:
    """The policy as the worker sees it now: re-read when the file changes, so a new holiday
    list or a new clock applies to deadlines computed from then on (running cases keep theirs,
    because each deadline is recorded in its workflow's history)."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._policy = load_policy(self._path)  # a missing or bad file stops start-up here
        self._stamp = self._path.stat().st_mtime_ns
        self._refused: int | None = None  # the stamp of a broken edit: parsed and logged once, not on every read

    def current(self) -> Policy:
        try:
            stamp = self._path.stat().st_mtime_ns
            if stamp not in (self._stamp, self._refused):
                try:
                    self._policy, self._stamp = load_policy(self._path), stamp
                except PolicyError:
                    self._refused = stamp
                    raise
        except (OSError, PolicyError) as err:
            # A file mid-edit or broken keeps the last good policy rather than stopping every clock.
            logging.getLogger(__name__).warning("policy file not reloaded, keeping the last good one: %s", err)
        return self._policy


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"policy file {path}: not found") from None
    except yaml.YAMLError as err:
        raise PolicyError(f"policy file {path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path}: must be a mapping of keys")
    return parse_policy(data, str(path))
