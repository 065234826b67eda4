"""Recipients come from the directory of role holders; a unit with nobody in the role passes the
notice up the org chart, and the policy's catch-all takes what nobody up to the top can."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifications.directory import Directory, DirectoryError, RoleHolder
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


def who(found: object) -> tuple[str, str, list[str], str | None, bool]:
    """(addressed unit, unit reached, holder ids, passed up from, catch-all) of an Addressees."""
    return (found.addressed_unit, found.unit, [h.id for h in found.holders], found.passed_up_from, found.catch_all)  # type: ignore[attr-defined]


def test_a_unit_with_nobody_in_the_role_passes_the_notice_up_to_the_nearest_holder(policy: Policy) -> None:
    directory = Directory.from_policy_data(DIRECTORY_DATA, policy)
    # Guangzhou has its own director: the notice stays there.
    assert who(directory.addressees(Role.DIRECTOR, "gd-gz")) == ("gd-gz", "gd-gz", ["gz-director-he"], None, False)
    # Tianhe station has no director: its parent, Guangzhou city, has one.
    assert who(directory.addressees(Role.DIRECTOR, "gd-gz-tianhe")) == (
        "gd-gz-tianhe", "gd-gz", ["gz-director-he"], "gd-gz-tianhe", False)
    # Nanshan station and Shenzhen city have none: Guangdong's director hears of it.
    assert who(directory.addressees(Role.DIRECTOR, "gd-sz-nanshan")) == (
        "gd-sz-nanshan", "gd", ["gd-director-wang"], "gd-sz-nanshan", False)


def test_nobody_up_to_the_top_sends_the_notice_to_the_catch_all(policy: Policy) -> None:
    # The policy's directory_catch_all is head-office customer-service duty (head_office_cs in hq-cs).
    directory = Directory.from_policy_data(DIRECTORY_DATA, policy)
    # Xihu → Hangzhou → Zhejiang → head office: no director anywhere on the way.
    assert who(directory.addressees(Role.DIRECTOR, "zj-hz-xihu")) == ("zj-hz-xihu", "hq-cs", ["hq-cs-duty"], "zj-hz-xihu", True)
    # A unit the chart does not know (a stale id in a running case) is not dropped either.
    assert who(directory.addressees(Role.DIRECTOR, "gd-gone")) == ("gd-gone", "hq-cs", ["hq-cs-duty"], "gd-gone", True)


def test_the_level_above_is_the_parent_and_passes_up_from_there(policy: Policy) -> None:
    directory = Directory.from_policy_data(DIRECTORY_DATA, policy)
    # Guangzhou's own director is passed over: the level above Guangzhou city is Guangdong.
    assert who(directory.addressees(Role.DIRECTOR, "gd-gz", level_above=True)) == ("gd", "gd", ["gd-director-wang"], None, False)
    # Above Tianhe station is Guangzhou city, which has a director.
    assert who(directory.addressees(Role.DIRECTOR, "gd-gz-tianhe", level_above=True)) == (
        "gd-gz", "gd-gz", ["gz-director-he"], None, False)
    # Above Nanshan is Shenzhen city, which has none: passed up from Shenzhen to Guangdong.
    assert who(directory.addressees(Role.DIRECTOR, "gd-sz-nanshan", level_above=True)) == (
        "gd-sz", "gd", ["gd-director-wang"], "gd-sz", False)
    # Nothing is above head office: the catch-all takes it.
    assert who(directory.addressees(Role.DIRECTOR, "hq", level_above=True))[1:] == ("hq-cs", ["hq-cs-duty"], "hq", True)


def test_the_shipped_directory_tells_a_missed_clock_to_the_supervisor_above(policy: Policy) -> None:
    """A missed customer clock of the Nanshan station goes to the supervisor one level up; Shenzhen
    city has none in the shipped directory, so Guangdong's supervisor hears of it."""
    directory = Directory.from_policy_data(policy.directory, policy)
    assert who(directory.addressees(Role.SUPERVISOR, "gd-sz-nanshan", level_above=True)) == (
        "gd-sz", "gd", ["gd-supervisor-lin"], "gd-sz", False)
    # The level-1 red alert names the lead office (Guangzhou city): no duty manager there or in
    # Guangdong, so it goes up to the duty manager at head office.
    assert who(directory.addressees(Role.DUTY_MANAGER, "gd-gz")) == ("gd-gz", "hq", ["duty-manager-hq"], "gd-gz", False)


def test_a_catch_all_nobody_holds_stops_start_up(policy: Policy) -> None:
    with pytest.raises(DirectoryError, match="directory_catch_all: nobody holds head_office_cs in unit 'hq-cs'"):
        Directory.from_policy_data(DIRECTORY_DATA[:3], policy)


def test_a_directory_without_chart_or_catch_all_has_nobody_to_pass_up_to() -> None:
    holder = RoleHolder.model_validate(DIRECTORY_DATA[0])
    directory = Directory([holder])
    assert [h.id for h in directory.addressees(Role.DIRECTOR, "gd").holders] == ["gd-director-wang"]  # type: ignore[union-attr]
    assert directory.addressees(Role.DIRECTOR, "gd-gz") is None
    assert directory.addressees(Role.DIRECTOR, "gd", level_above=True) is None


def test_a_request_names_recipients_one_way() -> None:
    base = {"case_id": "C1", "step": "escalation-1-director", "subject": "s", "text": "t"}
    assert NotifyRequest.model_validate({**base, "role": "director", "unit": "gd"}).channels == ["sms", "email"]
    with pytest.raises(ValidationError, match="give role and unit"):
        NotifyRequest.model_validate({**base, "role": "director"})
    with pytest.raises(ValidationError, match="not both"):
        NotifyRequest.model_validate({**base, "role": "director", "unit": "gd", "recipient": DIRECTORY_DATA[0]})
    with pytest.raises(ValidationError, match="step"):
        NotifyRequest.model_validate({**base, "step": "13800138000 李娜 / overdue", "role": "director", "unit": "gd"})
