"""The org chart (rules/org_chart.py): every walk up the unit tree, on a small hand-built tree."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rules.org_chart import OrgChart, UnitKind
from rules.policy import load_policy
from settings import ROOT


@dataclass(frozen=True)
class Unit:
    kind: UnitKind
    parent: str | None = None


#   hq ─┬─ hq-urgent (group)
#       ├─ gd (province) ── gd-gz (city) ── gd-gz-tianhe (station)
#       └─ sh (city, no province above)  ── sh-pudong (station)
CHART = OrgChart({
    "hq": Unit(UnitKind.HEAD_OFFICE),
    "hq-urgent": Unit(UnitKind.GROUP, "hq"),
    "gd": Unit(UnitKind.PROVINCE, "hq"),
    "gd-gz": Unit(UnitKind.CITY, "gd"),
    "gd-gz-tianhe": Unit(UnitKind.PRODUCTION, "gd-gz"),
    "sh": Unit(UnitKind.CITY, "hq"),
    "sh-pudong": Unit(UnitKind.PRODUCTION, "sh"),
})  # fmt: skip


def test_a_station_has_its_city_province_and_head_office_above_it_nearest_first() -> None:
    assert CHART.ancestors("gd-gz-tianhe") == ["gd-gz", "gd", "hq"]
    assert CHART.self_and_ancestors("gd-gz-tianhe") == ["gd-gz-tianhe", "gd-gz", "gd", "hq"]
    assert CHART.ancestors("hq") == []
    assert CHART.parent_of("gd-gz") == "gd" and CHART.parent_of("hq") is None
    assert CHART.top() == "hq"


def test_the_nearest_unit_of_a_kind_is_the_unit_itself_or_the_first_above() -> None:
    assert CHART.nearest("gd-gz-tianhe", UnitKind.PROVINCE) == "gd"
    assert CHART.nearest("gd", UnitKind.PROVINCE) == "gd"
    assert CHART.nearest("gd-gz-tianhe", "city") == "gd-gz"  # a kind may be given by its policy name
    assert CHART.nearest("hq-urgent", UnitKind.PROVINCE) is None
    assert CHART.nearest("gd-gz-tianhe", UnitKind.PROVINCE, UnitKind.CITY) == "gd-gz"


def test_a_station_reports_to_its_city_office_and_a_group_to_the_head_office() -> None:
    assert CHART.office_of("gd-gz-tianhe") == "gd-gz"
    assert CHART.office_of("gd") == "gd"
    assert CHART.office_of("hq-urgent") == "hq"


def test_a_unit_outside_any_province_answers_through_its_office() -> None:
    assert CHART.province_of("gd-gz-tianhe") == "gd"
    assert CHART.province_of("sh-pudong") == "sh"
    assert CHART.province_of("hq-urgent") == "hq"


def test_a_unit_acts_for_itself_and_for_the_units_below_it() -> None:
    assert CHART.is_at_or_above("gd", "gd-gz-tianhe") and CHART.is_at_or_above("gd-gz-tianhe", "gd-gz-tianhe")
    assert not CHART.is_at_or_above("gd-gz-tianhe", "gd") and not CHART.is_at_or_above("sh", "gd-gz-tianhe")


def test_an_unknown_unit_has_no_ancestors_and_stands_for_itself() -> None:
    assert "atlantis" not in CHART and "gd" in CHART
    assert CHART.ancestors("atlantis") == [] and CHART.self_and_ancestors("atlantis") == []
    assert CHART.kind_of("atlantis") is None and CHART.parent_of("atlantis") is None
    assert CHART.nearest("atlantis", UnitKind.PROVINCE) is None
    assert CHART.office_of("atlantis") == "atlantis" and CHART.province_of("atlantis") == "atlantis"


@pytest.mark.timeout(5)
def test_a_parent_cycle_in_a_bad_policy_does_not_hang_the_walk() -> None:
    looped = OrgChart({"a": Unit(UnitKind.PRODUCTION, "b"), "b": Unit(UnitKind.PRODUCTION, "a")})
    assert looped.ancestors("a") == ["b"]
    assert looped.nearest("a", UnitKind.PROVINCE) is None
    assert looped.office_of("a") == "a" and looped.province_of("b") == "b"


def test_the_policy_builds_its_chart_once_and_a_reloaded_file_gets_a_new_one() -> None:
    path = ROOT / "policies" / "express_carrier.yaml"
    policy = load_policy(path)
    assert policy.org_chart is policy.org_chart
    assert policy.org_chart.office_of("gd-gz-tianhe") == "gd-gz"
    reloaded = load_policy(path)
    assert reloaded == policy and reloaded.org_chart is not policy.org_chart
    trimmed = policy.model_copy(update={"units": {"hq": policy.units["hq"]}})
    assert "gd" in policy.org_chart and "gd" not in trimmed.org_chart  # a copy does not keep the old chart
