"""The benches run to the end at a tiny size and end with their JSON line (CI proves they still run;
the figures themselves are the benches' business, taken at full size)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from settings import ROOT


def run_bench(*argv: str, seconds: float) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("POLICY_FILE", "DATABASE_URL", "DATA_DIR")}
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds)
    assert done.returncode == 0, f"{argv[0]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout, json.loads(done.stdout.strip().splitlines()[-1])


def test_steady_state_of_20_cases_fires_every_clock_and_prints_lateness_beside_bare_timers() -> None:
    out, figures = run_bench("bench/steady.py", "--cases", "20", seconds=600)
    assert figures["cases"] == 20
    # Every clock's lateness is measured from its due instant, never before it.
    assert 0 <= figures["project_p50_s"] <= figures["project_p99_s"] <= figures["project_max_s"]
    assert 0 <= figures["bare_p50_s"] <= figures["bare_p99_s"] <= figures["bare_max_s"]
    assert figures["worker_cpu_s"] > 0 and figures["worker_peak_mb"] > 0 and figures["server_peak_mb"] > 0
    assert "ratio project p99 / bare p99" in out
    # The split of the lateness at the history's events: each part follows the one before it.
    assert all(figures[f"split_{part}_p99_s"] >= 0 for part in ("fire", "take", "notice"))
    assert "where the project's lateness goes" in out


def test_events_of_the_answered_lifecycle_are_counted_per_workflow() -> None:
    out, figures = run_bench("bench/events.py", "--only", "answered", seconds=600)
    answered = figures["answered"]
    # The complaint's 10 API calls (filing, first contact, handling, ticket, reply, resolution,
    # confirmation, call-back, judgement sent and accepted): each start or update is one round trip.
    assert answered["http_calls"] == 10
    assert answered["round_trips"] >= 10 and answered["events"] > 0 and answered["bytes"] > 0
    for workflow in ("complaint", "dispatch", "judgement"):
        assert f"answered / {workflow}" in out
