"""What a closed complaint leaves in the knowledge base: its outcome, its solution, no customer data."""

from __future__ import annotations

from rules.knowledge import Outcome, closing_outcome, redact, solution_at_closing
from rules.lifecycle import ComplaintAction as A


def test_only_the_three_closing_actions_have_an_outcome() -> None:
    assert closing_outcome(A.RECORD_SATISFIED_CALLBACK) is Outcome.SATISFIED
    assert closing_outcome(A.ANSWER_AT_FIRST_CONTACT) is Outcome.ANSWERED_AT_FIRST_CONTACT
    assert closing_outcome(A.CLOSE_UNRESOLVABLE) is Outcome.CLOSED_UNRESOLVABLE
    assert closing_outcome(A.RESOLVE) is None


def test_the_solution_is_the_last_resolution_the_answer_or_the_reason() -> None:
    last = {"solution": "paid 200 CNY"}
    assert solution_at_closing(Outcome.SATISFIED, {"customer_words": "ok"}, last) == "paid 200 CNY"
    assert solution_at_closing(Outcome.ANSWERED_AT_FIRST_CONTACT, {"answer": "remote-area fee"}, None) == "remote-area fee"
    assert solution_at_closing(Outcome.CLOSED_UNRESOLVABLE, {"reason": "unreachable"}, last) == "unreachable"


def test_names_and_phones_are_cut_out_however_they_are_written() -> None:
    text = "李娜 (li na) called from 138 0013 8000, +86-13912345678 and 020-12345678"

    assert redact(text, names=["Li Na", "李娜"], phones=["13800138000"]) == (
        "[name] ([name]) called from [phone], [phone] and [phone]"
    )


def test_tracking_numbers_dates_amounts_and_one_letter_names_stay() -> None:
    text = "EX1234567890CN, 1234567890123, 2026-03-02, 200 CNY, A"

    assert redact(text, names=["A"], phones=[]) == text
