"""Repeat and duplicate complaints at intake (DOMAIN §2).

A **duplicate** is the same complaint arriving again, usually through a second channel: same
customer, same parcel, same category, while the first case is open and inside the duplicate
window. It must not start a second case; it is linked to the first.
A **repeat** is the same customer or the same parcel complaining again after an earlier case was
closed, inside the repeat window: a new case, flagged, linked to the earlier ones, priority raised,
and counted in the repeat-complaint rate. The repeat window runs from the earlier case's *closing*:
a customer complains "again" about a handling that did not satisfy (seed 004: 處理結果未能滿足客戶需求,
導致客戶再次投訴), so a case that took three weeks to close still has its whole window after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.intake import ComplaintIntake


@dataclass(frozen=True)
class EarlierComplaint:
    """An earlier complaint of the same customer or parcel, as the read model knows it."""

    complaint_id: str
    status: str
    category: str
    complainant_phone: str
    tracking_number: str | None
    received_at: datetime
    closed_at: datetime | None = None  # when it closed (None: open, or closed before the read model kept it)

    @property
    def closed(self) -> bool:
        return self.status == "closed"


def duplicate_of(intake: ComplaintIntake, earlier: Sequence[EarlierComplaint], window: timedelta) -> str | None:
    """The open case this intake duplicates (the most recent one), or None."""
    same = [
        e for e in earlier
        if not e.closed
        and e.complainant_phone == intake.complainant.phone
        and e.tracking_number == intake.tracking_number
        and e.category == intake.category
        and abs(intake.received_at - e.received_at) <= window
    ]
    return max(same, key=lambda e: e.received_at).complaint_id if same else None


def repeat_of(intake: ComplaintIntake, earlier: Sequence[EarlierComplaint], window: timedelta) -> list[str]:
    """The closed cases of the same customer or parcel this complaint repeats, oldest first: those
    closed no more than `window` before this complaint was received (one whose closing time is not
    known is measured from its received time)."""
    def inside(e: EarlierComplaint) -> bool:
        return intake.received_at - (e.closed_at or e.received_at) <= window

    return [
        e.complaint_id
        for e in sorted(earlier, key=lambda e: e.received_at)
        if e.closed and inside(e) and (
            e.complainant_phone == intake.complainant.phone
            or (intake.tracking_number is not None and e.tracking_number == intake.tracking_number)
        )
    ]
