"""The satisfaction call-back by survey link (DOMAIN §5): instead of phoning, a handler has the
customer texted a signed, single-use link to a small page where they rate the handling 1–5 and
may comment. The answer is the case's call-back: satisfied or not by the policy's ratings, so a
dissatisfied answer reopens the case as an agent's call-back would. A link is good for one answer,
for its round of handling only, until it expires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.lifecycle import TRANSITIONS, ComplaintAction, ComplaintStatus

RATINGS = range(1, 6)  # the page's scale: 1 (very unhappy) … 5 (very happy)


class SurveyRules(BaseModel):
    """Policy `callback_survey`: how long a link stays good and which ratings count as satisfied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 48
    satisfied_ratings: Annotated[list[Annotated[int, Field(ge=1, le=5)]], Field(min_length=1)] = [4, 5]

    @model_validator(mode="after")
    def _not_every_rating(self) -> SurveyRules:
        if set(self.satisfied_ratings) >= set(RATINGS):
            raise ValueError("satisfied_ratings: at least one rating must count as dissatisfied")
        return self


def is_satisfied(rating: int, rules: SurveyRules) -> bool:
    """A rating counts as a satisfied call-back when the policy says so (4 or 5 by default)."""
    return rating in rules.satisfied_ratings


def survey_text(complaint_id: str, url: str, link_hours: float) -> str:
    """The text the customer gets: the case and the link, never a name (DOMAIN §9)."""
    hours = f"{link_hours:g}"
    return (f"Your complaint {complaint_id} has been resolved. How did we do? Rate us 1-5 here (one answer,"
            f" within {hours} hours): {url}")


def callback_owed(status: ComplaintStatus) -> bool:
    """The call-back is owed once the written confirmation went out (the lifecycle's own rule)."""
    return status in TRANSITIONS[ComplaintAction.RECORD_SATISFIED_CALLBACK][0]


def sending_refusal(status: ComplaintStatus) -> str | None:
    if callback_owed(status):
        return None
    return (f"cannot send a survey link: the call-back is owed once the customer has the written confirmation;"
            f" the complaint is {status.value}")


def link_refusal(*, status: ComplaintStatus, handling_round: int, link_round: int, expires_at: datetime,
                 now: datetime, used: bool) -> str | None:
    """Why a link cannot take an answer now, or None: answered already, expired, the case closed or
    reopened since it was sent, or the call-back already made."""
    if used:
        return "this link has been used: the answer was recorded"
    if now >= expires_at:
        return "this link has expired"
    if status is ComplaintStatus.CLOSED:
        return "this case is closed"
    if handling_round != link_round:
        return "this case was reopened after the link was sent: a new link will follow"
    if not callback_owed(status):
        return "this case is not waiting for a call-back now"
    return None
