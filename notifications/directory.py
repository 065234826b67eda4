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


class Directory:
    def __init__(self, holders: Iterable[RoleHolder] = ()) -> None:
        self._holders: list[RoleHolder] = []
        self._by_id: dict[str, RoleHolder] = {}
        for holder in holders:
            if holder.id in self._by_id:
                raise DirectoryError(f"directory: duplicate id {holder.id!r}")
            self._by_id[holder.id] = holder
            self._holders.append(holder)

    @classmethod
    def from_policy_data(cls, data: list[dict[str, Any]] | None, policy: Policy | None = None) -> Directory:
        """Build from the policy's ``directory:`` list; with a policy, every unit must exist in it."""
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
        return cls(holders)

    def __len__(self) -> int:
        return len(self._holders)

    def get(self, holder_id: str) -> RoleHolder | None:
        return self._by_id.get(holder_id)

    def holders(self, role: Role | str, unit: str) -> list[RoleHolder]:
        """Everyone holding ``role`` in exactly ``unit``, in directory order."""
        return [h for h in self._holders if h.role == role and h.unit == unit]


def nearest_holders_above(
    policy: Policy, directory: Directory, unit: str, role: Role | str
) -> tuple[str, list[RoleHolder]] | None:
    """The first unit above ``unit`` that has holders of ``role``, with them; a level with nobody
    in that role is passed over rather than leaving the warning undelivered."""
    for candidate in policy.org_chart.ancestors(unit):
        found = directory.holders(role, candidate)
        if found:
            return candidate, found
    return None
