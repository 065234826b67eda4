"""Recipients come from the directory of role holders; overdue work goes to the level above."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifications.directory import (
    Directory,
    DirectoryError,
    nearest_holders_above,
)
from notifications.messages import NotifyRequest
from rules.actors import Role
from rules.org_chart import UnitKind
from rules.policy import Policy, load_policy
from settings import ROOT

POLICY = ROOT / "policies" / "express_carrier.yaml"

DIRECTORY_DATA = [
    {"id": "gd-director-wang", "name": "王强", "role": "director", "unit": "gd", "phone": "+8613800000001",
     "email": "wang.qiang@example.com"},
    {"id": "gd-vp-zhao", "name": "赵敏", "role": "vice_president", "unit": "gd", "phone": "+8613800000002"},
    {"id": "gz-director-he", "name": "何静", "role": "director", "unit": "gd-gz", "email": "he.jing@example.com"},
    {"id": "hq-cs-duty", "name": "总部客服值班", "role": "head_office_cs", "unit": "hq-cs", "phone": "+8610950000"},
]  # fmt: skip


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(POLICY)


def test_holders_of_a_role_in_a_unit(policy: Policy) -> None:
    directory = Directory.from_policy_data(DIRECTORY_DATA, policy)
    assert [h.id for h in directory.holders(Role.DIRECTOR, "gd")] == ["gd-director-wang"]
    assert [h.id for h in directory.holders("vice_president", "gd")] == ["gd-vp-zhao"]
    assert directory.holders(Role.DIRECTOR, "zj") == []
    assert directory.get("gz-director-he").email == "he.jing@example.com"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"phone": "call me"}, "directory.1.phone: String should match pattern"),
        ({"unit": "nowhere"}, "directory.1.unit: unknown unit 'nowhere'"),
        ({"role": "janitor"}, "directory.1.role: Input should be"),
        ({"phone": None, "email": None}, "directory.1: Value error, give a phone or an email"),
        ({"id": "gd-director-wang"}, "directory: duplicate id 'gd-director-wang'"),
    ],
)
def test_a_bad_entry_names_its_key(policy: Policy, entry: dict, message: str) -> None:
    data = [DIRECTORY_DATA[0], {**DIRECTORY_DATA[1], **entry}]
    with pytest.raises(DirectoryError) as err:
        Directory.from_policy_data(data, policy)
    assert message in str(err.value)


def test_the_level_above_a_unit_walks_the_parents(policy: Policy) -> None:
    chart = policy.org_chart
    assert chart.parent_of("gd-gz-tianhe") == "gd-gz"
    assert chart.parent_of("gd-gz") == "gd"
    assert chart.parent_of("hq") is None
    assert chart.ancestors("gd-gz-tianhe") == ["gd-gz", "gd", "hq"]
    assert chart.nearest("gd-gz-tianhe", UnitKind.PROVINCE) == "gd"
    assert chart.nearest("gd", "province") == "gd"
    assert chart.nearest("hq-cs", UnitKind.PROVINCE) is None


def test_an_overdue_station_warns_the_nearest_level_above_with_a_holder(policy: Policy) -> None:
    directory = Directory.from_policy_data(DIRECTORY_DATA, policy)
    unit, holders = nearest_holders_above(policy, directory, "gd-gz-tianhe", Role.DIRECTOR)  # type: ignore[misc]
    assert (unit, [h.id for h in holders]) == ("gd-gz", ["gz-director-he"])
    # Shenzhen has no director of its own: the Guangdong director hears of it.
    unit, holders = nearest_holders_above(policy, directory, "gd-sz-nanshan", Role.DIRECTOR)  # type: ignore[misc]
    assert (unit, [h.id for h in holders]) == ("gd", ["gd-director-wang"])
    assert nearest_holders_above(policy, directory, "zj-hz-xihu", Role.DIRECTOR) is None


def test_a_request_names_recipients_one_way() -> None:
    base = {"case_id": "C1", "step": "escalation-1-director", "subject": "s", "text": "t"}
    assert NotifyRequest.model_validate({**base, "role": "director", "unit": "gd"}).channels == ["sms", "email"]
    with pytest.raises(ValidationError, match="give role and unit"):
        NotifyRequest.model_validate({**base, "role": "director"})
    with pytest.raises(ValidationError, match="not both"):
        NotifyRequest.model_validate({**base, "role": "director", "unit": "gd", "recipient": DIRECTORY_DATA[0]})
    with pytest.raises(ValidationError, match="step"):
        NotifyRequest.model_validate({**base, "step": "13800138000 李娜 / overdue", "role": "director", "unit": "gd"})
