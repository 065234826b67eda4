"""History events, server round trips and bytes of history per case, for two typical lifecycles.

1. `answered`: a complaint filed, first contact recorded, taken into handling, one ticket to the
   Guangdong office answered in time, resolved, confirmed, called back satisfied (closed); its
   judgement sent and accepted.
2. `escalated_urgent`: an urgent complaint (a passport inside) whose ticket the urgent-item group
   confirms, left unanswered until it has climbed its whole ladder (ladder_exhausted), then
   answered; the case closed as in 1 and its judgement accepted.

Both run through the HTTP API on the embedded stack (a dev server on a SQLite file, worker.py, the
API), with the fault suite's policy of seconds-long clocks on the 24 × 7 calendar
(tests/faults/processes.py short_clock_policy), so the ladder climbs in about two minutes. Then
every workflow of the case (complaint-…, dispatch-…, judgement-…) is read back from Temporal:
events, the bytes of its history as stored (payloads encrypted), and the server round trips that
history implies — each workflow task and each activity task is a poll answered plus a completion
(2), each start, update and signal from a client 1; local activities run inside a workflow task and
cost none (each is a marker event, as is each patch asked); queries are not in a history and are
not counted. Goal: ≤ 100 events for `answered`.
The last line printed is JSON.

    .venv/bin/python bench/events.py [--only answered|escalated_urgent …]
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
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import Client

from bench._stack import embedded_stack, wait_for_api
from settings import Settings
from temporal_client import connect
from tests.faults.processes import short_clock_policy

TOKENS = {"front_seat": "dev-front-seat", "urgent_group": "dev-urgent-group", "regional_cs": "dev-regional-cs"}
FINDING = "The parcel lay two days in the Tianhe sorting area before it was scanned on Monday."
NAMING = {"city_branch": "gd-gz", "failing_link": "sorting", "smallest_unit": "gd-gz-tianhe"}
LADDER_SECONDS = 600  # how long the urgent ticket may take to climb its ladder on a slow machine
E = EventType


class Desk:
    """The agents' calls over HTTP; a step the case is not ready for yet (409) is tried again."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.calls = 0

    async def post(self, path: str, role: str, body: dict, ready_within: float = 60, **headers: str) -> dict:
        deadline = time.monotonic() + ready_within
        while True:
            resp = await self.http.post(path, json=body, headers={"Authorization": f"Bearer {TOKENS[role]}", **headers})
            if resp.is_success:
                self.calls += 1  # the steps taken, not the tries refused
                return resp.json()
            if resp.status_code != 409 or time.monotonic() > deadline:
                raise SystemExit(f"POST {path}: {resp.status_code} {resp.text[:300]}")
            await asyncio.sleep(0.2)

    async def read(self, path: str, ready: Callable[[Any], bool] = lambda _: True, seconds: float = 60) -> Any:
        deadline = time.monotonic() + seconds
        while True:
            resp = await self.http.get(path, headers={"Authorization": f"Bearer {TOKENS['front_seat']}"})
            if resp.is_success and ready(body := resp.json()):
                return body
            if time.monotonic() > deadline:
                raise SystemExit(f"GET {path}: not ready after {seconds:.0f} s ({resp.status_code} {resp.text[:200]})")
            await asyncio.sleep(0.3)


def complaint(n: int, urgent: bool) -> dict:
    body = {
        "channel": "hotline",
        "received_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "complainant": {"name": "Li Na", "phone": f"1380013{n:04d}", "tier": "standard"},
        "tracking_number": f"EV{int(time.time())}{n:04d}CN",
        "category": "delay",
        "description": "The parcel has not moved for three days.",
    }
    if urgent:
        body |= {"description": "My passport has not arrived and I fly on Friday.", "contents": {"description": "passport"}}
    return body


async def lifecycle(desk: Desk, n: int, urgent: bool) -> str:
    filed = await desk.post("/complaints", "front_seat", complaint(n, urgent), **{"Idempotency-Key": f"events-{n}-{time.time()}"})
    cid = filed["complaint_id"]
    await desk.post(f"/complaints/{cid}/first-contact", "front_seat", {
        "apology": "We are sorry", "why_it_matters": "your papers are inside", "first_direction": "we chase the station"})
    await desk.post(f"/complaints/{cid}/handling", "front_seat", {"note": "a ticket for Guangdong"})
    tid = (await desk.post(f"/complaints/{cid}/tickets", "front_seat",
                           {"assisting_unit": "gd", "instruction": "Find the failing link"}))["dispatch_id"]
    if urgent:
        await desk.post(f"/dispatches/{tid}/review", "urgent_group", {"confirm": True, "reason": "a passport, a flight"})
        await desk.read(f"/dispatches/{tid}", lambda d: "ladder_exhausted" in [e["action"] for e in d["events"]],
                        seconds=LADDER_SECONDS)
    await desk.post(f"/dispatches/{tid}/reply", "regional_cs", {"finding": FINDING, "failing_link": "Tianhe station sorting"})
    await desk.post(f"/complaints/{cid}/resolution", "front_seat", {"solution": "redelivered today by a dedicated courier"})
    await desk.post(f"/complaints/{cid}/customer-confirmation", "front_seat",
                    {"message": "Your parcel is out for delivery", "medium": "sms"})
    await desk.post(f"/complaints/{cid}/callback", "front_seat", {"satisfied": True, "customer_words": "Thank you"})
    jid = f"judgement-{cid}"
    await desk.read(f"/judgements/{jid}")  # opened by the closing complaint
    await desk.post(f"/judgements/{jid}/send", "front_seat", {})
    await desk.post(f"/judgements/{jid}/accept", "regional_cs", NAMING)
    return cid


def client_requests(events: list[Any]) -> int:
    """Starts, updates and signals that came from a client, not from another workflow."""
    started = sum(1 for e in events if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
                  and not e.workflow_execution_started_event_attributes.HasField("parent_workflow_execution"))
    updates = sum(1 for e in events if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    signals = sum(1 for e in events if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                  and not e.workflow_execution_signaled_event_attributes.HasField("external_workflow_execution"))
    return started + updates + signals


async def counted(client: Client, workflow_id: str) -> dict:
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(300):  # its last task may still be on its way
        if (await handle.describe()).status.name != "RUNNING":
            break
        await asyncio.sleep(0.2)
    status = (await handle.describe()).status.name
    events = (await handle.fetch_history()).events
    kinds = Counter(e.event_type for e in events)
    tasks = kinds[E.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    activities = kinds[E.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    return {
        "workflow": workflow_id.split("-", 1)[0], "status": status, "events": len(events),
        "bytes": History(events=events).ByteSize(), "workflow_tasks": tasks, "activity_tasks": activities,
        "markers": kinds[E.EVENT_TYPE_MARKER_RECORDED], "timers": kinds[E.EVENT_TYPE_TIMER_STARTED],
        "round_trips": 2 * tasks + 2 * activities + client_requests(events),
        "kinds": Counter({EventType.Name(kind).removeprefix("EVENT_TYPE_").lower(): k for kind, k in kinds.items()}),
    }


LIFECYCLES = {"answered": False, "escalated_urgent": True}  # name → urgent


async def measure(settings: Settings, names: list[str]) -> dict:
    client = await connect(settings)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=120) as http:
        await wait_for_api(http)
        for n, name in enumerate(names):
            urgent = LIFECYCLES[name]
            desk = Desk(http)
            started = time.monotonic()
            cid = await lifecycle(desk, n, urgent)
            took = time.monotonic() - started
            dispatches = await desk.read(f"/complaints/{cid}/dispatches")
            ids = [f"complaint-{cid}", *(d["dispatch_id"] for d in dispatches), f"judgement-{cid}"]
            workflows = [await counted(client, wid) for wid in ids]
            results[name] = {"workflows": workflows, "http_calls": desk.calls, "seconds": took,
                             **{k: sum(w[k] for w in workflows) for k in ("events", "bytes", "round_trips")}}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=list(LIFECYCLES), action="append", help="run this lifecycle (default: all)")
    names = parser.parse_args().only or list(LIFECYCLES)
    started = time.monotonic()
    os.environ["POLICY_FILE"] = str(short_clock_policy(Path(tempfile.mkdtemp(prefix="events-policy-"))))
    for key in ("SMTP_HOST", "SMTP_FROM", "SMS_GATEWAY_URL", "SMS_API_KEY"):
        os.environ.pop(key, None)  # no senders: each notice is recorded as skipped, its activity runs all the same
    with embedded_stack() as settings:
        results = asyncio.run(measure(settings, names))
    print(f"{'lifecycle / workflow':<34}{'events':>7}{'bytes':>8}{'wf tasks':>9}{'act.':>5}{'marks':>6}"
          f"{'timers':>7}{'round trips':>12}")
    for name, case in results.items():
        for w in case["workflows"]:
            print(f"{name + ' / ' + w['workflow']:<34}{w['events']:>7}{w['bytes']:>8}{w['workflow_tasks']:>9}"
                  f"{w['activity_tasks']:>5}{w['markers']:>6}{w['timers']:>7}{w['round_trips']:>12}"
                  + ("" if w["status"] == "COMPLETED" else f"   ({w['status'].lower()})"))
        print(f"{name + ' per case':<34}{case['events']:>7}{case['bytes']:>8}{'':>27}{case['round_trips']:>12}"
              f"   ({case['http_calls']} API calls, {case['seconds']:.0f} s)")
        kinds = sum((w["kinds"] for w in case["workflows"]), Counter())
        print("  most events: " + ", ".join(f"{kind} {k}" for kind, k in kinds.most_common(6)))
    if "answered" in results:
        print(f"goal: ≤ 100 events for 'answered' ({results['answered']['events']})")
    print(f"whole run {time.monotonic() - started:.0f} s")
    print(json.dumps({name: {k: case[k] for k in ("events", "bytes", "round_trips", "http_calls")}
                      for name, case in results.items()}))


if __name__ == "__main__":
    main()
