"""Classification (DOMAIN §3): urgent or general with the reasons, level 1/2/3, priority."""

from __future__ import annotations

import pytest

from rules.classification import ComplainantHistory, UnknownCategory, classify
from rules.intake import ComplaintIntake
from rules.policy import load_policy
from settings import ROOT
from tests.factories import complaint_body

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")


def classified(history: int = 0, **changes: object):  # type: ignore[no-untyped-def]
    return classify(ComplaintIntake.model_validate(complaint_body(**changes)), POLICY, ComplainantHistory(earlier_complaints=history))


def reasons(c) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(r.rule.value, r.matched) for r in c.urgent_reasons]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"contents": {"description": "护照和身份证"}}, [("urgent_papers", "身份证")]),
        ({"contents": {"description": "bid documents for a tender"}}, []),
        ({"contents": {"description": "bid document"}}, [("urgent_papers", "bid document")]),
        ({"contents": {"description": "a contractor's toolbox"}}, []),
        ({"contents": {"description": "bill of lading", "valid_days": 5}}, [("time_critical_papers", "bill of lading, valid 5 days")]),
        ({"contents": {"description": "bill of lading", "valid_days": 30}}, []),
        ({"contents": {"description": "VAT invoice", "declared_value_cny": 150000, "valid_days": 3}},
         [("time_critical_papers", "invoice over 100,000 CNY, valid 3 days")]),
        ({"contents": {"description": "VAT invoice", "declared_value_cny": 5000, "valid_days": 3}}, []),
        ({"contents": {"description": "毕业证"}}, [("high_risk_contents", "毕业证")]),
        ({"contents": {"description": "a watch", "declared_value_cny": 25000}}, [("high_risk_contents", "valuables over 20,000 CNY")]),
        ({"contents": {"description": "a watch", "declared_value_cny": 20000}}, []),
        ({"description": "If this is not solved I will call the 邮政管理局"}, [("regulator", "邮政管理局")]),
        ({"demand": "or I go to the media"}, [("media", "media")]),
        ({"channel": "regulator"}, [("regulator", "handed over by the regulator")]),
    ],
    ids=[
        "ID card in Chinese", "bid documents: plural is not the keyword", "bid document", "contract inside contractor is no match",
        "bill of lading valid 5 days", "bill of lading valid a month is general", "invoice over 100,000 valid 3 days",
        "small invoice is general", "diploma", "valuables over 20,000", "exactly 20,000 is not over",
        "regulator threat", "media threat", "handed over by the regulator",
    ],
)
def test_urgency_and_its_reasons(changes: dict, expected: list) -> None:
    c = classified(**changes)
    assert reasons(c) == expected
    assert c.urgency == ("urgent" if expected else "general")


def test_regulator_or_media_is_level_1_and_high_priority() -> None:
    c = classified(description="我要向媒体曝光")
    assert c.level == 1
    assert c.priority == "high"


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({"description": "the courier was injured and the parcel caught fire"}, 1),
        ({"description": "my account hacked after your data leak"}, 1),
        ({"description": "集体投诉: the whole building has no deliveries"}, 1),
        ({"nature": "suggestion", "description": "please add Sunday pickups"}, 3),
        ({}, 2),
    ],
    ids=["safety risk", "account security", "group complaint", "suggestion", "general"],
)
def test_levels(changes: dict, level: int) -> None:
    assert classified(**changes).level == level


def test_tier_and_history_raise_priority_without_making_it_urgent() -> None:
    vip = classified(complainant={"name": "Li", "phone": "13800138000", "tier": "vip"})
    repeat = classified(history=2)
    plain = classified()
    assert (vip.priority, vip.urgency, vip.priority_reasons) == ("high", "general", ["customer tier vip"])
    assert repeat.priority == "high" and repeat.priority_reasons == ["2 earlier complaints in 30 days"]
    assert plain.priority == "normal"


def test_unknown_category_is_refused() -> None:
    with pytest.raises(UnknownCategory):
        classified(category="rudeness")


def test_the_same_input_always_gives_the_same_classification() -> None:
    body = dict(contents={"description": "passport"}, description="media will hear of this")
    assert classified(**body) == classified(**body)
