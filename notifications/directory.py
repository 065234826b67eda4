"""Who holds which role in which unit, and how to reach them (directors, vice-presidents, ...).

The policy carries the directory beside its units, one entry per role holder::

    directory:
      - {id: gd-director-wang, name: 王强, role: director, unit: gd,
         phone: "+8613800000001", email: wang.qiang@example.com}
      - {id: gd-vp-zhao, name: 赵敏, role: vice_president, unit: gd, phone: "+8613800000002"}

Pure data and lookups, no I/O: usable from rules, activities and the workflow sandbox alike.
Phones and e-mail addresses here are staff contacts, still kept out of logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.actors import Role

if TYPE_CHECKING:  # only the shape is needed; keeps rules.policy free to import this module later
    from rules.org_chart import OrgChart
    from rules.policy import Policy

Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class RoleHolder(BaseModel):
    """A person who holds a role in a unit and can be notified (at least one way to reach them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=100)]
    name: Annotated[str, Field(min_length=1)]
    role: Role
    unit: Annotated[str, Field(min_length=1)]
    phone: Phone | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> RoleHolder:
        if self.phone is None and self.email is None:
            raise ValueError("give a phone or an email")
        return self


class DirectoryError(ValueError):
    """The directory data cannot be used; the message names the entry and the key."""


class Addressees(BaseModel):
    """Who takes one notice, and how the directory got there: the unit it was addressed to, the unit
    whose holders take it, and whether it was passed up (nobody in the role where it was addressed)
    or went to the policy's catch-all. Ids and units only: safe to log."""

    model_config = ConfigDict(frozen=True)

    holders: list[RoleHolder]
    addressed_unit: str  # the unit named (its parent for a notice to the level above)
    unit: str  # where the holders are
    catch_all: bool = False  # nobody up the chart held the role: the policy's catch-all took it

    @property
    def passed_up_from(self) -> str | None:
        """The addressed unit, when the notice went elsewhere; None when it was taken there."""
        return self.addressed_unit if self.unit != self.addressed_unit or self.catch_all else None


class Directory:
    """The role holders, with the org chart to pass a notice up and the catch-all to end with.

    Without a chart (a directory built from holders alone) a notice can only go to the unit it
    names; without a catch-all, one nobody up the chart can take has no recipient."""

    def __init__(
        self,
        holders: Iterable[RoleHolder] = (),
        org_chart: OrgChart | None = None,
        catch_all: tuple[Role | str, str] | None = None,
    ) -> None:
        self._holders: list[RoleHolder] = []
        self._by_id: dict[str, RoleHolder] = {}
        for holder in holders:
            if holder.id in self._by_id:
                raise DirectoryError(f"directory: duplicate id {holder.id!r}")
            self._by_id[holder.id] = holder
            self._holders.append(holder)
        self._chart = org_chart
        self._catch_all = catch_all
        if catch_all is not None and not self.holders(*catch_all):
            role, unit = catch_all
            raise DirectoryError(f"directory_catch_all: nobody holds {role} in unit {unit!r} in the directory")

    @classmethod
    def from_policy_data(cls, data: list[dict[str, Any]] | None, policy: Policy | None = None) -> Directory:
        """Build from the policy's ``directory:`` list; with a policy, every unit must exist in it,
        and the policy's org chart and ``directory_catch_all`` come with it."""
        holders = []
        for index, entry in enumerate(data or []):
            try:
                holder = RoleHolder.model_validate(entry)
            except ValidationError as err:
                problems = "; ".join(
                    f"directory.{index}{''.join('.' + str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
                )
                raise DirectoryError(problems) from None
            if policy is not None and holder.unit not in policy.units:
                raise DirectoryError(f"directory.{index}.unit: unknown unit {holder.unit!r}")
            holders.append(holder)
        if policy is None:
            return cls(holders)
        catch_all = policy.directory_catch_all
        return cls(holders, policy.org_chart, (catch_all.role, catch_all.unit) if catch_all is not None else None)

    def __len__(self) -> int:
        return len(self._holders)

    def get(self, holder_id: str) -> RoleHolder | None:
        return self._by_id.get(holder_id)

    def holders(self, role: Role | str, unit: str) -> list[RoleHolder]:
        """Everyone holding ``role`` in exactly ``unit``, in directory order."""
        return [h for h in self._holders if h.role == role and h.unit == unit]

    def addressees(self, role: Role | str, unit: str, level_above: bool = False) -> Addressees | None:
        """Who takes a notice to ``role`` in ``unit`` (``level_above``: in the unit above it): the
        holders there, else those of the nearest unit up the org chart that has some, else the
        catch-all's. None only when there is no catch-all either (DOMAIN §6: never dropped)."""
        chain = self._chart.self_and_ancestors(unit) if self._chart is not None else [unit]
        if level_above:
            chain = chain[1:]
        addressed = chain[0] if chain else unit
        for candidate in chain:
            found = self.holders(role, candidate)
            if found:
                return Addressees(holders=found, addressed_unit=addressed, unit=candidate)
        if self._catch_all is None:
            return None
        catch_role, catch_unit = self._catch_all
        return Addressees(
            holders=self.holders(catch_role, catch_unit), addressed_unit=addressed, unit=catch_unit, catch_all=True
        )
