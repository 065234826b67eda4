"""The knowledge base (知识库): what a closed complaint teaches the next agent.

At closing (结案) a complaint leaves its problem, its category, the solution that ended it and
how it ended. Only what helps the next case is kept: no customer name, phone, e-mail address or
ID-card number (DOMAIN §9), since customers and agents type them all into descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from rules.customer_data import EMAIL_IN_TEXT, ID_CARD_IN_TEXT, PHONE_IN_TEXT
from rules.lifecycle import ComplaintAction


class Outcome(StrEnum):
    SATISFIED = "satisfied"  # solved, and the customer said so at the call-back
    ANSWERED_AT_FIRST_CONTACT = "answered_at_first_contact"  # a simple query answered at once
    CLOSED_UNRESOLVABLE = "closed_unresolvable"  # a supervisor closed it, with a reason


# Suggestions at intake offer only cases that were really solved.
SOLVED = frozenset({Outcome.SATISFIED, Outcome.ANSWERED_AT_FIRST_CONTACT})

_CLOSINGS = {
    ComplaintAction.RECORD_SATISFIED_CALLBACK: Outcome.SATISFIED,
    ComplaintAction.ANSWER_AT_FIRST_CONTACT: Outcome.ANSWERED_AT_FIRST_CONTACT,
    ComplaintAction.CLOSE_UNRESOLVABLE: Outcome.CLOSED_UNRESOLVABLE,
}


def closing_outcome(action: ComplaintAction) -> Outcome | None:
    """How a complaint ended, when this action closed it; None for any other action."""
    return _CLOSINGS.get(action)


def solution_at_closing(
    outcome: Outcome, closing_detail: Mapping[str, Any], latest_resolution: Mapping[str, Any] | None
) -> str:
    """The answer given at first contact, the unresolvable reason, or else the last round's solution
    (a reopened case's earlier solutions did not satisfy the customer)."""
    if outcome is Outcome.ANSWERED_AT_FIRST_CONTACT:
        return str(closing_detail.get("answer", ""))
    if outcome is Outcome.CLOSED_UNRESOLVABLE:
        return str(closing_detail.get("reason", ""))
    return str((latest_resolution or {}).get("solution", ""))


NAME_MARK = "[name]"
PHONE_MARK = "[phone]"
ADDRESS_MARK = "[address]"  # de-identification (readmodel/retention.py)
EMAIL_MARK = "[email]"
ID_CARD_MARK = "[id-card]"


def _written_any_way(phone: str) -> str:
    """A pattern for this phone's digits with or without spaces and dashes between them."""
    digits = re.sub(r"\D", "", phone)
    return r"(?<!\d)" + r"[ \-]?".join(digits) + r"(?!\d)" if len(digits) >= 5 else ""


def redact(text: str, *, names: Iterable[str], phones: Iterable[str]) -> str:
    """The text without the given people's names and phones, and without anything that looks like an
    ID-card number, an e-mail address or a phone (rules/customer_data.py: what free text may hold)."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(name), NAME_MARK, text, flags=re.IGNORECASE)
    text = ID_CARD_IN_TEXT.sub(ID_CARD_MARK, text)  # before phones: an ID card holds 11 digits in a row
    text = EMAIL_IN_TEXT.sub(EMAIL_MARK, text)
    for pattern in filter(None, map(_written_any_way, phones)):
        text = re.sub(pattern, PHONE_MARK, text)
    return PHONE_IN_TEXT.sub(PHONE_MARK, text)
