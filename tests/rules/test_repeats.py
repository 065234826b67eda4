"""Duplicates and repeats at intake (DOMAIN §2; rules/repeats.py). The windows come from the policy:
`priority.duplicate_window_hours` (72) between the two received times, `priority.repeat_window_days`
(30) from the earlier case's closing to this complaint's receipt (seed 004: a customer complains
again because the handling did not satisfy)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.intake import ComplaintIntake
from rules.policy import load_policy
from rules.repeats import EarlierComplaint, duplicate_of, repeat_of
from settings import ROOT
from tests.factories import complaint_body

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
DUPLICATE_WINDOW = timedelta(hours=POLICY.priority.duplicate_window_hours)
REPEAT_WINDOW = timedelta(days=POLICY.priority.repeat_window_days)
MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE, PARCEL = "13800138000", "EX0000000001CN"


def intake(**changes: object) -> ComplaintIntake:
    body = complaint_body(received_at=NOW.isoformat(), tracking_number=PARCEL, category="delay",
                          complainant={"name": "Li Na", "phone": PHONE})
    body.update(changes)
    return ComplaintIntake.model_validate(body)


def earlier(complaint_id: str, *, received: datetime, status: str = "in_handling", closed: datetime | None = None,
            phone: str = PHONE, parcel: str | None = PARCEL, category: str = "delay") -> EarlierComplaint:
    return EarlierComplaint(complaint_id, status, category, phone, parcel, received, closed)


def test_the_policy_windows_are_72_hours_and_30_days() -> None:
    assert (DUPLICATE_WINDOW, REPEAT_WINDOW) == (timedelta(hours=72), timedelta(days=30))


def test_the_duplicate_window_edges() -> None:
    # received 71 h 59 min after the open case: inside 72 h, a duplicate; 72 h 01 min: outside
    inside = earlier("C-1", received=NOW - (DUPLICATE_WINDOW - MINUTE))
    outside = earlier("C-2", received=NOW - (DUPLICATE_WINDOW + MINUTE))
    assert duplicate_of(intake(), [inside], DUPLICATE_WINDOW) == "C-1"
    assert duplicate_of(intake(), [outside], DUPLICATE_WINDOW) is None
    assert duplicate_of(intake(), [earlier("C-3", received=NOW - DUPLICATE_WINDOW)], DUPLICATE_WINDOW) == "C-3"  # 72 h: "no more than"


def test_a_duplicate_is_the_same_phone_parcel_and_category_of_an_open_case() -> None:
    hour_ago = NOW - timedelta(hours=1)
    assert duplicate_of(intake(), [earlier("C-1", received=hour_ago, status="closed", closed=hour_ago)],
                        DUPLICATE_WINDOW) is None  # closed: a repeat, not a duplicate
    assert duplicate_of(intake(), [earlier("C-2", received=hour_ago, phone="13900139000")], DUPLICATE_WINDOW) is None
    assert duplicate_of(intake(), [earlier("C-3", received=hour_ago, parcel="EX0000000002CN")], DUPLICATE_WINDOW) is None
    assert duplicate_of(intake(), [earlier("C-4", received=hour_ago, category="packaging")], DUPLICATE_WINDOW) is None
    # two open cases match: the most recent one is joined
    two = [earlier("C-5", received=NOW - timedelta(hours=30)), earlier("C-6", received=NOW - timedelta(hours=2))]
    assert duplicate_of(intake(), two, DUPLICATE_WINDOW) == "C-6"


def test_the_repeat_window_runs_from_the_earlier_cases_closing() -> None:
    # received 40 days ago, closed 29 d 23 h 59 min before this complaint: inside the 30 days, a repeat
    long_case = earlier("C-1", received=NOW - timedelta(days=40), status="closed", closed=NOW - (REPEAT_WINDOW - MINUTE))
    # closed 30 d 00 h 01 min before: outside
    old_case = earlier("C-2", received=NOW - timedelta(days=31), status="closed", closed=NOW - (REPEAT_WINDOW + MINUTE))
    assert repeat_of(intake(), [long_case], REPEAT_WINDOW) == ["C-1"]
    assert repeat_of(intake(), [old_case], REPEAT_WINDOW) == []


def test_a_repeat_is_the_same_customer_or_the_same_parcel_of_a_closed_case() -> None:
    day = timedelta(days=1)
    cases = [
        earlier("C-3", received=NOW - 3 * day, status="closed", closed=NOW - 2 * day, parcel="EX0000000009CN"),  # same phone
        earlier("C-1", received=NOW - 9 * day, status="closed", closed=NOW - 8 * day, phone="13900139000"),  # same parcel
        earlier("C-2", received=NOW - 5 * day, status="in_handling"),  # open: no repeat
        earlier("C-4", received=NOW - 4 * day, status="closed", closed=NOW - 3 * day, phone="13900139000",
                parcel="EX0000000009CN"),  # another customer and parcel
    ]
    assert repeat_of(intake(), cases, REPEAT_WINDOW) == ["C-1", "C-3"]  # oldest first
    assert repeat_of(intake(tracking_number=None), cases, REPEAT_WINDOW) == ["C-3"]  # no parcel: by phone only


def test_a_closed_case_without_its_closing_time_is_measured_from_its_receipt() -> None:
    kept = earlier("C-1", received=NOW - (REPEAT_WINDOW - MINUTE), status="closed")
    gone = earlier("C-2", received=NOW - (REPEAT_WINDOW + MINUTE), status="closed")
    assert repeat_of(intake(), [kept, gone], REPEAT_WINDOW) == ["C-1"]
