"""Keyword matching shared by the rules that read free text (classification, reply checks)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated

from pydantic import Field

# A policy's list of keywords: at least one, none empty.
Keywords = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


@lru_cache(maxsize=4096)
def _pattern(keyword: str) -> re.Pattern[str]:
    # ASCII keywords match whole words ("contract" must not fire on "contractor", "delivered" not
    # on "redelivered"); Chinese has no word boundaries, so a substring is the match.
    folded = keyword.casefold()
    if keyword.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(folded)}(?![a-z0-9])")
    return re.compile(re.escape(folded))


def first_match(keywords: Iterable[str], text: str) -> str | None:
    """The first keyword found in the text (case-insensitive), or None."""
    folded = text.casefold()
    return next((k for k in keywords if _pattern(k).search(folded)), None)
