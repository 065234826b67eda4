"""Complaints per second through POST /complaints next to bare start_workflow calls, same dev server.

Project: HTTP → validate → classify (with a history look-up) → start ComplaintWorkflow with search
attributes → read-model row written; a complaint counts when its POST has answered 201 (the row is
readable then), and at the end every row is checked to be there. Bare: `start_workflow` of a
workflow that only waits, from one Python client. Both with the same concurrency against the same
dev server (SQLite file, like `make run`), both with a worker running the first workflow task,
in alternating rounds (the server slows as its database grows). The read model on a SQLite file or
(`--database postgresql`) on a throwaway PostgreSQL cluster. Beside the rates, the CPU each process
used per complaint (per start) in the timed rounds: where the time goes.
Target: ratio = project / bare ≥ 0.9.

    .venv/bin/python bench/intake.py [COMPLAINTS] [--database sqlite|postgresql]      (default 600, sqlite)
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
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bench._stack import DATABASES, cpu_seconds, embedded_stack, in_lanes, wait_for_api

CONCURRENCY = 16
WARM_UP = 30
ROUNDS = 6


@workflow.defn(sandboxed=False)
class BareWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


def complaint(i: int) -> dict:
    return {
        "channel": "hotline",
        # Received now, as at a live intake: a fixed instant falls behind the clock, and then every
        # case's first-contact clock is past due on arrival (two more timers, two overdue notices and
        # three more workflow tasks per case than intake costs).
        "received_at": datetime.now(UTC).isoformat(),
        "complainant": {"name": f"Customer {i}", "phone": f"1380{i:07d}"},
        "tracking_number": f"EX{i:010d}CN",
        "category": "delay",
        "description": "The parcel has not moved for three days; my passport is inside.",
        "contents": {"description": "passport"},
    }


async def timed(count: int, one: callable) -> float:  # type: ignore[valid-type]
    """one(0) … one(count - 1), CONCURRENCY at a time: how many per second."""
    return count / await in_lanes(count, one, CONCURRENCY)


class CpuMeter:
    """CPU seconds of each process (this one too: the bench's client and the bare worker) summed over
    the timed rounds of one side."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.used: dict[str, float] = {name: 0.0 for name in [*pids, "bench"]}

    def now(self) -> dict[str, float]:
        return {**{name: cpu_seconds(pid) for name, pid in self.pids.items()}, "bench": time.process_time()}

    async def timed(self, count: int, one: callable) -> float:  # type: ignore[valid-type]
        before = self.now()
        rate = await timed(count, one)
        for name, seconds in self.now().items():
            self.used[name] += seconds - before[name]
        return rate

    def per_item_ms(self, items: int) -> dict[str, float]:
        return {name: round(seconds * 1000 / items, 2) for name, seconds in self.used.items()}


async def measure(settings, complaints: int, pids: dict[str, int]) -> dict:  # type: ignore[no-untyped-def]
    client = await Client.connect(settings.temporal_address)
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(4) as pool:
        async with Worker(client, task_queue="bare", workflows=[BareWorkflow], activity_executor=pool):

            async def bare(i: int) -> None:
                await client.start_workflow(BareWorkflow.run, id=f"bare-{run}-{i}", task_queue="bare")

            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{settings.api_port}",
                headers={"Authorization": "Bearer dev-front-seat"},
                timeout=60,
            ) as http:
                await wait_for_api(http)

                async def project(i: int) -> None:
                    resp = await http.post("/complaints", json=complaint(i), headers={"Idempotency-Key": f"{run}-{i}"})
                    assert resp.status_code == 201, resp.text

                await timed(WARM_UP, lambda i: bare(10_000_000 + i))
                await timed(WARM_UP, lambda i: project(10_000_000 + i))
                # The dev server slows as its SQLite file grows: alternate short rounds so both
                # sides meet the same server, and compare the totals.
                per_round = complaints // ROUNDS
                bare_s = project_s = 0.0
                bare_cpu, project_cpu = CpuMeter(pids), CpuMeter(pids)
                for r in range(ROUNDS):
                    offset = r * per_round
                    bare_s += per_round / await bare_cpu.timed(per_round, lambda i: bare(offset + i))
                    project_s += per_round / await project_cpu.timed(per_round, lambda i: project(offset + i))
                total = (await http.get("/complaints", params={"page_size": 1})).json()["total"]
                assert total == ROUNDS * per_round + WARM_UP, f"read model has {total} rows"
    bare_per_s = ROUNDS * per_round / bare_s
    project_per_s = ROUNDS * per_round / project_s
    return {
        "complaints": complaints,
        "concurrency": CONCURRENCY,
        "project_per_s": round(project_per_s, 1),
        "bare_per_s": round(bare_per_s, 1),
        "ratio": round(project_per_s / bare_per_s, 3),
        "project_cpu_ms": project_cpu.per_item_ms(ROUNDS * per_round),
        "bare_cpu_ms": bare_cpu.per_item_ms(ROUNDS * per_round),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("complaints", type=int, nargs="?", default=600)
    parser.add_argument("--database", choices=DATABASES, default="sqlite", help="the read model's database")
    args = parser.parse_args()
    if args.complaints < ROUNDS:
        parser.error(f"complaints must be at least {ROUNDS} (one per round)")
    pids: dict[str, int] = {}
    with embedded_stack(database=args.database, processes=pids) as settings:
        figures = asyncio.run(measure(settings, args.complaints, pids))
    figures["database"] = args.database
    print(f"read model on {args.database}")
    print(f"POST /complaints: {figures['project_per_s']:>7.1f} complaints/s")
    print(f"bare start_workflow: {figures['bare_per_s']:>7.1f} starts/s")
    print(f"ratio {figures['ratio']:.3f} (target ≥ 0.9)")
    print("CPU ms per complaint (project) / per start (bare): "
          + ", ".join(f"{name} {figures['project_cpu_ms'][name]:.1f} / {figures['bare_cpu_ms'][name]:.1f}"
                      for name in figures["project_cpu_ms"]))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
