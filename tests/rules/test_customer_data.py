"""A customer's phone compared in one form (DOMAIN §2 duplicates and repeats), however it was written; every
person field masked for staff (DOMAIN §9, GB/T 41833-2022); who may reveal one field whole."""

from __future__ import annotations

import pytest

from rules.actors import Role
from rules.customer_data import masked_address, masked_name, masked_phone, masked_text, normalised_phone, reveal_refusal
from rules.policy import load_policy
from settings import ROOT


@pytest.mark.parametrize("written", ["+86 138 0013 8000", "+8613800138000", "0086-138-0013-8000", "13800138000",
                                     "8613800138000", "138-0013-8000"])
def test_one_mobile_written_every_way_is_one_number(written: str) -> None:
    assert normalised_phone(written) == "13800138000"  # the national mobile number: 11 digits from 1


@pytest.mark.parametrize("written", ["+86 10 6552 9988", "0086 10 6552 9988", "010-6552-9988"])
def test_a_landline_keeps_its_trunk_zero_once_the_country_code_goes(written: str) -> None:
    assert normalised_phone(written) == "01065529988"  # Beijing (0)10, as dialled inside China


def test_another_country_keeps_its_code_and_is_not_a_chinese_number() -> None:
    assert normalised_phone("+852 9123 4567") == normalised_phone("00852 9123 4567") == "+85291234567"
    assert normalised_phone("+852 9123 4567") != normalised_phone("9123 4567")


def test_different_numbers_stay_different() -> None:
    assert normalised_phone("+86 138 0013 8000") != normalised_phone("+86 138 0013 8001")


# -- masking (GB/T 41833-2022): expected values worked out by hand from the rule in each docstring ----

@pytest.mark.parametrize("written, shown", [
    ("13800138034", "138******34"),  # 11 digits: 3 + 6 hidden + 2
    ("+86 138 0013 8034", "138******34"),  # the national form first, then masked
    ("010-6552-9988", "010******88"),  # a landline of 11 digits alike
    ("65529988", "******88"),  # 8 digits: 6 hidden leave 2, the last two
    ("6552998", "******8"),  # 7 digits: 1 left, the last
    ("123456", "******"),  # 6 or fewer: nothing left to show
    ("+852 9123 4567", "+852******67"),  # foreign: + and 11 digits, 3 + 6 + 2
])
def test_a_phone_hides_at_least_six_digits(written: str, shown: str) -> None:
    assert masked_phone(written) == shown
    assert sum(ch == "*" for ch in masked_phone(written)) >= min(6, len(normalised_phone(written).lstrip("+")))


@pytest.mark.parametrize("name, shown", [
    ("李娜", "李*"), ("张三丰", "张**"), ("欧阳娜娜", "欧阳**"), ("欧阳锋", "欧阳*"),
    ("欧阳", "欧*"),  # a compound surname alone: one character must still go
    ("李", "*"), ("Li Na", "L* N*"), ("Zhang San", "Z**** S**"), ("J. Smith", "J. S****"), ("A B", "* *"),
])
def test_a_name_hides_at_least_one_character(name: str, shown: str) -> None:
    assert masked_name(name) == shown


@pytest.mark.parametrize("address, shown", [
    ("广州市天河区体育西路 101 号 2 栋 1203 室", "广州市天河区体育西路 ****"),  # from the street number on
    ("广州市天河区体育西路101号2栋1203室", "广州市天河区体育西路 ****"),
    ("杭州市西湖区文三路三号楼五〇一室", "杭州市西湖区文三路 ****"),  # Chinese numerals before 号
    ("深圳市南山区科技园腾讯大厦", "深圳市南山区****"),  # no number: what follows the last place word
    ("Room 1203, 18 Queen's Road Central, Hong Kong", "Room ****, **** Queen's Road Central, Hong Kong"),
    ("Flat 5B, 12/F, Harbour Road", "Flat ****, ****, Harbour Road"),
    ("Tianhe, Guangzhou", "Tianhe, Guangzhou"),  # no door or room given: nothing to hide
])
def test_an_address_hides_its_door_and_room_number(address: str, shown: str) -> None:
    assert masked_address(address) == shown


def test_free_text_masks_names_phones_emails_and_id_cards_and_leaves_parcels_and_dates() -> None:
    text = "李娜说电话13800138034，邮箱zsf@example.com，身份证110101199003071234；EX1234567890CN 2026-03-02 200元"
    assert masked_text(text, names=["李娜"]) == (
        "李*说电话138******34，邮箱z**@example.com，身份证1****************4；EX1234567890CN 2026-03-02 200元")


def test_an_old_fifteen_digit_id_card_is_masked_but_not_any_long_number() -> None:
    assert masked_text("ID 110101900307123") == "ID 1*************3"  # 15 digits: birth date 900307
    assert masked_text("order 123456789012345678") == "order 123456789012345678"  # no date inside


# -- who may reveal --------------------------------------------------------------------------------

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")


@pytest.mark.parametrize("role, unit, open_direct, allowed", [
    (Role.FRONT_SEAT, "call-centre", [], True),
    (Role.SUPERVISOR, "call-centre", [], True),
    (Role.AUDITOR, "hq", [], False),  # reads, never reveals
    (Role.URGENT_GROUP, "hq-urgent", [], False),
    (Role.PRODUCTION_UNIT, "gd-gz-tianhe", [], False),  # no open direct dispatch
    (Role.PRODUCTION_UNIT, "gd-gz-tianhe", ["gd-gz-tianhe"], True),
    (Role.PRODUCTION_UNIT, "gd-gz", ["gd-gz-tianhe"], True),  # a unit above the addressee
    (Role.PRODUCTION_UNIT, "zj-hz-xihu", ["gd-gz-tianhe"], False),  # another station
])
def test_a_reveal_is_for_those_who_call_the_customer(role: Role, unit: str, open_direct: list[str], allowed: bool) -> None:
    assert (reveal_refusal(role, unit, POLICY, open_direct) is None) is allowed


@pytest.mark.parametrize("mask, mark", [(masked_name, "[name]"), (masked_phone, "[phone]"), (masked_address, "[address]")])
def test_what_de_identification_left_is_shown_as_it_is(mask: object, mark: str) -> None:
    assert mask(mark) == mark  # type: ignore[operator]  # nothing personal left to hide
    assert masked_text(f"{mark} called", names=[mark]) == f"{mark} called"
