"""A customer's phone compared in one form (DOMAIN §2 duplicates and repeats), however it was written."""

from __future__ import annotations

import pytest

from rules.customer_data import normalised_phone


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
