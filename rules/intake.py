"""What a channel hands us when a customer complains (DOMAIN §2): the complaint record.

These models are shared by the API (request bodies) and the workflow (its input), so a field is
defined once. Policy-dependent checks (is the category known?) happen where the policy is at hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


class Channel(StrEnum):
    """Where the complaint came in (投诉渠道)."""

    HOTLINE = "hotline"
    WEB_FORM = "web_form"
    APP = "app"
    EMAIL = "email"
    LETTER = "letter"
    WALK_IN = "walk_in"
    WECHAT = "wechat"
    WEIBO = "weibo"
    MANAGEMENT = "management"  # handed over by the carrier's own management
    REGULATOR = "regulator"  # handed over by the postal regulator


class Nature(StrEnum):
    """Complaint or suggestion: a suggestion is level 3 and goes to the product side (DOMAIN §3)."""

    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


# The years an instant of this desk may lie in: before them a time is a typing mistake or an epoch
# number; the upper bound keeps every deadline far inside what a datetime holds (year 9999) and far
# beyond any real case — and beyond the time-skipping test server's clock, which runs a century or
# so ahead of the wall clock in one run of the suite (it filed at 2106 when the bound was 2099).
YEARS = range(2000, 2500)


def _written_out(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("must be written out, e.g. 2026-03-02T09:30:00+08:00, not a number")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone offset, e.g. 2026-03-02T09:30:00+08:00")
    if value.year not in YEARS:
        raise ValueError(f"must lie in the years {YEARS[0]}–{YEARS[-1]}")
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_written_out), AfterValidator(_aware)]

PhoneNumber = Annotated[str, Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Complainant(_Record):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: PhoneNumber
    tier: Annotated[str, Field(min_length=1, max_length=30)] = "standard"


class Party(_Record):
    """Sender or recipient of the problem item (寄件人 / 收件人)."""

    name: Annotated[str | None, Field(max_length=100)] = None
    phone: PhoneNumber | None = None
    address: Annotated[str | None, Field(max_length=300)] = None


class Contents(_Record):
    """What was in the parcel, as far as urgency depends on it (DOMAIN §3)."""

    description: Annotated[str, Field(min_length=1, max_length=500)]
    declared_value_cny: Annotated[Decimal | None, Field(ge=0)] = None
    valid_days: Annotated[int | None, Field(ge=0, description="days the papers stay valid")] = None


class EvidenceRef(_Record):
    """A pointer to evidence held elsewhere: a recording, a photo, a scan record."""

    kind: Annotated[str, Field(min_length=1, max_length=40)]
    reference: Annotated[str, Field(min_length=1, max_length=500)]
    note: Annotated[str | None, Field(max_length=500)] = None


class ComplaintIntake(_Record):
    """The complaint record of DOMAIN §2, as filed by a channel or an agent."""

    channel: Channel
    received_at: AwareDatetime = Field(description="the channel's own time; may be earlier than filing")
    channel_message_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    complainant: Complainant
    sender: Party | None = None
    recipient: Party | None = None
    tracking_number: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9\-]{6,40}$")] = None
    category: Annotated[str, Field(min_length=1, max_length=60)]
    nature: Nature = Nature.COMPLAINT
    demand: Annotated[str | None, Field(max_length=2000)] = None
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    contents: Contents | None = None
    evidence: Annotated[list[EvidenceRef], Field(max_length=50)] = []
    progress_update_hours: Annotated[
        float | None, Field(gt=0, le=72, description="how often the customer asked to hear of progress (working hours)")
    ] = None
