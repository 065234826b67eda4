"""Steady state: N open cases whose clocks fall due one after another, next to bare Temporal timers.

Ticketing systems find breaches by scanning every few minutes with a cap per run; here every clock
is a durable timer. Project: N complaints filed through the API (POST /complaints, taken into
handling, one direct dispatch each), so N complaint and N dispatch workflows are open with all
their customer clocks, on the worker as `make run` starts it (its workflow cache at the production
setting, WORKER_CACHED_WORKFLOWS). Each complaint's first-contact clock falls due in a window, one
case every 1/`--rate` s: a complaint is filed with `received_at` one first-contact length before its
planned due instant (the clock runs from the channel's received time, DOMAIN §5). The bench policy
(written to a temp file) is the real one on the 24 × 7 calendar with first contact `FIRST_CONTACT`
long and every other clock a couple of days, so only the first-contact clocks fall due in the run.
Lateness of a clock = the first overdue notice of its case in the outbox (`created_at`) − the due
instant the read model shows for it. It is split, for a sample of clocks, at the events of the
complaint's history: due → the timer fired (the server), → the task taken (the worker's queue),
→ the notice in the outbox (the workflow and its local activities).

Bare: N workflows of bench._stack.BareTimerWorkflow, each sleeping to its own instant with the same
spread and then running one activity that writes a row, on a worker in this process with the same
cache and activity threads; lateness = the row's time − its instant.

Order in one run, on one dev server (SQLite file, like `make run`): a warm-up of cases (not measured,
their clocks not due in the run) times the filing; the window is placed after the starts from that
pace; the project window; then the bare timers are started and their window placed after them from
their own pace (so the bare side meets the larger server). CPU seconds (/proc) of the worker and
of the dev server are taken over each window; peak memory is each process's high-water mark.
Goals: project p99 ≤ 1 s, ratio = project p99 / bare p99 ≤ 1.2. The last line printed is JSON.

    .venv/bin/python bench/steady.py [--cases 10000] [--rate 10]
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
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench._stack import (LANES, BareRows, BareTimerWorkflow, bare_worker, cpu_seconds, embedded_stack, in_lanes,
                          peak_memory_mb, rows, scalar, sleep_until, sms_gateway, utc, wait_for_api, wait_for_count)
from settings import ROOT as REPO, Settings
from workflows.complaint_messages import complaint_workflow_id

FIRST_CONTACT = timedelta(hours=10)  # how far back a complaint's received_at may lie: the whole run fits
OTHER_CLOCKS_HOURS = 48  # solution, progress, dispatch, first opinion …: none falls due during the run
STATIONS = ("gd-gz-tianhe", "gd-sz-nanshan", "zj-hz-xihu")
FRONT_SEAT = {"Authorization": "Bearer dev-front-seat"}
REGIONAL_CS = {"Authorization": "Bearer dev-regional-cs"}
SAFETY = 2.0  # default --safety: a start budget is this many times the warm-up's pace, plus SLACK_S (the pace falls as the files grow)
SLACK_S = 5.0


def write_steady_policy(path: Path) -> Path:
    """The real policy on the 24 × 7 calendar: first contact FIRST_CONTACT, every other clock days away."""
    data = yaml.safe_load((REPO / "policies" / "express_carrier.yaml").read_text(encoding="utf-8"))
    for unit in data["units"].values():
        unit["calendar"] = "round_the_clock"
    customer = data["clocks"]["customer"]
    customer.pop("kept_by", None)
    for section in ("by_category", "by_level", "by_tier"):
        for overrides in customer.get(section, {}).values():
            overrides.clear()
    customer["first_contact_minutes"] = int(FIRST_CONTACT.total_seconds() // 60)
    customer["cross_department_opinion_minutes"] = OTHER_CLOCKS_HOURS * 60
    for key in ("solution_hours", "complex_solution_hours", "progress_update_hours", "written_confirmation_hours",
                "satisfaction_callback_hours"):
        customer[key] = OTHER_CLOCKS_HOURS
    dispatch = data["clocks"]["dispatch"]
    for key in ("direct_dispatch_hours", "linked_dispatch_hours", "ticket_hours", "urgent_review_hours"):
        dispatch[key] = OTHER_CLOCKS_HOURS
    dispatch["deadline_rules"] = {kind: "working_hours" for kind in dispatch["deadline_rules"]}
    # received_at lies most of a first-contact length back: its "due soon" warning would go out at
    # filing, a load of the starts, not of the window.
    data.get("warnings", {})["fractions"] = []
    from rules.policy import parse_policy  # check it the way the worker will read it

    parse_policy(yaml.safe_load(yaml.safe_dump(data, allow_unicode=True)), str(path))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def complaint(run: str, i: int, received_at: datetime) -> dict:
    return {
        "channel": "hotline",
        "received_at": received_at.isoformat(),
        "complainant": {"name": f"Steady customer {i}", "phone": f"1391{i:07d}"},
        "tracking_number": f"ST{run}{i:07d}",
        "category": "delay",
        "description": "The parcel has not moved for three days.",
    }


def lateness_figures(late: list[float]) -> dict[str, float]:
    """p50 / p99 / max in seconds (nearest rank: the value below which that share of clocks lies)."""
    ordered = sorted(late)

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 1)) - 1))]

    return {"p50": rank(0.50), "p99": rank(0.99), "max": ordered[-1]}


class Usage:
    """CPU seconds of some processes between two instants of the run."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.at_start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def used(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.at_start[name] for name, pid in self.pids.items()}


async def file_cases(http: httpx.AsyncClient, run: str, first: int, count: int,
                     received_at: Any, lanes: int = LANES) -> tuple[list[str], float]:
    """File complaints first … first+count-1 (received_at(i)), take each into handling and raise one
    direct dispatch: three requests a case. Their ids by i, and the seconds it took."""
    ids: list[str] = [""] * count

    async def one(k: int) -> None:
        i = first + k
        resp = await http.post("/complaints", json=complaint(run, i, received_at(i)),
                               headers={**FRONT_SEAT, "Idempotency-Key": f"steady-{run}-{i}"})
        assert resp.status_code == 201, resp.text
        cid = resp.json()["complaint_id"]
        resp = await http.post(f"/complaints/{cid}/handling", json={"note": "steady bench"}, headers=FRONT_SEAT)
        assert resp.status_code == 200, resp.text
        resp = await http.post(f"/complaints/{cid}/dispatches", headers=REGIONAL_CS, json={
            "kind": "direct_dispatch", "unit": STATIONS[i % len(STATIONS)],
            "instruction": f"Check why parcel {i} has not moved and reply with the failing link.",
        })
        assert resp.status_code == 201, resp.text
        ids[k] = cid

    took = await in_lanes(count, one, lanes)
    return ids, took


def first_contact_due(clocks: Any) -> datetime:
    clocks = json.loads(clocks) if isinstance(clocks, str) else clocks
    return next(utc(c["due"]) for c in clocks if c["name"] == "first_contact")


SPLIT_SAMPLE = 200  # clocks whose lateness is split at their history's events (evenly spread, plus the latest)
SPLIT_LATEST = 10
SPLIT_PARTS = {
    "fire": "due instant → the server fires its timer",
    "take": "→ the worker takes the task",
    "notice": "→ the notice is in the outbox",
}


async def lateness_split(client: Client, late: dict[str, float], due: dict[str, datetime],
                         notice: dict[str, datetime]) -> dict[str, dict[str, float]]:
    """Where a clock's lateness goes, from its complaint's history: the first timer to fire at or
    after the due instant (TimerFired), the task that took it (WorkflowTaskStarted), then the
    notice's outbox row. A sample: SPLIT_SAMPLE clocks spread over the run and the SPLIT_LATEST latest."""
    ordered = sorted(late, key=late.__getitem__)
    sample = dict.fromkeys(ordered[::max(1, len(ordered) // SPLIT_SAMPLE)] + ordered[-SPLIT_LATEST:])
    parts: dict[str, list[float]] = {name: [] for name in SPLIT_PARTS}

    def at(event: Any) -> datetime:
        return event.event_time.ToDatetime(tzinfo=UTC)

    for cid in sample:
        events = (await client.get_workflow_handle(complaint_workflow_id(cid)).fetch_history()).events
        fired = next(e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED and at(e) >= due[cid])
        taken = next(e for e in events if e.event_id > fired.event_id
                     and e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
        parts["fire"].append((at(fired) - due[cid]).total_seconds())
        parts["take"].append((at(taken) - at(fired)).total_seconds())
        parts["notice"].append((notice[cid] - at(taken)).total_seconds())
    return {name: lateness_figures(values) for name, values in parts.items()}


async def project(http: httpx.AsyncClient, client: Client, readmodel: Path, args: argparse.Namespace,
                  pids: dict[str, int]) -> dict:
    run = uuid.uuid4().hex[:6]
    n, spacing = args.cases, 1 / args.rate
    warm_up = max(10, min(200, n // 50))
    # The warm-up's clocks are due FIRST_CONTACT after now: not in this run.
    _, warm_took = await file_cases(http, run, 10_000_000, warm_up, lambda i: datetime.now(UTC))
    per_case = warm_took / warm_up  # seconds per case with LANES in flight
    budget = args.safety * n * per_case + SLACK_S
    window_start = (datetime.now(UTC) + timedelta(seconds=budget)).replace(microsecond=0)
    due = [window_start + timedelta(seconds=i * spacing) for i in range(n)]
    print(f"project: warm-up of {warm_up} cases at {1 / per_case:.1f} cases/s; filing {n}, their first-contact "
          f"clocks due {window_start:%H:%M:%S}–{due[-1]:%H:%M:%S} UTC ({budget:.0f} s budget)", flush=True)

    ids, took = await file_cases(http, run, 0, n, lambda i: due[i] - FIRST_CONTACT)
    margin = (window_start - datetime.now(UTC)).total_seconds()
    print(f"project: {n} cases filed, in handling, each with a dispatch, in {took:.1f} s ({n / took:.1f}/s); "
          f"{margin:.1f} s to the window", flush=True)
    if margin < 2:
        raise SystemExit(f"project: the starts ran into the window ({margin:.1f} s); the pace fell below the "
                         f"warm-up's by more than {args.safety}× (raise --safety)")
    await wait_for_count(lambda: scalar(readmodel, "SELECT count(*) FROM dispatch WHERE due IS NOT NULL"),
                         n + warm_up, 120, "dispatch clocks started")
    planned = dict(zip(ids, due))
    shown = {cid: first_contact_due(clocks) for cid, clocks in rows(readmodel, "SELECT id, clocks FROM complaint")
             if cid in planned}
    off = [cid for cid, at in shown.items() if abs((at - planned[cid]).total_seconds()) > 0.001]
    if len(shown) != n or off:
        raise SystemExit(f"project: {len(shown)} of {n} cases in the read model; {len(off)} first-contact clocks "
                         f"not due when planned (e.g. {off[:1]})")

    step = "first_contact-%-overdue"
    if early := scalar(readmodel, "SELECT count(*) FROM outbox_message WHERE step LIKE ?", step):
        raise SystemExit(f"project: {early} first-contact notices before the window")
    await sleep_until(window_start)
    usage = Usage({name: pids[name] for name in ("worker", "dev server", "api")})
    count_cases = f"SELECT count(DISTINCT case_id) FROM outbox_message WHERE step LIKE ?"
    await wait_for_count(lambda: scalar(readmodel, count_cases, step), n, n * spacing + 120,
                         "cases with their overdue notice", while_moving=True)
    cpu = usage.used()
    window_s = (datetime.now(UTC) - window_start).total_seconds()
    first_notice = {cid: utc(at) for cid, at in rows(
        readmodel, "SELECT case_id, min(created_at) FROM outbox_message WHERE step LIKE ? GROUP BY case_id", step)}
    late = [(first_notice[cid] - shown[cid]).total_seconds() for cid in ids]
    if min(late) < 0:
        raise SystemExit(f"project: a notice {min(late):.3f} s before its clock's due instant")
    split = await lateness_split(client, dict(zip(ids, late)), shown, first_notice)
    return {"project": lateness_figures(late), "project_split": split, "project_window_s": window_s,
            "project_cpu_s": {"worker": cpu["worker"], "dev_server": cpu["dev server"], "api": cpu["api"]},
            "starts_s": took, "starts_per_s": n / took, "warm_up_cases": warm_up, "window_margin_s": margin}


async def bare(client: Client, n: int, spacing: float, pid_server: int, safety: float) -> dict:
    rows_db = BareRows(Path(tempfile.mkdtemp(prefix="steady-bare-")) / "bare.db")
    run = uuid.uuid4().hex[:6]
    queue = f"bare-steady-{run}"
    async with bare_worker(client, queue, rows_db, Settings().worker_cached_workflows):
        warm_up = max(10, min(200, n // 50))
        far = datetime.now(UTC) + FIRST_CONTACT

        async def start_warm(i: int) -> None:  # timers not due in the run, like the project's warm-up
            await client.start_workflow(BareTimerWorkflow.run, far, id=f"{queue}-warm-{i}", task_queue=queue)

        per_start = await in_lanes(warm_up, start_warm) / warm_up
        window_start = (datetime.now(UTC) + timedelta(seconds=safety * n * per_start + SLACK_S)).replace(microsecond=0)
        due = {f"{queue}-{i}": window_start + timedelta(seconds=i * spacing) for i in range(n)}
        names = list(due)

        async def start(i: int) -> None:
            await client.start_workflow(BareTimerWorkflow.run, due[names[i]], id=names[i], task_queue=queue)

        took = await in_lanes(n, start)
        margin = (window_start - datetime.now(UTC)).total_seconds()
        print(f"bare: {n} timer workflows started in {took:.1f} s; {margin:.1f} s to the window", flush=True)
        if margin < 2:
            raise SystemExit(f"bare: the starts ran into the window ({margin:.1f} s)")
        await sleep_until(window_start)
        usage = Usage({"bench": os.getpid(), "dev server": pid_server})
        await wait_for_count(lambda: scalar(rows_db.path, "SELECT count(*) FROM fired"), n, n * spacing + 120,
                             "bare rows", while_moving=True)
        cpu = usage.used()
        fired = dict(rows(rows_db.path, "SELECT id, at FROM fired"))
    late = [fired[name] - due[name].timestamp() for name in names]
    if min(late) < 0:
        raise SystemExit(f"bare: a row {min(late):.3f} s before its instant")
    return {"bare": lateness_figures(late), "bare_cpu_s": {"worker": cpu["bench"], "dev_server": cpu["dev server"]},
            "bare_starts_s": took}


async def measure(settings: Settings, args: argparse.Namespace, pids: dict[str, int]) -> dict:
    readmodel = Path(settings.database_url.removeprefix("sqlite:///"))
    client = await Client.connect(settings.temporal_address)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=120) as http:
        await wait_for_api(http)
        figures = await project(http, client, readmodel, args, pids)
    figures["worker_peak_mb"] = peak_memory_mb(pids["worker"])
    figures["server_peak_mb_project"] = peak_memory_mb(pids["dev server"])
    figures |= await bare(client, args.cases, 1 / args.rate, pids["dev server"], args.safety)
    figures["bench_peak_mb"] = peak_memory_mb(os.getpid())
    figures["server_peak_mb"] = peak_memory_mb(pids["dev server"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=10_000, help="open cases (and bare timers)")
    parser.add_argument("--rate", type=float, default=10.0, help="clocks falling due per second in the window")
    parser.add_argument("--safety", type=float, default=SAFETY,
                        help="a start budget is this many times the warm-up's pace (plus 5 s): lower it on an idle "
                             "machine to reach the window sooner, raise it where the pace falls")
    args = parser.parse_args()
    if args.cases < 1 or args.rate <= 0 or args.safety < 1:
        parser.error("--cases ≥ 1, --rate > 0 and --safety ≥ 1")
    started = time.monotonic()
    policy = write_steady_policy(Path(tempfile.mkdtemp(prefix="steady-policy-")) / "express_carrier.steady.yaml")
    pids: dict[str, int] = {}
    with sms_gateway() as gateway:
        os.environ["POLICY_FILE"] = str(policy)
        os.environ["SMS_GATEWAY_URL"] = gateway["url"]
        for key in ("SMTP_HOST", "SMTP_FROM", "SMS_API_KEY"):
            os.environ.pop(key, None)
        with embedded_stack(processes=pids) as settings:
            figures = asyncio.run(measure(settings, args, pids))
    p, b = figures["project"], figures["bare"]
    ratio = p["p99"] / b["p99"] if b["p99"] > 0 else float("inf")
    cache = Settings().worker_cached_workflows
    print()
    print(f"{args.cases} open cases (+{figures['warm_up_cases']} warm-up), first-contact clocks due {args.rate:g}/s; "
          f"worker cache {cache} workflows")
    print(f"{'lateness (s)':<40}{'p50':>8}{'p99':>8}{'max':>8}")
    print(f"{'project: due → overdue notice in outbox':<40}{p['p50']:>8.3f}{p['p99']:>8.3f}{p['max']:>8.3f}")
    print(f"{'bare: instant → timer+activity row':<40}{b['p50']:>8.3f}{b['p99']:>8.3f}{b['max']:>8.3f}")
    print(f"ratio project p99 / bare p99 {ratio:.2f} (goals: project p99 ≤ 1 s, ratio ≤ 1.2)")
    print(f"where the project's lateness goes (a sample of {SPLIT_SAMPLE} clocks and the {SPLIT_LATEST} latest, "
          f"from their histories):")
    split = figures["project_split"]
    for name, label in SPLIT_PARTS.items():
        s = split[name]
        print(f"  {label:<38}{s['p50']:>8.3f}{s['p99']:>8.3f}{s['max']:>8.3f}")
    pc, bc = figures["project_cpu_s"], figures["bare_cpu_s"]
    print(f"CPU s in the project window ({figures['project_window_s']:.0f} s): worker {pc['worker']:.1f}, "
          f"dev server {pc['dev_server']:.1f}, API {pc['api']:.1f}; bare window: its worker (this process) "
          f"{bc['worker']:.1f}, dev server {bc['dev_server']:.1f}")
    print(f"peak memory MiB: worker {figures['worker_peak_mb']:.0f}, dev server {figures['server_peak_mb_project']:.0f} "
          f"after the project window, {figures['server_peak_mb']:.0f} at the end; this process (bare worker) "
          f"{figures['bench_peak_mb']:.0f}")
    print(f"starts: {args.cases} cases in {figures['starts_s']:.0f} s ({figures['starts_per_s']:.1f}/s, "
          f"{figures['window_margin_s']:.0f} s to spare), bare {figures['bare_starts_s']:.0f} s; "
          f"SMS requests {gateway['requests']}; whole run {time.monotonic() - started:.0f} s")
    print(json.dumps({
        "cases": args.cases, "rate": args.rate, "worker_cached_workflows": cache,
        "project_p50_s": round(p["p50"], 3), "project_p99_s": round(p["p99"], 3), "project_max_s": round(p["max"], 3),
        "bare_p50_s": round(b["p50"], 3), "bare_p99_s": round(b["p99"], 3), "bare_max_s": round(b["max"], 3),
        "ratio": round(ratio, 3),
        **{f"split_{name}_p99_s": round(s["p99"], 3) for name, s in figures["project_split"].items()},
        "worker_cpu_s": round(pc["worker"], 1), "server_cpu_s": round(pc["dev_server"], 1),
        "bare_worker_cpu_s": round(bc["worker"], 1), "bare_server_cpu_s": round(bc["dev_server"], 1),
        "worker_peak_mb": round(figures["worker_peak_mb"]), "server_peak_mb": round(figures["server_peak_mb"]),
        "starts_per_s": round(figures["starts_per_s"], 1), "run_s": round(time.monotonic() - started),
    }))


if __name__ == "__main__":
    main()
