"""Escalation ladders (DOMAIN §6): which ladder a ticket or dispatch gets, who is told when it is
overdue, and how long each rung has to get the answer, on its own unit's calendar."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from rules.dispatch import DispatchKind, TicketPriority
from rules.org_chart import OrgChart, UnitKind
from rules.policy import Policy


class LadderStep(BaseModel):
    """Notify `role` of `unit`, then give them `wait_hours` working hours on `unit`'s calendar (a
    one-off notice, such as the urgent review's, has no answer-by and no hours)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    unit: str
    wait_hours: float | None = None


class DispatchTerms(BaseModel):
    """What a new ticket or dispatch carries from the policy: its ladder and, for an urgent ticket, the
    group that reviews it first and the two notices beside that review."""

    model_config = ConfigDict(frozen=True)

    ladder: list[LadderStep]
    review_unit: str | None = None
    confirm_notice: LadderStep | None = None  # the director texted once the review confirms
    review_overdue_notice: LadderStep | None = None  # told when the review itself runs late
    downgrade_ladder: list[LadderStep] | None = None  # an urgent ticket downgraded: the normal ticket's ladder


class PriorityRefused(ValueError):
    """A ticket priority the raiser may not choose (DOMAIN §4: only the urgent-item group downgrades)."""


def ticket_priority(given: TicketPriority | None, complaint_urgency: str) -> TicketPriority:
    """A ticket is as urgent as its complaint. An agent may raise a general complaint's ticket as
    urgent, but not an urgent complaint's as normal: that would skip the urgent-item group's review,
    the only place a downgrade is decided (DOMAIN §4). Refused rather than quietly made urgent, so
    the agent learns the ticket is not what they asked for."""
    urgent = complaint_urgency == "urgent"
    if urgent and given is TicketPriority.NORMAL:
        raise PriorityRefused("the complaint is urgent: its ticket is reviewed by the urgent-item group, "
                              "which alone may downgrade it; leave priority out or send 'urgent'")
    return given or (TicketPriority.URGENT if urgent else TicketPriority.NORMAL)


def reviewing_office(kind: DispatchKind, *, raised_by_unit: str, lead_unit: str) -> str:
    """Who reviews a dispatch's answer (DOMAIN §4) and may return it by hand: a linked dispatch's,
    the regional office that raised it while working its ticket; a ticket's or a direct
    dispatch's, the lead office, which owns the customer and closes the case."""
    return raised_by_unit if kind is DispatchKind.LINKED else lead_unit


def urgent_review_unit(policy: Policy) -> str | None:
    """The head-office group that reviews urgent tickets (紧急事项组): the group whose id ends in 'urgent'."""
    return next((u for u, d in policy.units.items() if d.kind == UnitKind.GROUP and u.endswith("urgent")), None)


def dispatch_terms(policy: Policy, kind: DispatchKind, priority: TicketPriority, unit: str) -> DispatchTerms:
    """The ladder and review of a dispatch to `unit`: urgent and normal tickets climb their own
    ladders (an urgent one reviewed first), direct and linked dispatches the overdue-dispatch ladder."""
    if kind is not DispatchKind.TICKET:
        return DispatchTerms(ladder=resolve_ladder(policy, "overdue_dispatch", unit))
    if priority is not TicketPriority.URGENT:
        return DispatchTerms(ladder=resolve_ladder(policy, "normal_ticket", unit))
    return DispatchTerms(
        ladder=resolve_ladder(policy, "urgent_ticket", unit),
        review_unit=urgent_review_unit(policy),
        confirm_notice=_first(resolve_ladder(policy, "urgent_confirmed", unit)),
        review_overdue_notice=_first(resolve_ladder(policy, "urgent_review", unit)),
        downgrade_ladder=resolve_ladder(policy, "normal_ticket", unit),  # a downgrade is a normal ticket in every respect
    )


def resolve_ladder(policy: Policy, ladder: str, acting_unit: str) -> list[LadderStep]:
    """A policy ladder made concrete for one dispatch: 'assisting_province' becomes the province
    above the acting unit, 'unit_above' its parent, and so on (DOMAIN §6)."""
    steps = []
    for step in policy.escalation[ladder].steps:
        unit = _unit_for(policy.org_chart, step.of_unit, acting_unit)
        if unit is not None:
            steps.append(LadderStep(role=step.notify.value, unit=unit, wait_hours=step.then_wait_hours))
    return steps


def _unit_for(chart: OrgChart, reference: str, acting_unit: str) -> str | None:
    if reference in chart:
        return reference
    if reference == "unit_above":
        return chart.parent_of(acting_unit)
    kind = {"assisting_province": UnitKind.PROVINCE, "assisting_city": UnitKind.CITY}.get(reference)
    if kind is None:
        raise ValueError(f"unknown unit reference {reference!r} in an escalation ladder")
    return chart.nearest(acting_unit, kind)  # None: no such level above this unit, the step is left out


def _first(steps: list[LadderStep]) -> LadderStep | None:
    return steps[0] if steps else None
