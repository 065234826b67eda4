"""Small builders for test cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

# Each complaint about its own parcel unless a test says otherwise: the same customer, parcel and
# category again while the first is open is a duplicate, and joins the first case.
_parcels = itertools.count(1)


def just_now() -> str:
    """A received time a minute ago: the customer's clocks start running now."""
    return (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "hotline",
        "received_at": just_now(),
        "complainant": {"name": "Li Na", "phone": "13800138000", "tier": "standard"},
        "sender": {"name": "Zhang San", "address": "Tianhe, Guangzhou"},
        "recipient": {"name": "Li Na", "phone": "13800138000", "address": "Xihu, Hangzhou"},
        "tracking_number": f"EX{next(_parcels):010d}CN",
        "category": "delay",
        "demand": "deliver it tomorrow",
        "description": "The parcel has not moved for three days.",
        "evidence": [{"kind": "call_recording", "reference": "rec://2026/03/02/0001"}],
    }
    body.update(overrides)
    return body


def urgent_body(**overrides: Any) -> dict[str, Any]:
    return complaint_body(
        description="My passport has not arrived and I fly on Friday.",
        contents={"description": "passport"},
        **overrides,
    )


def stored(read_model: Any, rows: list[Any]) -> None:
    """Hand-built read-model rows, written in one transaction."""
    from sqlmodel import Session

    with Session(read_model.engine) as session:
        session.add_all(rows)
        session.commit()
