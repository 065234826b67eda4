"""VIP service in the policy (差异化服务): a tier's clocks apply where stricter, alongside a level's,
and a policy naming an unknown tier or desk stops start-up naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from rules.calendar import WorkingHoursRule
from rules.policy import PolicyError, load_policy, parse_policy
from settings import ROOT

POLICY_FILE = ROOT / "policies" / "express_carrier.yaml"


def test_a_tiers_clocks_apply_where_they_are_stricter() -> None:
    policy = load_policy(POLICY_FILE)
    # a delay's first contact is 120 min; a VIP's 15; level 1's is 15 too, a key account's 20
    assert policy.clock_rule("first_contact", "delay", 2, "vip") == WorkingHoursRule(hours=15 / 60)
    assert policy.clock_rule("first_contact", "delay", 2, "key_account") == WorkingHoursRule(hours=20 / 60)
    assert policy.clock_rule("first_contact", "delay", 1, "key_account") == WorkingHoursRule(hours=15 / 60)
    assert policy.clock_rule("first_contact", "delay", 2, "standard") == WorkingHoursRule(hours=2)
    # solution 4 h; a key account's 3, level 1's 2: the stricter wins
    assert policy.clock_rule("solution", "delay", 2, "key_account") == WorkingHoursRule(hours=3)
    assert policy.clock_rule("solution", "delay", 1, "key_account") == WorkingHoursRule(hours=2)
    # a tier without its own value keeps the general one: the call-back's 24 elapsed hours
    assert policy.clock_rule("satisfaction_callback", "delay", 2, "vip").hours == 24  # type: ignore[union-attr]
    assert policy.vip_tier("vip") and policy.vip_tier("key_account") and not policy.vip_tier("standard")


@pytest.mark.parametrize(("edit", "named"), [
    (lambda p: p["clocks"]["customer"]["by_tier"].update(gold={"solution_hours": 1}), "clocks.customer.by_tier.gold: unknown tier"),
    (lambda p: p["vip_service"].update(tiers=["gold"]), "vip_service.tiers: unknown tiers ['gold']"),
    (lambda p: p["vip_service"].update(desk="nowhere"), "vip_service.desk: unknown unit 'nowhere'"),
    (lambda p: p["hand_over"].update(horizon_hours=0), "hand_over.horizon_hours"),
])
def test_a_bad_vip_or_hand_over_section_names_the_key(edit, named: str) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8")))
    edit(data)
    with pytest.raises(PolicyError) as err:
        parse_policy(data, "policy.yaml")
    assert named in str(err.value)
