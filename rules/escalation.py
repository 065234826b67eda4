"""Escalation ladders (DOMAIN §6): who is told when a dispatch or ticket is overdue, and how long each
rung has to get the answer, on its own unit's calendar."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from rules.policy import Policy


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
