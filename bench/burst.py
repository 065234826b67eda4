"""The 10:00 peak: N linked dispatches due at one instant, overdue notices in the outbox, next to bare timers.

Project: the linked-dispatch rule (check windows, seed 000) puts every dispatch that arrived before
the first check of the day at the second check, the daily 10:00 peak. A bench policy
(bench/burst_policy.py) keeps that rule and only moves the check times a few minutes ahead (the
production units working around the clock), so N dispatches raised through the API
(POST /complaints/{id}/dispatches, kind linked_dispatch, ≤ `--per-complaint` per complaint) all fall
due at one instant. Measured: from that instant until the outbox holds every overdue notice (one
`escalation-1-director` row per dispatch and director phone; SMS goes to a local gateway answering
201, e-mail is not configured so that channel is skipped).

Bare: N workflows of a bench-local workflow that sleep to one absolute instant and then run one
activity inserting a row into a SQLite table (WAL), on a worker in this process with the settings
worker.py uses (32 activity threads, 32 concurrent activities). Measured the same way: from the
instant until all N rows are there.

Same dev server (SQLite file, like `make run`), same run: bare first, then the project, so the bare
side meets the smaller server (the ratio is not flattered by that). Both figures are taken from the
rows' own timestamps (last row written − due instant); the ~50 ms polls only tell when to stop.
Target: ratio = project_s / bare_s ≤ 1.5. The last line printed is one JSON object.
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
import math
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import yaml
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bench._stack import embedded_stack, free_port
from bench.burst_policy import check_times, pick_zone, placeholder_windows, write_bench_policy

STATIONS = ("gd-gz-tianhe", "gd-sz-nanshan", "zj-hz-xihu")
LANES = 16  # HTTP requests in flight while setting up (as bench/intake.py)
POLL = 0.05
ACTIVITY_THREADS = 32  # worker.py's ACTIVITY_THREADS
FRONT_SEAT = {"Authorization": "Bearer dev-front-seat"}
REGIONAL_CS = {"Authorization": "Bearer dev-regional-cs"}


# -- the bare reference ---------------------------------------------------------------------------


class BareRows:
    """One SQLite file (WAL) the bare activity inserts into; a connection per activity thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS fired (id TEXT PRIMARY KEY, at REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
        return db

    @activity.defn(name="bare_insert")
    def insert(self, row_id: str) -> None:
        db = self._db()
        db.execute("INSERT OR IGNORE INTO fired (id, at) VALUES (?, ?)", (row_id, time.time()))
        db.commit()


@workflow.defn(sandboxed=False)
class BareTimerWorkflow:
    @workflow.run
    async def run(self, until: datetime) -> None:
        await workflow.sleep(max(until - workflow.now(), timedelta(milliseconds=1)))
        await workflow.execute_activity("bare_insert", workflow.info().workflow_id,
                                        start_to_close_timeout=timedelta(seconds=30))


# -- a local SMS gateway --------------------------------------------------------------------------


@contextmanager
def sms_gateway() -> Iterator[dict[str, Any]]:
    """Answers 201 to POST /messages (409 to a repeated Idempotency-Key, like a real gateway)."""
    seen: set[str] = set()
    stats = {"requests": 0, "url": ""}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key") or uuid.uuid4().hex
            with lock:
                stats["requests"] += 1
                status = 201 if key not in seen else 409
                seen.add(key)
            if self.path != "/messages":
                status = 404
            body = b'{"status": "accepted"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    stats["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        server.shutdown()
        server.server_close()


# -- helpers --------------------------------------------------------------------------------------


async def in_lanes(count: int, one: Callable[[int], Awaitable[None]], lanes: int = LANES) -> float:
    queue = iter(range(count))

    async def lane() -> None:
        for i in queue:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return time.perf_counter() - started


def scalar(db_path: Path, sql: str, *args: Any) -> Any:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchone()[0]


def rows(db_path: Path, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def utc(text: str) -> datetime:
    """An instant as the read model stores it on SQLite (naive UTC text)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def sleep_until(instant: datetime) -> None:
    while (left := (instant - datetime.now(UTC)).total_seconds()) > 0:
        await asyncio.sleep(min(left, 1.0))


async def wait_for_count(count: Callable[[], int], target: int, timeout: float, what: str) -> float:
    """Poll until count() reaches target; the wall time (epoch s) it was first seen there."""
    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    while True:
        seen = await asyncio.to_thread(count)
        if seen >= target:
            return time.time()
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: {seen} of {target} after {timeout:.0f} s")
        if time.monotonic() - last_report > 15:
            print(f"  … {what}: {seen}/{target}", flush=True)
            last_report = time.monotonic()
        await asyncio.sleep(POLL)


def complaint(i: int, run: str, received_at: datetime) -> dict:
    return {
        "channel": "hotline",
        "received_at": received_at.isoformat(),
        "complainant": {"name": f"Burst customer {i}", "phone": f"1390{i:07d}"},
        "tracking_number": f"BU{run}{i:07d}",
        "category": "delay",  # first contact due in 120 working minutes: no clock fires during the bench
        "description": "The parcel has not moved for three days.",
    }


def notices_per_dispatch(policy: dict, unit: str) -> int:
    """Overdue notice rows one dispatch to `unit` makes: one per director phone of the unit above."""
    above = policy["units"][unit]["parent"]
    holders = [h for h in policy["directory"] if h["role"] == "director" and h["unit"] == above]
    return sum(1 for h in holders if h.get("phone"))  # SMS only: no SMTP configured in the bench


# -- the two measurements -------------------------------------------------------------------------


async def bare(client: Client, n: int, rows_db: BareRows, lead: float) -> dict:
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(ACTIVITY_THREADS) as pool:
        async with Worker(
            client,
            task_queue=f"bare-burst-{run}",
            workflows=[BareTimerWorkflow],
            activities=[rows_db.insert],
            activity_executor=pool,
            max_concurrent_activities=ACTIVITY_THREADS,
            max_concurrent_local_activities=ACTIVITY_THREADS,
        ):
            until = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)

            async def start(i: int) -> None:
                await client.start_workflow(BareTimerWorkflow.run, until, id=f"bare-burst-{run}-{i}",
                                            task_queue=f"bare-burst-{run}")

            took = await in_lanes(n, start)
            left = (until - datetime.now(UTC)).total_seconds()
            print(f"bare: {n} timer workflows started in {took:.1f} s; {left:.1f} s to their instant", flush=True)
            if left < 2:
                raise SystemExit("bare: the starts ran into the timers' instant; raise --bare-lead")
            await sleep_until(until)
            polled = await wait_for_count(
                lambda: scalar(rows_db.path, "SELECT count(*) FROM fired"), n, 300, "bare rows")
            last = scalar(rows_db.path, "SELECT max(at) FROM fired")
            early = scalar(rows_db.path, "SELECT count(*) FROM fired WHERE at < ?", until.timestamp())
            if early:
                raise SystemExit(f"bare: {early} rows written before the instant")
    return {"bare_s": last - until.timestamp(), "bare_polled_s": polled - until.timestamp(),
            "bare_start_s": took}


async def project(http: httpx.AsyncClient, settings: Any, n: int, per_complaint: int, policy_path: Path,
                  zone: str, raise_budget: float | None, settle: float) -> dict:
    readmodel = Path(settings.database_url.removeprefix("sqlite:///"))
    run = uuid.uuid4().hex[:6]
    complaints = math.ceil(n / per_complaint)
    received_at = datetime.now(UTC) - timedelta(minutes=1)
    ids: list[str] = []

    async def file(i: int) -> None:
        resp = await http.post("/complaints", json=complaint(i, run, received_at),
                               headers={**FRONT_SEAT, "Idempotency-Key": f"burst-{run}-{i}"})
        assert resp.status_code == 201, resp.text
        cid = resp.json()["complaint_id"]
        resp = await http.post(f"/complaints/{cid}/handling", json={"note": "burst bench"}, headers=FRONT_SEAT)
        assert resp.status_code == 200, resp.text
        ids.append(cid)

    took = await in_lanes(complaints, file)
    per_update = took * LANES / (2 * complaints)  # one POST /complaints + one update ≈ two updates
    print(f"project: {complaints} complaints filed and taken into handling in {took:.1f} s", flush=True)

    # The check times: every dispatch must arrive (start its clock) before the first one.
    if raise_budget is None:
        raise_budget = 20 + 3.0 * n * per_update / LANES
    now = datetime.now(UTC)
    due = (now + timedelta(seconds=raise_budget + settle)).replace(microsecond=0)
    first_check = due - timedelta(seconds=settle)
    windows = check_times(due, zone, timedelta(seconds=settle))
    write_bench_policy(policy_path, zone, windows)
    print(f"project: check times {windows[:3]}… ({zone}); raising {n} linked dispatches, "
          f"due {due:%H:%M:%S} UTC ({raise_budget:.0f} s budget)", flush=True)
    await asyncio.sleep(0.5)

    units: dict[str, str] = {}

    async def raise_one(j: int) -> None:
        cid = ids[j % complaints]  # the k-th dispatch of every complaint, then the (k+1)-th
        unit = STATIONS[j % len(STATIONS)]
        resp = await http.post(f"/complaints/{cid}/dispatches", headers=REGIONAL_CS, json={
            "kind": "linked_dispatch", "unit": unit,
            "instruction": f"Check why parcel {j} has not moved and reply with the failing link.",
        })
        assert resp.status_code == 201, resp.text
        units[resp.json()["dispatch_id"]] = unit

    raised_in = await in_lanes(n, raise_one)
    print(f"project: {n} dispatches raised in {raised_in:.1f} s ({n / raised_in:.1f}/s)", flush=True)

    # Every clock started and in the read model, all on the one due instant.
    ids_sql = ",".join("?" * len(units))
    await wait_for_count(lambda: scalar(readmodel, f"SELECT count(*) FROM dispatch WHERE due IS NOT NULL "
                                                   f"AND id IN ({ids_sql})", *units), n, 120,
                         "dispatch clocks started")
    dues = rows(readmodel, f"SELECT due, count(*) FROM dispatch WHERE id IN ({ids_sql}) GROUP BY due", *units)
    if len(dues) != 1 or utc(dues[0][0]) != due:
        raise SystemExit(f"project: dispatches not all due at {due.isoformat()}: {dues} — raising took longer "
                         f"than the budget of {raise_budget:.0f} s; pass a larger --raise-budget")
    margin = (first_check - datetime.now(UTC)).total_seconds()
    print(f"project: all {n} due at {due:%H:%M:%S} UTC; {(due - datetime.now(UTC)).total_seconds():.1f} s to wait",
          flush=True)

    policy = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    expected = sum(notices_per_dispatch(policy, u) for u in units.values())
    step = "escalation-1-%"
    early = scalar(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ?", step)
    if early:
        raise SystemExit(f"project: {early} overdue notices before the due instant")
    await sleep_until(due)
    polled = await wait_for_count(
        lambda: scalar(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ?", step),
        expected, 300, "overdue notices in the outbox")
    last = utc(scalar(readmodel, "SELECT max(created_at) FROM outbox_message WHERE step LIKE ?", step))
    first = utc(scalar(readmodel, "SELECT min(created_at) FROM outbox_message WHERE step LIKE ?", step))
    found = scalar(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ?", step)
    per_case = rows(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ? GROUP BY case_id "
                               "HAVING count(*) != 1", step)
    if found != expected or per_case or first < due:
        raise SystemExit(f"project: {found} notices for {expected} expected; {len(per_case)} dispatches with "
                         f"more or fewer than one; first at {first.isoformat()} vs due {due.isoformat()}")
    # Sends finish after the outbox rows: wait (not timed) for every row to be delivered.
    await wait_for_count(
        lambda: scalar(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ? AND status='delivered'",
                       step), expected, 120, "overdue notices delivered")
    delivered_last = utc(scalar(readmodel, "SELECT max(delivered_at) FROM outbox_message WHERE step LIKE ?", step))
    return {
        "project_s": (last - due).total_seconds(),
        "project_polled_s": polled - due.timestamp(),
        "project_first_s": (first - due).total_seconds(),
        "project_delivered_s": (delivered_last - due).total_seconds(),
        "notices": found,
        "complaints": complaints,
        "raise_s": raised_in,
        "raise_margin_s": margin,
    }


async def measure(settings: Any, args: argparse.Namespace, policy_path: Path, zone: str, gateway: dict) -> dict:
    client = await Client.connect(settings.temporal_address)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=120) as http:
        for _ in range(150):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        else:
            raise SystemExit("the API did not answer /healthz")
        rows_db = BareRows(Path(tempfile.mkdtemp(prefix="burst-bare-")) / "bare.db")
        lead = args.bare_lead if args.bare_lead is not None else 15 + args.dispatches * 0.03
        figures = await bare(client, args.dispatches, rows_db, lead)
        figures |= await project(http, settings, args.dispatches, args.per_complaint, policy_path, zone,
                                 args.raise_budget, args.settle)
    figures["sms_requests"] = gateway["requests"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dispatches", type=int, default=1000)
    parser.add_argument("--per-complaint", type=int, default=10, help="linked dispatches per complaint (≤ 10)")
    parser.add_argument("--raise-budget", type=float, default=None,
                        help="seconds allowed for raising all dispatches (default: from the set-up's pace)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds between the first check time and the due instant")
    parser.add_argument("--bare-lead", type=float, default=None,
                        help="seconds from now to the bare timers' instant (default 15 + 0.03 × N)")
    args = parser.parse_args()
    if not 1 <= args.per_complaint <= 10:
        parser.error("--per-complaint must be 1..10")

    now = datetime.now(UTC)
    zone = pick_zone(now, timedelta(minutes=40))
    policy_path = Path(tempfile.mkdtemp(prefix="burst-policy-")) / "express_carrier.bench.yaml"
    write_bench_policy(policy_path, zone, placeholder_windows(now, zone))
    started = time.monotonic()
    with sms_gateway() as gateway:
        os.environ["POLICY_FILE"] = str(policy_path)
        os.environ["SMS_GATEWAY_URL"] = gateway["url"]
        for key in ("SMTP_HOST", "SMTP_FROM", "SMS_API_KEY"):
            os.environ.pop(key, None)
        with embedded_stack() as settings:
            figures = asyncio.run(measure(settings, args, policy_path, zone, gateway))
    n = args.dispatches
    ratio = figures["project_s"] / figures["bare_s"]
    print()
    print(f"{'burst of ' + str(n) + ' due at one instant':<44}{'seconds':>10}")
    print(f"{'project: due → all overdue notices in outbox':<44}{figures['project_s']:>10.2f}"
          f"   (polled {figures['project_polled_s']:.2f}, first row {figures['project_first_s']:.2f},"
          f" all SMS delivered {figures['project_delivered_s']:.2f})")
    print(f"{'bare: instant → all timer+activity rows':<44}{figures['bare_s']:>10.2f}"
          f"   (polled {figures['bare_polled_s']:.2f})")
    print(f"{'ratio project / bare':<44}{ratio:>10.2f}   (target ≤ 1.5)")
    print(f"set-up: {figures['complaints']} complaints, {n} dispatches raised in {figures['raise_s']:.1f} s, "
          f"{figures['notices']} notices, {figures['sms_requests']} SMS requests, "
          f"bare starts {figures['bare_start_s']:.1f} s, whole run {time.monotonic() - started:.0f} s")
    print(json.dumps({"dispatches": n, "project_s": round(figures["project_s"], 2),
                      "bare_s": round(figures["bare_s"], 2), "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
