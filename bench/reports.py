"""The monthly report, the measures and a filtered complaint page over 1,000,000 complaints (SQLite or PostgreSQL).

Generates a year of complaints (2025-11 … 2026-10) into the read model's own schema — with their
tickets and dispatches, reply events and timeline rows — then asks the API, in process:
`GET /reports/monthly?month=2026-10`, `GET /measures?period=month&at=2026-10` (all measures, and
grouped by office), and pages of `GET /complaints` with filters. Beside them, the reference: the
same month's measure counted by one bare SQL statement on the same database (what the database
alone needs). Targets: report and measures < 2 s each (`worst_s`), a filtered page < 50 ms.
`--database postgresql` runs it all on a throwaway PostgreSQL cluster (ops/postgres.py), the rows
loaded with COPY.

    .venv/bin/python bench/reports.py [COMPLAINTS] [--database sqlite|postgresql]      (default 1,000,000, sqlite)
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py would shadow the standard library's calendar: import from the repo root.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from asgi_lifespan import LifespanManager
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from bench._stack import DATABASES, read_model_url
from readmodel.store import ReadModel
from readmodel.tables import ComplaintRow, DispatchEventRow, DispatchRow, TimelineEventRow
from settings import Settings
from protection.keys import ensure_key_ring
from temporal_client import data_converter

START = datetime(2025, 10, 31, 16, tzinfo=UTC)  # 2025-11-01 00:00 in Shanghai
SPAN = timedelta(days=365)
CATEGORIES = ["delay", "loss_or_damage", "staff_attitude", "wrong_information", "packaging",
              "add_on_not_delivered", "fee_dispute", "special_request_not_met", "other"]
WEIGHTS = [30, 15, 10, 8, 8, 6, 10, 6, 7]
CHANNELS = ["hotline", "web_form", "app", "email", "wechat", "weibo", "letter", "walk_in"]
LEAD_UNITS = ["call-centre", "gd", "zj", "gd-gz", "zj-hz"]
STATIONS = ["gd-gz-tianhe", "gd-sz-nanshan", "zj-hz-xihu"]
TOKEN = {"Authorization": "Bearer dev-supervisor"}


def iso(t: datetime) -> str:
    """An instant as UTC text: how the read model stores it on SQLite; PostgreSQL reads it in UTC."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteRows:
    """Rows into the SQLite file with plain executemany."""

    def __init__(self, url: str) -> None:
        self.db = sqlite3.connect(url.removeprefix("sqlite:///"))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")

    def insert(self, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        self.db.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})", rows)

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.execute("ANALYZE")
        self.db.close()


class PostgresRows:
    """Rows into PostgreSQL with COPY, instants read as UTC."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url)
        self.db.execute("SET TimeZone = 'UTC'")

    def insert(self, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        with self.db.cursor().copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.autocommit = True
        self.db.execute("VACUUM ANALYZE")
        self.db.close()


def generate(url: str, count: int) -> dict[str, int]:
    """A year of complaints in the read model's schema."""
    rng = random.Random(7)
    db = SqliteRows(url) if url.startswith("sqlite") else PostgresRows(url)
    columns = [c.name for c in ComplaintRow.__table__.columns]
    dispatch_columns = [c.name for c in DispatchRow.__table__.columns]
    event_columns = [c.name for c in DispatchEventRow.__table__.columns]
    timeline_columns = [c.name for c in TimelineEventRow.__table__.columns]
    made = {"complaints": 0, "dispatches": 0, "dispatch_events": 0, "timeline_events": 0}
    batch = 20_000
    for first in range(0, count, batch):
        complaints, dispatches, events, timeline = [], [], [], []
        for n in range(first, min(first + batch, count)):
            cid = f"B{n:09d}"
            received = START + SPAN * (n / count) + timedelta(seconds=rng.randint(0, 59))
            closed = received + timedelta(hours=rng.randint(2, 96)) if rng.random() < 0.85 else None
            category = rng.choices(CATEGORIES, WEIGHTS)[0]
            row: dict[str, Any] = {c: None for c in columns}
            row.update(
                id=cid, workflow_id=f"complaint-{cid}", status="closed" if closed else rng.choice(["in_handling", "resolved"]),
                category=category, category_group="service_quality", urgency=rng.choice(["general"] * 4 + ["urgent"]),
                urgent_reasons="[]", level=rng.choice([1, 2, 2, 2, 2, 3]), level_reasons="[]", priority="normal",
                priority_reasons="[]", channel=rng.choice(CHANNELS), received_at=iso(received), filed_at=iso(received),
                filed_by="agent", lead_unit=rng.choice(LEAD_UNITS), tracking_number=f"EX{n:010d}CN", nature="complaint",
                complainant_name="Customer", complainant_phone=f"139{n:08d}", complainant_tier="standard",
                description="The parcel has not moved.", evidence="[]", handling_round=0,
                one_time_resolution=rng.random() < 0.8, closed_at=iso(closed) if closed else None, clocks="[]",
                missed_clocks=int(rng.random() < 0.1), complex_case=False, is_repeat=rng.random() < 0.06,
                repeat_of="[]", last_seq=3, updated_at=iso(closed or received),
            )
            complaints.append([row[c] for c in columns])
            timeline.append(_timeline(timeline_columns, cid, 1, received, "receive"))
            timeline.append(_timeline(timeline_columns, cid, 2, received, "classify"))
            if closed:
                satisfied = rng.random() < 0.9
                timeline.append(_timeline(timeline_columns, cid, 3, closed,
                                          "record_satisfied_callback" if satisfied else "record_dissatisfied_callback"))
            if rng.random() < 0.4:
                kind = rng.choice(["ticket", "direct_dispatch", "linked_dispatch"])
                due = received + timedelta(hours={"ticket": 40, "direct_dispatch": 3, "linked_dispatch": 5}[kind])
                answered = received + timedelta(hours=rng.uniform(0.5, 50)) if closed else None
                did = f"dispatch-{cid}-1"
                d: dict[str, Any] = {c: None for c in dispatch_columns}
                d.update(id=did, complaint_id=cid, kind=kind, priority="normal", unit=rng.choice(STATIONS),
                         status="answered" if answered else "open", instruction="check", raised_by="agent",
                         raised_at=iso(received), due=iso(due), due_local="", answered_at=iso(answered) if answered else None,
                         in_time=bool(answered and answered <= due), returns=0,
                         escalation_level=int(kind == "ticket" and not (answered and answered <= due)), last_seq=2)
                dispatches.append([d[c] for c in dispatch_columns])
                if answered:
                    events.append(_event(event_columns, did, cid, 2, answered, rng.choice(["answer"] * 9 + ["return_reply"])))
        db.insert("complaint", columns, complaints)
        db.insert("dispatch", dispatch_columns, dispatches)
        db.insert("dispatch_event", event_columns, events)
        db.insert("timeline_event", timeline_columns, timeline)
        db.commit()
        for key, rows in (("complaints", complaints), ("dispatches", dispatches), ("dispatch_events", events),
                          ("timeline_events", timeline)):
            made[key] += len(rows)
    db.close()
    return made


def _timeline(columns: list[str], cid: str, seq: int, at: datetime, action: str) -> list[Any]:
    row = {c: None for c in columns}
    row.update(id=f"complaint-{cid}:{seq}", complaint_id=cid, seq=seq, at=iso(at), actor_id="agent", actor_name="Agent",
               actor_role="front_seat", actor_unit="call-centre", action=action, to_status="closed", detail="{}")
    return [row[c] for c in columns]


def _event(columns: list[str], did: str, cid: str, seq: int, at: datetime, action: str) -> list[Any]:
    row = {c: None for c in columns}
    row.update(id=f"{did}:{seq}", dispatch_id=did, complaint_id=cid, seq=seq, at=iso(at), actor_id="unit",
               actor_role="production_unit", actor_unit="x", action=action, to_status="answered", detail="{}")
    return [row[c] for c in columns]


async def timed_get(http: httpx.AsyncClient, url: str, params: dict[str, Any], runs: int) -> tuple[float, Any]:
    """The median of `runs` answers (after one warm-up), and the last answer's body."""
    times, body = [], None
    for attempt in range(runs + 1):
        began = time.perf_counter()
        resp = await http.get(url, params=params, headers=TOKEN)
        elapsed = time.perf_counter() - began
        assert resp.status_code == 200, f"{url} {params}: {resp.status_code} {resp.text[:300]}"
        body = resp.json() if "json" in resp.headers.get("content-type", "") else resp.text
        if attempt:
            times.append(elapsed)
    return statistics.median(times), body


def bare_measure(url: str) -> float:
    """The reference: October's ticket timeliness counted by one SQL statement, no API around it."""
    october = ("2026-09-30 16:00:00", "2026-10-31 16:00:00")  # Shanghai's October in UTC
    timely = "SELECT count(*) FILTER (WHERE answered_at <= due), count(*) FROM dispatch WHERE kind = 'ticket'" \
             " AND due >= {p} AND due < {p} AND status != 'cancelled'"
    by_category = "SELECT category, count(*) FROM complaint WHERE received_at >= {p} AND received_at < {p}" \
                  " GROUP BY category"
    if url.startswith("sqlite"):
        db: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
        mark = "?"
    else:
        db = psycopg.connect(url)
        db.execute("SET TimeZone = 'UTC'")
        mark = "%s"
    began = time.perf_counter()
    db.execute(timely.format(p=mark), october).fetchone()
    db.execute(by_category.format(p=mark), october).fetchall()
    elapsed = time.perf_counter() - began
    db.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("complaints", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--database", choices=DATABASES, default="sqlite", help="the read model's database")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    with read_model_url(args.database, data) as url:
        await measure(args.complaints, args.database, Settings(database_url=url, data_dir=data))


async def measure(count: int, database: str, settings: Settings) -> None:
    ensure_key_ring(settings.payload_key_ring_path)  # a throw-away ring in the throw-away data dir
    schema = ReadModel(settings.database_url)
    schema.create_schema()
    schema.dispose()
    began = time.perf_counter()
    made = generate(settings.database_url, count)
    print(f"generated {made} in {time.perf_counter() - began:.0f} s into {database}")

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"), data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error"])
    try:
        app = create_app(settings, temporal=env.client)
        async with LifespanManager(app) as manager:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://api",
                                         timeout=60) as http:
                report_s, report = await timed_get(http, "/reports/monthly", {"month": "2026-10"}, 3)
                measures_s, measures = await timed_get(http, "/measures", {"period": "month", "at": "2026-10"}, 3)
                office_s, _ = await timed_get(http, "/measures", {"period": "month", "at": "2026-10", "group_by": "office"}, 3)
                pages = []
                for params in ({"status": "in_handling", "page": 3},
                               {"category": "fee_dispute", "page": 2},
                               {"channel": "wechat", "page": 4},
                               {"category": "fee_dispute", "channel": "wechat", "page": 2},
                               {"unit": "gd", "received_from": "2026-10-01T00:00:00+08:00",
                                "received_to": "2026-11-01T00:00:00+08:00", "page": 5},
                               {"tracking_number": f"EX{count // 2:010d}CN"}):
                    seconds, page = await timed_get(http, "/complaints", {**params, "page_size": 50}, 5)
                    pages.append(seconds)
                    print(f"GET /complaints {params}: {seconds * 1000:.1f} ms, total {page['total']}")
    finally:
        await env.shutdown()
    bare_s = bare_measure(settings.database_url)
    tickets = next(m for m in measures["measures"] if m["key"] == "ticket_timely_reply_rate")["groups"][0]
    print(f"October tickets in time: {tickets['numerator']} / {tickets['denominator']}")
    print(f"monthly report {report_s:.3f} s, measures {measures_s:.3f} s (by office {office_s:.3f} s), "
          f"slowest page {max(pages) * 1000:.1f} ms; bare SQL for one measure and one count {bare_s:.3f} s")
    print(json.dumps({
        "database": database, "complaints": made["complaints"], "report_s": round(report_s, 3),
        "measures_s": round(measures_s, 3),
        "measures_by_office_s": round(office_s, 3), "worst_s": round(max(report_s, measures_s, office_s), 3),
        "page_ms": round(max(pages) * 1000, 1), "bare_sql_s": round(bare_s, 3),
    }))


if __name__ == "__main__":
    asyncio.run(main())
