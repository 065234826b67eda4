"""The policy file: every number in one place, and a bad file stops start-up naming the key."""

from __future__ import annotations

import logging

from pathlib import Path

import pytest
import yaml

from rules.policy import PolicyError, load_policy
from settings import ROOT

DEFAULT = ROOT / "policies" / "express_carrier.yaml"


def broken(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_default_policy_holds_the_domain_numbers() -> None:
    policy = load_policy(DEFAULT)
    assert policy.clocks.dispatch.direct_dispatch_hours == 2
    assert policy.clocks.dispatch.linked_dispatch_hours == 4
    assert policy.clocks.dispatch.ticket_hours == 20
    assert policy.clocks.customer.first_contact_minutes == 30
    assert [s.then_wait_hours for s in policy.escalation["urgent_ticket"].steps] == [8, 2, 1]
    assert policy.judgement.response_working_days == 5
    assert policy.calendar_of("gd-gz-tianhe")[0] == "production_unit"
    assert policy.first_contact_minutes("staff_attitude") == 60


def test_customer_clocks_differ_by_category_and_level() -> None:
    policy = load_policy(DEFAULT)
    hours = lambda clock, category, level: policy.clock_rule(clock, category, level).hours  # noqa: E731
    assert hours("first_contact", "packaging", 2) == 0.5  # the general 30 minutes
    assert hours("first_contact", "delay", 2) == 2  # the category's own: logistics 2 h
    assert hours("first_contact", "delay", 1) == 0.25  # level 1 is stricter: 15 minutes
    assert hours("solution", "delay", 2) == 4
    assert hours("solution", "delay", 1) == 2
    assert hours("complex_solution", "delay", 1) == 8  # level 1 says nothing stricter here
    assert hours("progress_update", "packaging", 1) == 1
    assert hours("written_confirmation", None, None) == 1
    assert hours("satisfaction_callback", None, None) == 24


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["clocks"]["customer"].__setitem__("solution_hours", 0), "clocks.customer.solution_hours"),
        (lambda d: d["clocks"]["dispatch"].pop("ticket_hours"), "clocks.dispatch.ticket_hours"),
        (lambda d: d["urgency"].__setitem__("urgent_paperz", []), "urgency.urgent_paperz"),
        (lambda d: d["units"]["gd"].__setitem__("calendar", "lunar"), "units.gd.calendar"),
        (lambda d: d["units"]["gd"].__setitem__("parent", "atlantis"), "units.gd.parent"),
        (lambda d: d["calendars"]["office"].__setitem__("time_zone", "Mars/Olympus"), "calendars.office.time_zone"),
        (lambda d: d["escalation"]["urgent_ticket"]["steps"][0].__setitem__("notify", "emperor"), "escalation.urgent_ticket.steps.0.notify"),
        (lambda d: d["clocks"]["customer"]["by_category"].__setitem__("rudeness", {"solution_hours": 5}), "clocks.customer.by_category"),
    ],
    ids=["zero clock", "missing clock", "misspelled key", "unknown calendar", "unknown parent unit",
         "unknown time zone", "unknown role", "clock for an unknown category"],
)
def test_a_bad_policy_names_the_key(tmp_path: Path, edit, named: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyError) as err:
        load_policy(broken(tmp_path, edit))
    assert named in str(err.value)


def test_the_policy_chooses_the_deadline_rule_per_dispatch_kind(tmp_path: Path) -> None:
    from rules.calendar import CheckWindowRule, WorkingHoursRule

    policy = load_policy(DEFAULT)
    assert policy.clock_rule("direct_dispatch") == WorkingHoursRule(hours=2)
    assert isinstance(policy.clock_rule("linked_dispatch"), CheckWindowRule)
    assert policy.clock_rule("ticket") == WorkingHoursRule(hours=20)
    plain = load_policy(broken(tmp_path, lambda d: d["clocks"]["dispatch"]["deadline_rules"].__setitem__("linked_dispatch", "working_hours")))
    assert plain.clock_rule("linked_dispatch") == WorkingHoursRule(hours=4)
    with pytest.raises(PolicyError, match="deadline_rules.linked_dispatch"):
        load_policy(broken(tmp_path, lambda d: d["clocks"]["dispatch"]["deadline_rules"].__setitem__("linked_dispatch", "whenever")))


def test_a_missing_or_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("clocks: [unclosed", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(tmp_path / "bad.yaml")


def test_the_api_refuses_to_start_on_a_bad_policy(tmp_path: Path) -> None:
    from api.main import create_app
    from tests.conftest import stack_settings

    settings = stack_settings(tmp_path).model_copy(
        update={"policy_file": broken(tmp_path, lambda d: d["clocks"]["customer"].__setitem__("solution_hours", -1))}
    )
    with pytest.raises(PolicyError, match="clocks.customer.solution_hours"):
        create_app(settings)


def test_a_changed_policy_file_applies_from_the_next_read_and_a_broken_edit_keeps_the_last_good(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os

    from rules.policy import PolicyFile

    path = broken(tmp_path, lambda d: None)
    source = PolicyFile(path)
    assert source.current().clocks.customer.solution_hours == 4

    edited = broken(tmp_path, lambda d: d["clocks"]["customer"].__setitem__("solution_hours", 6))
    os.utime(edited, ns=(1, 10**18))
    assert source.current().clocks.customer.solution_hours == 6

    path.write_text("clocks: [broken", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    with caplog.at_level(logging.WARNING, logger="rules.policy"):
        # every deadline look-up reads the policy: the broken edit is parsed and reported once
        assert all(source.current().clocks.customer.solution_hours == 6 for _ in range(50))
    assert len([r for r in caplog.records if "not reloaded" in r.getMessage()]) == 1

    fixed = broken(tmp_path, lambda d: d["clocks"]["customer"].__setitem__("solution_hours", 5))
    os.utime(fixed, ns=(1, 3 * 10**18))
    assert source.current().clocks.customer.solution_hours == 5
