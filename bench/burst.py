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
Target: ratio = project_s / bare_s ≤ 1.5. The last line printed is one JSON object. The bare timers'
lead, the time allowed for raising the dispatches and the waits are derived from the pace of a probe
(n / 20 starts, and as many dispatches raised on complaints of their own) in the same run, so a slow
machine gets more room instead of a stop.
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
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from temporalio.client import Client

from bench._stack import (LANES, BareRows, BareTimerWorkflow, bare_worker, embedded_stack, in_lanes, rows, scalar,
                          sleep_until, sms_gateway, utc, wait_for_api, wait_for_count)
from bench.burst_policy import check_times, pick_zone, placeholder_windows, write_bench_policy

STATIONS = ("gd-gz-tianhe", "gd-sz-nanshan", "zj-hz-xihu")
SMS_NOTICES = "outbox_message WHERE channel = 'sms' AND step LIKE ?"
FRONT_SEAT = {"Authorization": "Bearer dev-front-seat"}
REGIONAL_CS = {"Authorization": "Bearer dev-regional-cs"}


# -- helpers --------------------------------------------------------------------------------------


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


# Leads, budgets and waits come from the pace measured in the same run (a slow, busy machine takes
# 44 s for 1,000 starts where an idle one takes 11): room for SAFETY times that pace, plus a margin.
# The pace falls as a run goes on: 1,000 dispatches were raised in 1.8 × the probe's pace.
SAFETY = 3.0
MARGIN_S = 10.0


async def start_pace(client: Client, n: int, task_queue: str) -> float:
    """Seconds per start, `LANES` at a time, of a probe (n / 20, at least 2 × LANES) of the bare timer
    workflows, their first task run by the worker as the real ones' is; due in a day, they never fire."""
    run, probe = uuid.uuid4().hex[:6], min(n, max(2 * LANES, n // 20))
    far = datetime.now(UTC) + timedelta(days=1)
    took = await in_lanes(probe, lambda i: client.start_workflow(
        BareTimerWorkflow.run, far, id=f"bare-probe-{run}-{i}", task_queue=task_queue))
    return took / probe


async def bare(client: Client, n: int, rows_db: BareRows, lead: float | None) -> dict:
    run = uuid.uuid4().hex[:6]
    async with bare_worker(client, f"bare-burst-{run}", rows_db):
        pace = await start_pace(client, n, f"bare-burst-{run}")
        if lead is None:
            lead = MARGIN_S + SAFETY * n * pace
        until = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)

        async def start(i: int) -> None:
            await client.start_workflow(BareTimerWorkflow.run, until, id=f"bare-burst-{run}-{i}",
                                        task_queue=f"bare-burst-{run}")

        took = await in_lanes(n, start)
        left = (until - datetime.now(UTC)).total_seconds()
        print(f"bare: {n} timer workflows started in {took:.1f} s (a probe's pace: {n * pace:.1f} s; "
              f"lead {lead:.0f} s); {left:.1f} s to their instant", flush=True)
        if left < 2:
            raise SystemExit("bare: the starts ran into the timers' instant; raise --bare-lead")
        await sleep_until(until)
        polled = await wait_for_count(  # firing costs about what starting did: far less than 10 × that
            lambda: scalar(rows_db.path, "SELECT count(*) FROM fired"), n, max(300, 10 * took), "bare rows")
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
    probe = min(n, max(2 * LANES, n // 20))  # dispatches raised first, for the pace, on complaints of their own
    probe_complaints = math.ceil(probe / per_complaint)
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

    took = await in_lanes(complaints + probe_complaints, file)
    print(f"project: {complaints} complaints (and {probe_complaints} for the probe) filed and taken into handling "
          f"in {took:.1f} s", flush=True)
    ids, probe_ids = ids[:complaints], ids[complaints:]

    async def raise_on(cid: str, j: int) -> str:
        unit = STATIONS[j % len(STATIONS)]
        resp = await http.post(f"/complaints/{cid}/dispatches", headers=REGIONAL_CS, json={
            "kind": "linked_dispatch", "unit": unit,
            "instruction": f"Check why parcel {j} has not moved and reply with the failing link.",
        })
        assert resp.status_code == 201, resp.text
        return resp.json()["dispatch_id"]

    # The probe's dispatches arrive under the placeholder check times: due hours after the bench.
    pace = await in_lanes(probe, lambda j: raise_on(probe_ids[j % probe_complaints], j)) / probe

    # The check times: every dispatch must arrive (start its clock) before the first one.
    if raise_budget is None:
        raise_budget = MARGIN_S + SAFETY * n * pace
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
        # the k-th dispatch of every complaint, then the (k+1)-th
        units[await raise_on(ids[j % complaints], j)] = STATIONS[j % len(STATIONS)]

    raised_in = await in_lanes(n, raise_one)
    print(f"project: {n} dispatches raised in {raised_in:.1f} s ({n / raised_in:.1f}/s; the probe's pace "
          f"{n * pace:.1f} s)", flush=True)
    wait_s = max(300, 10 * raised_in)  # the read model and the outbox keep up with far less than that

    # Every clock started and in the read model, all on the one due instant.
    ids_sql = ",".join("?" * len(units))
    await wait_for_count(lambda: scalar(readmodel, f"SELECT count(*) FROM dispatch WHERE due IS NOT NULL "
                                                   f"AND id IN ({ids_sql})", *units), n, wait_s,
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
    step = "escalation-1-%"  # SMS only: e-mail has no sender here, and its rows are recorded skipped
    early = scalar(readmodel, f"SELECT count(*) FROM {SMS_NOTICES}", step)
    if early:
        raise SystemExit(f"project: {early} overdue notices before the due instant")
    await sleep_until(due)
    polled = await wait_for_count(
        lambda: scalar(readmodel, f"SELECT count(*) FROM {SMS_NOTICES}", step),
        expected, wait_s, "overdue notices in the outbox")
    last = utc(scalar(readmodel, f"SELECT max(created_at) FROM {SMS_NOTICES}", step))
    first = utc(scalar(readmodel, f"SELECT min(created_at) FROM {SMS_NOTICES}", step))
    found = scalar(readmodel, f"SELECT count(*) FROM {SMS_NOTICES}", step)
    per_case = rows(readmodel, f"SELECT count(*) FROM {SMS_NOTICES} GROUP BY case_id "
                               "HAVING count(*) != 1", step)
    if found != expected or per_case or first < due:
        raise SystemExit(f"project: {found} notices for {expected} expected; {len(per_case)} dispatches with "
                         f"more or fewer than one; first at {first.isoformat()} vs due {due.isoformat()}")
    # Sends finish after the outbox rows: wait (not timed) for every row to be delivered.
    await wait_for_count(
        lambda: scalar(readmodel, f"SELECT count(*) FROM {SMS_NOTICES} AND status='delivered'",
                       step), expected, wait_s, "overdue notices delivered")
    delivered_last = utc(scalar(readmodel, f"SELECT max(delivered_at) FROM {SMS_NOTICES}", step))
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
        await wait_for_api(http)
        rows_db = BareRows(Path(tempfile.mkdtemp(prefix="burst-bare-")) / "bare.db")
        figures = await bare(client, args.dispatches, rows_db, args.bare_lead)
        figures |= await project(http, settings, args.dispatches, args.per_complaint, policy_path, zone,
                                 args.raise_budget, args.settle)
    figures["sms_requests"] = gateway["requests"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dispatches", type=int, default=1000)
    parser.add_argument("--per-complaint", type=int, default=10, help="linked dispatches per complaint (≤ 10)")
    parser.add_argument("--raise-budget", type=float, default=None,
                        help="seconds allowed for raising all dispatches (default: from a probe's pace)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds between the first check time and the due instant")
    parser.add_argument("--bare-lead", type=float, default=None,
                        help="seconds from now to the bare timers' instant (default: from a probe's pace)")
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
