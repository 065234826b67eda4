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
        ({"contents": {"description": "bid documents for a tender"}}, [("urgent_papers", "bid documents")]),
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
        "ID card in Chinese", "bid documents (DOMAIN §3 names them in the plural)", "bid document", "contract inside contractor is no match",
        "bill of lading valid 5 days", "bill of lading valid a month is general", "invoice over 100,000 valid 3 days",
        "small invoice is general", "diploma", "valuables over 20,000", "exactly 20,000 is not over",
        "regulator threat", "media threat", "handed over by the regulator",
    ],
)
def test_urgency_and_its_reasons(changes: dict, expected: list) -> None:
    c = classified(**changes)
    assert reasons(c) == expected
    assert c.urgency == ("urgent" if expected else "general")


# DOMAIN §3 + §11: every criterion is found in contents, description and demand alike. The default
# intake's contents are none, its description and demand plain (tests/factories complaint_body).
FIELDS = {
    "contents": lambda text: {"contents": {"description": text}},
    "description": lambda text: {"description": text},
    "demand": lambda text: {"demand": text},
}
EVERY_FIELD = [
    # (text, the reason it gives) — each from seed 000's list, Chinese and English
    ("我的学位证在里面", ("high_risk_contents", "学位证")),
    ("my degree certificate is in it", ("high_risk_contents", "degree certificate")),
    ("急症药品，病人等着用", ("high_risk_contents", "急症药品")),
    ("emergency medicine for my father", ("high_risk_contents", "emergency medicine")),
    ("毕业证书", ("high_risk_contents", "毕业证")),
    ("护照", ("urgent_papers", "护照")),
    ("air tickets for Friday", ("urgent_papers", "air tickets")),
    ("标书", ("urgent_papers", "标书")),
    # A time-critical paper with no validity given anywhere counts: the urgent-item group's review settles it.
    ("提款单", ("time_critical_papers", "提款单, validity not given")),
    ("withdrawal slip", ("time_critical_papers", "withdrawal slip, validity not given")),
    ("承兑汇票，有效期3天", ("time_critical_papers", "承兑汇票, valid 3 days")),
    ("the bill of lading is valid for 7 days", ("time_critical_papers", "bill of lading, valid 7 days")),
    # An invoice counts only over 100,000 CNY: 12万元 = 120,000 > 100,000; validity not given counts.
    ("增值税发票，金额12万元", ("time_critical_papers", "发票 over 100,000 CNY, validity not given")),
    # Valuables: an amount written in the field, 3万元 = 30,000 > 20,000.
    ("价值3万元的手表", ("high_risk_contents", "valuables over 20,000 CNY (30,000 written)")),
]


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize(("text", "reason"), EVERY_FIELD, ids=[t for t, _ in EVERY_FIELD])
def test_every_urgent_criterion_is_found_in_every_free_text_field(field: str, text: str, reason: tuple[str, str]) -> None:
    c = classified(**FIELDS[field](text))
    assert reasons(c) == [reason] and c.urgency == "urgent"
    assert c.urgent_reasons[0].source == field


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("承兑汇票，有效期30天", "a paper valid 30 days is more than the 7-day limit"),
        ("the bill of lading is valid for 8 days", "8 days: one past the limit"),
        ("发票", "an invoice with no value given is an everyday invoice"),
        ("发票金额10万元", "exactly 100,000 is not over 100,000"),
        ("价值2万元的手表", "exactly 20,000 is not over 20,000"),
        ("a watch worth 19,999 yuan", "under 20,000"),
        ("a contractor's toolbox", "'contract' inside a word is no match"),
    ],
)
def test_thresholds_in_text_keep_their_edges(field: str, text: str, why: str) -> None:
    c = classified(**FIELDS[field](text))
    assert reasons(c) == [] and c.urgency == "general", why


def test_the_structured_figure_wins_over_the_written_one() -> None:
    # contents.valid_days 30 says more than "valid 3 days" in the description: a month is not urgent.
    assert reasons(classified(contents={"description": "提货单", "valid_days": 30}, description="提货单有效期3天")) == []
    # the declared value 5,000 is the invoice's value, whatever amount the description mentions
    assert reasons(classified(contents={"description": "invoice", "declared_value_cny": 5000, "valid_days": 2},
                              description="I paid 150,000 yuan for the goods")) == []
    # an invoice's 50,000 is its face value: under the invoice's 100,000 and not valuables over 20,000
    assert reasons(classified(contents={"description": "VAT invoice", "declared_value_cny": 50000, "valid_days": 3})) == []


def test_a_threat_is_what_the_customer_says_not_what_the_parcel_holds() -> None:
    # A parcel of newspapers is no media threat; the same word in the demand is.
    assert reasons(classified(contents={"description": "a bundle of newspapers"})) == []
    assert reasons(classified(demand="I will call a newspaper")) == [("media", "newspaper")]


def test_a_level_1_trigger_in_the_demand_or_contents_counts_too() -> None:
    assert classified(demand="集体投诉，整栋楼都没收到").level == 1
    assert classified(contents={"description": "a battery that caught fire"}).level == 1


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
