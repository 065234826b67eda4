"""What intake reads for a repeat (DOMAIN §2, rules/repeats.py): the repeat window runs from the
earlier case's closing, so a case received long ago and closed inside the window is among the
earlier complaints intake is given, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from readmodel.store import ReadModel
from rules.intake import ComplaintIntake
from rules.policy import load_policy
from rules.repeats import repeat_of
from settings import ROOT
from tests.factories import complaint_body, stored
from tests.readmodel.test_measures import complaint

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
REPEAT_WINDOW = timedelta(days=POLICY.priority.repeat_window_days)  # 30 days
MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
PARCEL = "EX0000000077CN"


def test_a_case_closed_inside_the_window_is_a_repeat_however_long_ago_it_was_received(read_model: ReadModel) -> None:
    same = {"phone_key": "13800138000", "tracking_number": PARCEL}
    stored(read_model, [
        # received 45 days ago, closed 29 d 23 h 59 min before the new complaint: inside 30 days
        complaint("C-LONG", NOW - timedelta(days=45), closed=NOW - (REPEAT_WINDOW - MINUTE), **same),
        # received 31 days ago, closed 30 d 00 h 01 min before: outside
        complaint("C-OLD", NOW - timedelta(days=31), closed=NOW - (REPEAT_WINDOW + MINUTE), **same),
    ])
    again = ComplaintIntake.model_validate(complaint_body(received_at=NOW.isoformat(), tracking_number=PARCEL))

    existing, earlier = read_model.complaints.intake_context(
        "C-NEW", phone="+86 138 0013 8000", tracking_number=PARCEL, since=NOW - REPEAT_WINDOW)

    assert existing is None
    assert repeat_of(again, earlier, REPEAT_WINDOW) == ["C-LONG"]
