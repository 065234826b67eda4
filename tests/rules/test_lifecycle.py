"""Which agent action may move a complaint from which state (DOMAIN §4)."""

from __future__ import annotations

import pytest

from rules.lifecycle import TRANSITIONS, ComplaintAction as A, ComplaintStatus as S, InvalidTransition, next_status


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (S.CLASSIFIED, A.ANSWER_AT_FIRST_CONTACT, S.CLOSED),
        (S.CLASSIFIED, A.TAKE_INTO_HANDLING, S.IN_HANDLING),
        (S.IN_HANDLING, A.RESOLVE, S.RESOLVED),
        (S.RESOLVED, A.CONFIRM_WITH_CUSTOMER, S.CONFIRMED),
        (S.CONFIRMED, A.RECORD_SATISFIED_CALLBACK, S.CLOSED),
        (S.CONFIRMED, A.RECORD_DISSATISFIED_CALLBACK, S.IN_HANDLING),
        (S.RESOLVED, A.CLOSE_UNRESOLVABLE, S.CLOSED),
    ],
)
def test_allowed_transitions(start: S, action: A, end: S) -> None:
    assert next_status(start, action) is end


def test_every_other_move_is_refused_with_a_reason() -> None:
    refused = 0
    for action, (allowed_from, _) in TRANSITIONS.items():
        for status in set(S) - allowed_from:
            with pytest.raises(InvalidTransition, match=f"that is {status.value}"):
                next_status(status, action)
            refused += 1
    assert refused > 30


def test_nothing_leaves_closed() -> None:
    assert all(S.CLOSED not in allowed for allowed, _ in TRANSITIONS.values())
