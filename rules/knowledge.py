"""The knowledge base (知识库): what a closed complaint teaches the next agent.

At closing (结案) a complaint leaves its problem, its category, the solution that ended it and
how it ended. Only what helps the next case is kept: no customer name or phone (DOMAIN §9), and
free text is cleaned of them, since customers and agents type both into descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

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

# A phone number standing alone: a mainland mobile (+86 138 0013 8000, 13800138000) or a landline
# (020-12345678). Digits inside a tracking number (EX1234567890CN), a date or an amount are left alone.
_PHONE_LIKE = re.compile(r"(?<![\w+])(?:(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}|0\d{2,3}[ \-]?\d{7,8})(?!\w)")


def _written_any_way(phone: str) -> str:
    """A pattern for this phone's digits with or without spaces and dashes between them."""
    digits = re.sub(r"\D", "", phone)
    return r"(?<!\d)" + r"[ \-]?".join(digits) + r"(?!\d)" if len(digits) >= 5 else ""


def redact(text: str, *, names: Iterable[str], phones: Iterable[str]) -> str:
    """The text without the given people's names and phones, and without anything that looks like a phone."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(name), NAME_MARK, text, flags=re.IGNORECASE)
    for pattern in filter(None, map(_written_any_way, phones)):
        text = re.sub(pattern, PHONE_MARK, text)
    return _PHONE_LIKE.sub(PHONE_MARK, text)
