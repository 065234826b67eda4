"""Responsibility judgement rules (DOMAIN §7): the proposal, the three levels, the four-party
statement, the invalid-appeal rate, and the working-days clocks on the office calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from rules.calendar import OFFICE, PRODUCTION_UNIT, DeadlineRule, WorkingCalendar, WorkingDaysRule
from rules.dispatch import DispatchKind
from rules.judgement import (
    DispatchFinding,
    appeal_branch,
    appeal_rights,
    arbitration_deadline,
    fault_naming_problems,
    invalid_appeal_rate,
    missing_evidence,
    month_before,
    per_branch,
    propose,
    required_appeal_evidence,
    response_deadline,
    response_reminder,
    responsible_office,
)
from rules.policy import load_policy
from settings import ROOT

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def finding(unit: str = "gd-gz-tianhe", text: str | None = "Checked the scans.", link: str | None = None,
            n: int = 1) -> DispatchFinding:
    return DispatchFinding(dispatch_id=f"dispatch-C1-{n}", kind=DispatchKind.LINKED, unit=unit, finding=text, failing_link=link)


@pytest.mark.parametrize(("link", "text", "party"), [
    ("Tianhe station sorting", "x", "station"),
    ("line haul truck", "x", "transport"),
    (None, "The courier left it at the door without calling", "courier"),
    (None, "客服录入了错误的地址", "customer_service"),
    ("the sorting", "the courier", "station"),  # the failing link is read first
    (None, "Nothing in particular was found wrong", "station"),  # the policy's default party
])  # fmt: skip
def test_the_party_is_proposed_from_the_failing_link_then_the_finding(link: str | None, text: str, party: str) -> None:
    assert propose([finding(text=text, link=link)], POLICY.judgement, POLICY.org_chart).party == party


def test_the_office_at_fault_is_the_province_of_the_last_dispatch_naming_a_failing_link() -> None:
    found = [finding("zj-hz-xihu", link="Xihu station", n=1), finding("gd-gz-tianhe", link="sorting", n=2),
             finding("gd-sz-nanshan", text="Nanshan checked, nothing found", n=3)]
    proposal = propose(found, POLICY.judgement, POLICY.org_chart)
    assert (proposal.responsible_office, proposal.at_fault_unit, proposal.dispatch_id) == ("gd", "gd-gz-tianhe", "dispatch-C1-2")
    assert responsible_office(POLICY.org_chart, "gd") == "gd" and responsible_office(POLICY.org_chart, "hq-urgent") == "hq"


def test_without_findings_nothing_is_proposed() -> None:
    proposal = propose([finding(text=None)], POLICY.judgement, POLICY.org_chart)
    assert proposal.responsible_office is None and proposal.party is None and "no dispatch finding" in proposal.reason


def test_the_three_levels_are_checked_against_the_unit_directory() -> None:
    assert fault_naming_problems(POLICY.org_chart, "gd", "gd-gz", "gd-gz-tianhe") == []
    assert fault_naming_problems(POLICY.org_chart, "gd", "zj-hz", "zj-hz-xihu")[0][:2] == ("city_branch", "not a city branch of gd")
    assert fault_naming_problems(POLICY.org_chart, "gd", "gd-gz-tianhe", "gd-gz-tianhe")[0][0] == "city_branch"  # a station is no city
    assert fault_naming_problems(POLICY.org_chart, "gd", "gd-gz", "gd-sz-nanshan")[0][:2] == ("smallest_unit", "not a production unit of gd-gz")
    assert fault_naming_problems(POLICY.org_chart, "gd", "gd-gz", "gd-gz")[0][0] == "smallest_unit"
    assert fault_naming_problems(POLICY.org_chart, "gd", "gd-gz", "nowhere")[0][1] == "unknown unit"


def test_judgements_of_loss_and_false_information_need_the_four_party_statement() -> None:
    # DOMAIN §11: by the judgement's fault type (丢失, 虚假信息), whatever the complaint's category
    for fault_type in ("loss", "false_information"):
        required = required_appeal_evidence(POLICY.judgement, fault_type)
        assert missing_evidence(required, ["scan_record"]) == ["four_party_statement"]
        assert missing_evidence(required, ["scan_record", "four_party_statement"]) == []
    # a judgement of no such fault type needs none, even for a loss-or-damage or wrong-information complaint
    assert required_appeal_evidence(POLICY.judgement, None) == []
    # categories are no fault types: a category code decides nothing
    assert required_appeal_evidence(POLICY.judgement, "loss_or_damage") == []
    assert required_appeal_evidence(POLICY.judgement, "wrong_information") == []


@pytest.mark.parametrize(("link", "text", "fault_type"), [
    (None, "The parcel was lost at the Tianhe sorting area", "loss"),
    ("sorting", "邮件在分拣时丢失", "loss"),
    (None, "邮件查无下落，已按遗失处理", "loss"),
    ("the station's false reply", "It said delivered; the customer never got it", "false_information"),
    (None, "网点虚假回复已妥投", "false_information"),
    ("sorting", "The parcel lay two days before it was scanned", None),  # a delay: no fault type
])  # fmt: skip
def test_the_fault_type_is_proposed_from_the_failing_link_then_the_finding(link: str | None, text: str,
                                                                          fault_type: str | None) -> None:
    assert propose([finding(text=text, link=link)], POLICY.judgement, POLICY.org_chart).fault_type == fault_type


def test_the_four_party_fault_types_must_be_fault_types() -> None:
    data = POLICY.judgement.model_dump() | {"four_party_statement_fault_types": ["loss", "weather"]}
    with pytest.raises(ValidationError, match="weather"):
        type(POLICY.judgement).model_validate(data)


def test_the_right_to_appeal_belongs_to_the_city_branch_held_at_fault() -> None:
    chart = POLICY.org_chart
    # seed 000 "取消该市…申诉的机会": the city of the unit at fault, the city itself, else its province
    assert appeal_branch(chart, "gd-gz-tianhe") == "gd-gz" and appeal_branch(chart, "gd-sz-nanshan") == "gd-sz"
    assert appeal_branch(chart, "gd-gz") == "gd-gz"
    assert appeal_branch(chart, "gd") == "gd"  # a judgement naming only the province
    assert appeal_branch(chart, "hq-urgent") == "hq"  # a head-office group: head office
    # two Guangzhou units fold into gd-gz; Shenzhen and Guangdong itself stand apart
    assert per_branch({"gd-gz-tianhe": (1, 2), "gd-gz": (1, 1), "gd-sz-nanshan": (0, 3), "gd": (0, 1)}, chart) == {
        "gd-gz": (2, 3), "gd-sz": (0, 3), "gd": (0, 1)}


def test_an_office_above_the_bound_loses_the_right_to_appeal() -> None:
    assert invalid_appeal_rate(0, 0) is None
    assert appeal_rights("gd", "2026-10", 0, 0, 0.3).allowed  # nothing judged: free to appeal
    assert appeal_rights("gd", "2026-10", 3, 10, 0.3).allowed  # exactly at the bound
    refused = appeal_rights("gd", "2026-10", 4, 10, 0.3)
    assert not refused.allowed and refused.rate == 0.4 and "40%" in refused.reason


def test_the_month_that_decides_is_the_one_before_on_the_offices_clock() -> None:
    # 2026-11-01 00:30 in Shanghai is still October 31 in UTC: November's appeals look at October.
    assert month_before(datetime(2026, 10, 31, 16, 30, tzinfo=UTC), SHANGHAI).label == "2026-10"
    assert month_before(datetime(2026, 1, 15, 4, tzinfo=UTC), SHANGHAI).label == "2025-12"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_five_working_days_end_at_the_close_of_the_fifth_day_after() -> None:
    office = WorkingCalendar(OFFICE)
    # Monday 2026-03-02 10:00 → Tue, Wed, Thu, Fri, Mon → Monday 2026-03-09 18:00
    assert office.evaluate(WorkingDaysRule(days=5), at(2026, 3, 2, 10)) == at(2026, 3, 9, 18)
    assert office.evaluate(WorkingDaysRule(days=5, at="opening"), at(2026, 3, 2, 10)) == at(2026, 3, 9, 8)
    # sent on a Saturday: Monday is the first working day
    assert office.evaluate(WorkingDaysRule(days=1), at(2026, 3, 7, 11)) == at(2026, 3, 9, 18)
    # National Day 2026: Oct 1–7 closed, Saturday Oct 10 a make-up working day (调休): Sep 30, Oct 8, 9, 10, 12
    assert office.evaluate(WorkingDaysRule(days=5), at(2026, 9, 29, 9)) == at(2026, 10, 12, 18)
    # a station works every day
    assert WorkingCalendar(PRODUCTION_UNIT).evaluate(WorkingDaysRule(days=5), at(2026, 10, 1, 9)) == at(2026, 10, 6, 18)


def test_the_judgement_clocks_come_from_the_policy() -> None:
    assert POLICY.clock_rule("judgement_response") == WorkingDaysRule(days=5)
    assert POLICY.clock_rule("judgement_arbitration") == WorkingDaysRule(days=5)
    assert POLICY.clock_rule("judgement_reminder") == WorkingDaysRule(days=5, at="opening")  # one working day before
    assert TypeAdapter(DeadlineRule).validate_python({"kind": "working_days", "days": 5}) == WorkingDaysRule(days=5)
    with pytest.raises(ValidationError, match="greater than 0"):
        TypeAdapter(DeadlineRule).validate_python({"kind": "working_days", "days": 0})


def test_the_judgement_deadlines_are_named_in_the_judgement_rules() -> None:
    rules = POLICY.judgement
    assert response_deadline(rules) == POLICY.clock_rule("judgement_response") == WorkingDaysRule(days=5)
    assert arbitration_deadline(rules) == POLICY.clock_rule("judgement_arbitration") == WorkingDaysRule(days=5)
    assert response_reminder(rules) == POLICY.clock_rule("judgement_reminder")
    # two working days before the end: the opening of the fourth of five days; never before the first
    assert response_reminder(rules.model_copy(update={"reminder_working_days_before": 2})) == WorkingDaysRule(days=4, at="opening")
    assert response_reminder(rules.model_copy(update={"reminder_working_days_before": 9})) == WorkingDaysRule(days=1, at="opening")
