"""The read model keeps the same rules on PostgreSQL as on SQLite.

Every test runs twice, once per backend (see conftest.database_url): a SQLite file and a real
PostgreSQL server started for the session. DATABASE_URL picks the backend in production.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import inspect

from readmodel.complaints import ComplaintFilter
from readmodel.store import ReadModel
from rules.actors import Actor, Role
from rules.classification import Urgency, classify
from rules.intake import ComplaintIntake
from rules.lifecycle import ComplaintAction, ComplaintStatus
from rules.policy import load_policy
from settings import ROOT
from tests.factories import complaint_body, urgent_body
from workflows.complaint_messages import (
    complaint_workflow_id,
    ComplaintChange,
    ComplaintFiling,
    intake_changes,
    TimelineEntry,
)

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
AGENT = Actor(id="agent-7", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre")
SUPERVISOR = Actor(id="sup-1", name="Chen Jie", role=Role.SUPERVISOR, unit="gd")
CST = timezone(timedelta(hours=8))


# -- factories --------------------------------------------------------------------------------


def a_filing(
    complaint_id: str = "C-0001",
    *,
    filed_at: datetime | None = None,
    filed_by: Actor = AGENT,
    body: dict[str, Any] | None = None,
    **overrides: Any,
) -> ComplaintFiling:
    """A complaint as the API files it: the intake, classified under the real policy."""
    intake = ComplaintIntake.model_validate(body or complaint_body(**overrides))
    return ComplaintFiling(
        complaint_id=complaint_id,
        intake=intake,
        classification=classify(intake, POLICY),
        filed_by=filed_by,
        filed_at=filed_at or intake.received_at + timedelta(minutes=3, microseconds=123456),
        lead_unit=filed_by.unit,
    )


def a_change(
    filing: ComplaintFiling,
    seq: int,
    action: ComplaintAction,
    from_status: ComplaintStatus,
    to_status: ComplaintStatus,
    *,
    at: datetime | None = None,
    handling_round: int = 1,
) -> ComplaintChange:
    """A later step of the workflow, as its record activity sends it."""
    return ComplaintChange(
        complaint_id=filing.complaint_id,
        workflow_id=complaint_workflow_id(filing.complaint_id),
        entry=TimelineEntry(
            seq=seq,
            at=at or filing.filed_at + timedelta(hours=seq),
            actor=SUPERVISOR,
            action=action,
            from_status=from_status,
            to_status=to_status,
            detail={"note": f"step {seq}"},
        ),
        status=to_status,
        handling_round=handling_round,
        one_time_resolution=True,
    )


def taken_into_handling(filing: ComplaintFiling) -> ComplaintChange:
    S = ComplaintStatus
    return a_change(filing, 3, ComplaintAction.TAKE_INTO_HANDLING, S.CLASSIFIED, S.IN_HANDLING)


def resolved(filing: ComplaintFiling) -> ComplaintChange:
    S = ComplaintStatus
    return a_change(filing, 4, ComplaintAction.RESOLVE, S.IN_HANDLING, S.RESOLVED)


def closed_unresolvable(filing: ComplaintFiling, seq: int = 5) -> ComplaintChange:
    S = ComplaintStatus
    return a_change(filing, seq, ComplaintAction.CLOSE_UNRESOLVABLE, S.RESOLVED, S.CLOSED)


def file_all(store: ReadModel, *filings: ComplaintFiling) -> None:
    for filing in filings:
        store.complaints.record(intake_changes(filing))


def snapshot(store: ReadModel, complaint_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    found = store.complaints.get(complaint_id)
    assert found is not None, f"{complaint_id} not in the read model"
    row, events = found
    return row.model_dump(), [e.model_dump() for e in events]


def search_ids(store: ReadModel, sort: str = "received_at", descending: bool = False, **flt: Any) -> list[str]:
    rows, total = store.complaints.search(ComplaintFilter(**flt), offset=0, limit=100, sort=sort, descending=descending)
    assert total == len(rows)
    return [r.id for r in rows]


# -- schema and writes ------------------------------------------------------------------------


def test_create_schema_makes_the_tables_and_can_run_again(read_model: ReadModel) -> None:
    read_model.create_schema()  # every worker and API process calls it at start-up

    tables = set(inspect(read_model.engine).get_table_names())
    assert {"complaint", "timeline_event"} <= tables


def test_processes_starting_together_on_an_empty_database_all_get_the_schema(database_url: str) -> None:
    """The API and every worker replica call create_schema at start-up, at the same moment."""
    stores = [ReadModel(database_url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    failures: list[str] = []

    def start_up(store: ReadModel) -> None:
        start.wait()
        try:
            store.create_schema()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

    try:
        with ThreadPoolExecutor(max_workers=len(stores)) as pool:
            list(pool.map(start_up, stores))
    finally:
        for store in stores:
            store.dispose()
    assert failures == []


def test_filing_creates_the_complaint_row_and_two_timeline_rows(read_model: ReadModel) -> None:
    filing = a_filing(body=urgent_body(channel="app", tracking_number="EX1234567890CN"))

    read_model.complaints.record(intake_changes(filing))

    row, events = snapshot(read_model, filing.complaint_id)
    assert row["workflow_id"] == complaint_workflow_id(filing.complaint_id)
    assert row["status"] == ComplaintStatus.CLASSIFIED
    assert row["last_seq"] == 2
    assert (row["category"], row["urgency"], row["level"]) == ("delay", Urgency.URGENT, 2)
    assert (row["channel"], row["lead_unit"], row["filed_by"]) == ("app", "call-centre", "agent-7")
    assert row["tracking_number"] == "EX1234567890CN"
    assert row["complainant_phone"] == "13800138000"
    assert row["contents"] == {"description": "passport", "declared_value_cny": None, "valid_days": None}
    assert row["urgent_reasons"] == [r.model_dump(mode="json") for r in filing.classification.urgent_reasons]
    assert row["evidence"] == [{"kind": "call_recording", "reference": "rec://2026/03/02/0001", "note": None}]
    assert row["closed_at"] is None
    assert [(e["seq"], e["action"], e["from_status"], e["to_status"]) for e in events] == [
        (1, "receive", None, "received"),
        (2, "classify", "received", "classified"),
    ]
    assert [e["actor_id"] for e in events] == ["agent-7", "system"]
    assert events[1]["detail"] == filing.classification.model_dump(mode="json")


def test_recording_the_same_changes_again_adds_nothing(read_model: ReadModel) -> None:
    """A retried activity, or the API and the workflow both writing the intake: one copy."""
    filing = a_filing()
    read_model.complaints.record(intake_changes(filing))
    before = snapshot(read_model, filing.complaint_id)

    read_model.complaints.record(intake_changes(filing))
    for change in intake_changes(filing):
        read_model.complaints.record([change])

    assert snapshot(read_model, filing.complaint_id) == before
    assert read_model.complaints.search(ComplaintFilter(), offset=0, limit=10, sort="received_at", descending=False)[1] == 1


def test_concurrent_writers_of_the_same_changes_leave_one_copy(read_model: ReadModel) -> None:
    filing = a_filing()
    changes = intake_changes(filing)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: read_model.complaints.record(changes), range(12)))

    row, events = snapshot(read_model, filing.complaint_id)
    assert (row["status"], row["last_seq"], len(events)) == ("classified", 2, 2)


def test_an_older_change_arriving_late_does_not_move_the_row_backwards(read_model: ReadModel) -> None:
    filing = a_filing()
    read_model.complaints.record(intake_changes(filing))
    read_model.complaints.record([resolved(filing)])  # seq 4 lands first
    read_model.complaints.record([taken_into_handling(filing)])  # seq 3 arrives late
    read_model.complaints.record(intake_changes(filing))  # and the intake is replayed

    row, events = snapshot(read_model, filing.complaint_id)
    assert (row["status"], row["last_seq"], row["handling_round"]) == ("resolved", 4, 1)
    assert [e["seq"] for e in events] == [1, 2, 3, 4]  # the late change is still on the timeline


def test_closing_sets_closed_at_to_the_instant_of_the_change(read_model: ReadModel) -> None:
    filing = a_filing()
    closing = closed_unresolvable(filing)
    read_model.complaints.record([*intake_changes(filing), taken_into_handling(filing), resolved(filing), closing])

    row, _ = snapshot(read_model, filing.complaint_id)
    assert row["status"] == "closed"
    assert row["closed_at"] == closing.entry.at


def test_instants_come_back_as_aware_utc_equal_to_what_was_written(read_model: ReadModel) -> None:
    received = datetime(2026, 3, 2, 9, 0, 0, 654321, tzinfo=CST)  # a channel's local time
    filing = a_filing(received_at=received.isoformat(), filed_at=datetime(2026, 3, 2, 1, 5, 7, 1, tzinfo=UTC))
    later = a_change(
        filing,
        3,
        ComplaintAction.TAKE_INTO_HANDLING,
        ComplaintStatus.CLASSIFIED,
        ComplaintStatus.IN_HANDLING,
        at=datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    )
    read_model.complaints.record([*intake_changes(filing), later])

    row, events = snapshot(read_model, filing.complaint_id)
    instants = [row["received_at"], row["filed_at"], row["updated_at"], *(e["at"] for e in events)]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in instants)
    assert row["received_at"] == received
    assert row["received_at"].hour == 1  # 09:00 at +08:00 is 01:00 UTC
    assert row["filed_at"] == filing.filed_at
    assert [e["at"] for e in events] == [filing.filed_at, filing.filed_at, later.entry.at]


# -- reads ------------------------------------------------------------------------------------


def test_search_filters_by_status_urgency_level_tracking_number_unit_and_received_range(read_model: ReadModel) -> None:
    delay = a_filing("C-1", received_at="2026-03-01T10:00:00+08:00")
    urgent = a_filing("C-2", body=urgent_body(tracking_number="EX999000CN", received_at="2026-03-02T10:00:00+08:00"))
    injured = a_filing(
        "C-3", received_at="2026-03-03T10:00:00+08:00", tracking_number=None, description="The courier was injured."
    )
    regional = a_filing(
        "C-4", filed_by=SUPERVISOR, tracking_number="EX777000CN", received_at="2026-03-04T10:00:00+08:00"
    )
    file_all(read_model, delay, urgent, injured, regional)
    read_model.complaints.record([taken_into_handling(delay)])

    assert search_ids(read_model) == ["C-1", "C-2", "C-3", "C-4"]
    assert search_ids(read_model, status="in_handling") == ["C-1"]
    assert search_ids(read_model, status="classified") == ["C-2", "C-3", "C-4"]
    assert search_ids(read_model, urgency="urgent") == ["C-2"]
    assert search_ids(read_model, level=1) == ["C-3"]
    assert search_ids(read_model, level=2, urgency="general") == ["C-1", "C-4"]
    assert search_ids(read_model, tracking_number="EX999000CN") == ["C-2"]
    assert search_ids(read_model, unit="gd") == ["C-4"]
    assert search_ids(read_model, category="delay", channel="hotline") == ["C-1", "C-2", "C-3", "C-4"]
    assert search_ids(read_model, status="closed") == []


def test_received_range_includes_its_start_excludes_its_end_in_any_offset(read_model: ReadModel) -> None:
    file_all(
        read_model,
        a_filing("C-1", received_at="2026-03-01T23:59:59.999999+08:00"),
        a_filing("C-2", received_at="2026-03-02T00:00:00+08:00"),
        a_filing("C-3", received_at="2026-03-02T23:59:59+08:00"),
        a_filing("C-4", received_at="2026-03-03T00:00:00+08:00"),
    )
    day_in_beijing = dict(received_from=datetime(2026, 3, 2, tzinfo=CST), received_to=datetime(2026, 3, 3, tzinfo=CST))
    same_day_in_utc = dict(
        received_from=datetime(2026, 3, 1, 16, tzinfo=UTC), received_to=datetime(2026, 3, 2, 16, tzinfo=UTC)
    )

    assert search_ids(read_model, **day_in_beijing) == ["C-2", "C-3"]
    assert search_ids(read_model, **same_day_in_utc) == ["C-2", "C-3"]
    assert search_ids(read_model, received_from=datetime(2026, 3, 2, 16, tzinfo=UTC)) == ["C-4"]


def test_search_pages_and_sorts_with_the_id_breaking_ties(read_model: ReadModel) -> None:
    filings = [a_filing(f"C-{day}", received_at=f"2026-03-0{day}T10:00:00+08:00") for day in range(1, 6)]
    filings.append(a_filing("C-0", received_at="2026-03-09T10:00:00+08:00", description="Someone was injured."))
    file_all(read_model, *filings)

    def page(offset: int, limit: int, sort: str = "received_at", descending: bool = True) -> tuple[list[str], int]:
        rows, total = read_model.complaints.search(ComplaintFilter(), offset=offset, limit=limit, sort=sort, descending=descending)
        return [r.id for r in rows], total

    assert page(0, 2) == (["C-0", "C-5"], 6)
    assert page(2, 2) == (["C-4", "C-3"], 6)
    assert page(4, 2) == (["C-2", "C-1"], 6)
    assert page(6, 2) == ([], 6)
    assert page(0, 6, descending=False)[0] == ["C-1", "C-2", "C-3", "C-4", "C-5", "C-0"]
    # level 1 first, then the level-2 ones in id order, whichever way the level runs
    assert page(0, 6, sort="level", descending=False)[0] == ["C-0", "C-1", "C-2", "C-3", "C-4", "C-5"]
    assert page(0, 6, sort="level", descending=True)[0] == ["C-1", "C-2", "C-3", "C-4", "C-5", "C-0"]
    assert page(1, 2, sort="level", descending=False)[0] == ["C-1", "C-2"]


def test_earlier_complaints_count_same_phone_or_parcel_inside_the_window_but_not_itself(
    read_model: ReadModel,
) -> None:
    phone, parcel = "13800138000", "EX1234567890CN"
    other = {"name": "Zhao Lei", "phone": "13900000000", "tier": "standard"}
    file_all(
        read_model,
        a_filing("C-1", received_at="2026-02-01T10:00:00+08:00", tracking_number=parcel),  # same phone, before the window
        a_filing("C-2", received_at="2026-02-20T10:00:00+08:00", tracking_number="EX555000CN"),  # same phone
        a_filing("C-3", received_at="2026-02-25T10:00:00+08:00", complainant=other, tracking_number=parcel),  # same parcel
        a_filing("C-4", received_at="2026-02-26T10:00:00+08:00", complainant=other, tracking_number="EX000111CN"),
        a_filing("C-5", received_at="2026-03-02T09:00:00+08:00", tracking_number=parcel),  # the complaint being filed
    )
    since = datetime(2026, 2, 15, tzinfo=CST)

    def earlier(tracking_number: str | None, *, exclude_id: str = "C-5", since: datetime = since) -> int:
        return read_model.complaints.earlier_complaints(
            phone=phone, tracking_number=tracking_number, since=since, exclude_id=exclude_id
        )

    assert earlier(parcel) == 2  # C-2 by phone, C-3 by parcel; C-1 is too old, C-4 unrelated, C-5 itself
    assert earlier(None) == 1  # phone only: C-2
    assert earlier(parcel, exclude_id="C-new") == 3  # a new complaint does not exclude C-5
    assert earlier(parcel, since=datetime(2026, 2, 20, 2, tzinfo=UTC)) == 2  # the window's start is inclusive


def test_a_change_for_an_unknown_complaint_writes_its_timeline_only(read_model: ReadModel) -> None:
    """Never a half-made complaint row: only the filing change creates one."""
    filing = a_filing()

    read_model.complaints.record([taken_into_handling(filing)])

    assert read_model.complaints.get(filing.complaint_id) is None
    assert read_model.complaints.search(ComplaintFilter(), offset=0, limit=10, sort="received_at", descending=False) == ([], 0)

