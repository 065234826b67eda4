"""Which merges and splits are refused, and why (rules/merging.py)."""

from __future__ import annotations

from rules.merging import merge_refusal, split_refusal, target_refusal


def test_an_open_complaint_holding_nothing_may_be_merged_into_another() -> None:
    assert merge_refusal("C2", "in_handling", "C1", holds=[]) is None
    assert merge_refusal("C2", "classified", "C1", holds=[]) is None


def test_a_merge_into_itself_a_closed_or_merged_complaint_or_a_chain_is_refused() -> None:
    assert merge_refusal("C2", "in_handling", "C2", holds=[]) == "a complaint cannot be merged into itself"
    assert "merged already" in (merge_refusal("C2", "merged", "C1", holds=[]) or "")
    assert "only an open complaint is merged" in (merge_refusal("C2", "closed", "C1", holds=[]) or "")
    # B holds A: merging B into C would make A → B → C
    assert "A merged into it; merges are one level deep" in (merge_refusal("B", "in_handling", "C", holds=["A"]) or "")
    assert "paused (waiting_on_customer); resume them first" in (
        merge_refusal("C2", "in_handling", "C1", holds=[], paused_for="waiting_on_customer") or "")


def test_the_target_must_be_open_and_not_merged_itself() -> None:
    assert target_refusal("C1", "in_handling", None) is None
    assert target_refusal("C1", "closed", None) == "complaint C1 is closed; a complaint is merged only into an open one"
    assert target_refusal("B", "merged", "C") == ("complaint B is itself merged into C; merges are one level deep:"
                                                  " merge into C instead")


def test_only_a_merged_complaint_is_split_out() -> None:
    assert split_refusal("C2", "merged") is None
    assert split_refusal("C2", "in_handling") == ("complaint C2 is in_handling, not merged; only a merged complaint"
                                                   " is split out")
