"""Reply checks (DOMAIN §4, seed 000 "虚假信息零容忍"): every reply to a dispatch is checked before
it counts. A non-answer, "delivered" without proof or "lost" without a real search is returned (退回)
with the reason; "still following up, please redispatch" (邮件仍需跟进，请重派) asks for a redispatch.

The check reads the reply's content, however it is written (DOMAIN §11 "False replies"):
1. normalise: full-width forms to half width (NFKC), case folded, 已经 read as 已, spaces collapsed;
2. take out what says nothing: courtesy ("您好", "感谢您的耐心", "please be assured"), status ("正在处理",
   "跟进中", "being handled") and filler ("邮件", "the parcel") phrases, and the delivered / lost claims
   that have no proof attached (a proven claim is part of the finding). Place names that contain a
   status phrase ("处理中心", "processing centre") are protected first;
3. what is left is the finding. It must weigh at least `min_finding_chars` (a Chinese character
   weighs `cjk_char_weight` letters), and say what was found: a link or place (`link_terms`, or the
   reply's `failing_link`), a cause (`cause_terms`) or a proven claim;
4. a one-sentence answer (一句话简单答复: what is left is one clause) must also give a checkable
   fact: a time or a number (`time_terms`, a digit) or attached evidence.
A delivered / lost claim is one not preceded by a negation ("未妥投", "not delivered").
Orders raised before this reading carry `reading: phrases` and are checked as they were then, so a
recorded dispatch replays to the same verdicts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.intake import EvidenceRef
from rules.keywords import first_match


class ReplyOutcome(StrEnum):
    ACCEPTED = "accepted"
    RETURNED = "returned"  # 退回: not acceptable, the clock keeps running
    REDISPATCH = "redispatch"  # "still following up, please redispatch" (邮件仍需跟进，请重派)


class Reply(BaseModel):
    """A unit's answer to a dispatch: what it found, which link failed, the evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: Annotated[str, Field(min_length=1, max_length=4000)]
    failing_link: Annotated[str | None, Field(max_length=200)] = None
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []
    still_following_up: bool = False  # asks for a redispatch


class ReplyCheckRules(BaseModel):
    """The policy's `reply_checks`, copied into each dispatch order at raising time. Every field added
    after the first orders were recorded has a default, so an old order still parses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_finding_chars: Annotated[int, Field(ge=1)]
    non_answer_phrases: list[str]  # status phrases: say that something happens, not what was found
    delivered_phrases: list[str]
    delivery_proof_kinds: list[str]  # evidence kinds that prove a delivery (signature, photo, ...)
    lost_phrases: list[str]
    search_record_kinds: list[str]  # evidence kinds that prove a real search
    # "phrases": the first reading (a listed phrase in a short reply), kept for orders recorded with it;
    # "content": the reply's content once padding is taken out (this module's docstring).
    reading: Literal["phrases", "content"] = "phrases"
    cjk_char_weight: Annotated[int, Field(ge=1)] = 1  # letters one Chinese character weighs
    courtesy_phrases: list[str] = []
    filler_words: list[str] = []  # words that name no finding ("邮件", "the parcel", "was")
    protected_terms: list[str] = []  # places that contain a status phrase ("处理中心"): never taken out
    link_terms: list[str] = []  # links and places: a finding says where or who
    cause_terms: list[str] = []  # what went wrong: a finding may say that instead
    time_terms: list[str] = []  # with digits: the checkable fact a one-sentence answer must give
    negations: list[str] = []  # "未妥投", "not delivered": not a claim


class ReplyVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: ReplyOutcome
    reason: str


def check_reply(reply: Reply, rules: ReplyCheckRules) -> ReplyVerdict:
    """DOMAIN §4: replies are checked before they count; the reason says what to add."""
    if reply.still_following_up:
        return ReplyVerdict(outcome=ReplyOutcome.REDISPATCH, reason="the unit is still following up and asks for a redispatch")
    if rules.reading == "phrases":
        return _check_phrases(reply, rules)
    return _check_content(reply, rules)


def _returned(problems: list[str]) -> ReplyVerdict:
    return ReplyVerdict(outcome=ReplyOutcome.RETURNED, reason="; ".join(problems))


# --- the content reading -------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CLAUSE_BREAK = re.compile(r"[,.;:!?、。;!?\n]+")  # after NFKC, full-width ，；：！？ are half width
_PROTECTED = "\ue000"  # a private-use character stands in for a protected place while phrases are taken out


def normalised(text: str) -> str:
    """The reply as the check reads it: half-width, case folded, 已经 → 已, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("已经", "已")
    return re.sub(r"\s+", " ", folded).strip()


def _phrase_pattern(phrase: str) -> str:
    folded = normalised(phrase)
    if folded.isascii():  # whole words only: "lost" is not in "lostock", "delivered" not in "redelivered"
        return rf"(?<![a-z0-9]){re.escape(folded)}(?![a-z0-9])"
    return re.escape(folded)


def _any(phrases: Iterable[str]) -> re.Pattern[str] | None:
    return _alternatives(tuple(sorted({p for p in phrases if p.strip()})))


@lru_cache(maxsize=256)
def _alternatives(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first, so "正在处理中" goes whole rather than leaving "中" behind.
    ordered = sorted(phrases, key=lambda p: -len(normalised(p)))
    return re.compile("|".join(_phrase_pattern(p) for p in ordered)) if ordered else None


def _claims(text: str, phrases: list[str], negations: list[str]) -> list[re.Match[str]]:
    """Where the text claims a phrase (delivered, lost), leaving out the negated ones ("未妥投")."""
    pattern = _any(phrases)
    if pattern is None:
        return []
    negated = _any(negations)
    found = []
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 12):match.start()]
        # A negation right before the claim, in the same clause: "未妥投", "has not been delivered".
        clause = _CLAUSE_BREAK.split(before)[-1]
        if negated is not None and negated.search(" ".join(clause.split()[-3:]) if clause.isascii() else clause[-3:]):
            continue
        found.append(match)
    return found


def _weight(text: str, rules: ReplyCheckRules) -> int:
    """Letters and digits left, a Chinese character weighing `cjk_char_weight` letters."""
    cjk = len(_CJK.findall(text))
    other = sum(1 for ch in text if ch.isalnum()) - cjk
    return cjk * rules.cjk_char_weight + other


def _without(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(" ", text) if pattern is not None else text


def _check_content(reply: Reply, rules: ReplyCheckRules) -> ReplyVerdict:
    text = normalised(reply.finding)
    kinds = {e.kind for e in reply.evidence}
    problems: list[str] = []

    delivered = _claims(text, rules.delivered_phrases, rules.negations)
    lost = _claims(text, rules.lost_phrases, rules.negations)
    delivery_proven = bool(kinds & set(rules.delivery_proof_kinds))
    search_proven = bool(kinds & set(rules.search_record_kinds))
    if delivered and not delivery_proven:
        problems.append(f"{delivered[0].group()!r} without proof of delivery: attach one of "
                        f"{', '.join(rules.delivery_proof_kinds)} (who signed, when, where)")
    if lost and not search_proven:
        problems.append(f"{lost[0].group()!r} without a search record: search for the parcel (last scan, the "
                        f"units it passed, sender and recipient asked) and attach one of {', '.join(rules.search_record_kinds)}")
    proven = [m.group() for m in delivered if delivery_proven] + [m.group() for m in lost if search_proven]
    unproven = [m.group() for m in delivered if not delivery_proven] + [m.group() for m in lost if not search_proven]

    # What is left once the padding and the unproven claims are taken out.
    protected = _any(rules.protected_terms)
    places = protected.findall(text) if protected is not None else []
    left = protected.sub(_PROTECTED, text) if protected is not None else text
    for pattern in (_any(rules.courtesy_phrases), _any(rules.non_answer_phrases), _any(unproven)):
        left = _without(left, pattern)
    left = _without(left, _any(rules.filler_words))
    restored = iter(places)
    left = re.sub(_PROTECTED, lambda _: next(restored), left)
    clauses = [c for c in _CLAUSE_BREAK.split(left) if _weight(c, rules) > 0]

    says_where = reply.failing_link is not None and reply.failing_link.strip() != ""
    names_finding = (says_where or bool(proven) or bool(places) or first_match(rules.link_terms, left) is not None
                     or first_match(rules.cause_terms, left) is not None)
    asks_terms = bool(rules.link_terms or rules.cause_terms)
    if _weight(left, rules) < rules.min_finding_chars or (asks_terms and not names_finding):
        said = first_match(rules.non_answer_phrases, text)
        problems.append(f"a non-answer{f' ({said!r})' if said else ''}: say what was found and which link failed "
                        "(the unit, place or person, what went wrong, when)")
    elif len(clauses) == 1 and rules.time_terms and not reply.evidence and not (
            any(ch.isdigit() for ch in left) or first_match(rules.time_terms, left) is not None):
        problems.append("a one-sentence answer: add the checkable facts (when it happened, the times, the scans) "
                        "or attach the evidence")
    return _returned(problems) if problems else ReplyVerdict(outcome=ReplyOutcome.ACCEPTED, reason="accepted")


# --- the first reading, for orders recorded with it ----------------------------------------------

def _check_phrases(reply: Reply, rules: ReplyCheckRules) -> ReplyVerdict:
    finding = reply.finding.strip()
    kinds = {e.kind for e in reply.evidence}
    phrase = first_match(rules.non_answer_phrases, finding)
    if len(finding) < rules.min_finding_chars or (phrase is not None and len(finding) < 3 * rules.min_finding_chars):
        return _returned([f"a non-answer{f' ({phrase!r})' if phrase else ''}: say what was found and which link failed"])
    if (said := first_match(rules.delivered_phrases, finding)) is not None and not kinds & set(rules.delivery_proof_kinds):
        return _returned([f"{said!r} without proof of delivery: attach one of {', '.join(rules.delivery_proof_kinds)}"])
    if (said := first_match(rules.lost_phrases, finding)) is not None and not kinds & set(rules.search_record_kinds):
        return _returned([f"{said!r} without a search record: attach one of {', '.join(rules.search_record_kinds)}"])
    return ReplyVerdict(outcome=ReplyOutcome.ACCEPTED, reason="accepted")
