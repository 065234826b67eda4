"""The organisation's tree of units (head office → provinces → cities → production units, and the
head-office groups): every walk up the tree goes through `OrgChart`.

Built from the policy's `units` (each names its parent and kind). A walk is guarded against a parent
cycle in a bad policy file, and an unknown unit has no ancestors.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol


class UnitKind(StrEnum):
    HEAD_OFFICE = "head_office"
    PROVINCE = "province"
    CITY = "city"
    PRODUCTION = "production"
    GROUP = "group"  # head-office groups: urgent items, arbitration


# Units that act as a customer-service office: the ones measures are shown per.
OFFICE_KINDS = (UnitKind.CITY, UnitKind.PROVINCE, UnitKind.HEAD_OFFICE)


class _UnitInTree(Protocol):
    @property
    def kind(self) -> UnitKind: ...

    @property
    def parent(self) -> str | None: ...


class OrgChart:
    """The units of one policy as a tree: ancestors, the nearest of a kind, the office, the province."""

    def __init__(self, units: Mapping[str, _UnitInTree]) -> None:
        self._units = units

    def __contains__(self, unit: str) -> bool:
        return unit in self._units

    def kind_of(self, unit: str) -> UnitKind | None:
        found = self._units.get(unit)
        return found.kind if found is not None else None

    def parent_of(self, unit: str) -> str | None:
        """The level above a unit, or None at the top (or for a unit the policy does not know)."""
        found = self._units.get(unit)
        return found.parent if found is not None else None

    def self_and_ancestors(self, unit: str) -> list[str]:
        """The unit (if known) and every unit above it, nearest first."""
        chain: list[str] = []
        current: str | None = unit
        while current is not None and current in self._units and current not in chain:
            chain.append(current)
            current = self._units[current].parent
        return chain

    def ancestors(self, unit: str) -> list[str]:
        """Every unit above `unit`, nearest first."""
        return [u for u in self.self_and_ancestors(unit) if u != unit]

    def is_at_or_above(self, actor_unit: str, unit: str) -> bool:
        """The unit itself or one of its ancestors: who may act for a unit (a city for its station)."""
        return actor_unit == unit or actor_unit in self.ancestors(unit)

    def nearest(self, unit: str, *kinds: UnitKind | str) -> str | None:
        """The unit itself or its nearest ancestor of one of `kinds`: the province of a station."""
        return next((u for u in self.self_and_ancestors(unit) if self._units[u].kind in kinds), None)

    def office_of(self, unit: str) -> str:
        """The customer-service office a unit reports to (itself for an office): a station's city
        office, a head-office group's head office; an unknown unit stands for itself."""
        return self.nearest(unit, *OFFICE_KINDS) or unit

    def province_of(self, unit: str) -> str:
        """The province a unit belongs to; a unit outside any province answers through its office."""
        return self.nearest(unit, UnitKind.PROVINCE) or self.office_of(unit)

    def top(self) -> str:
        """The head of the tree (the unit with no parent)."""
        return next(u for u, found in self._units.items() if found.parent is None)
