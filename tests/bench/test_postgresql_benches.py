"""The intake and report benches run to the end on the PostgreSQL read model at a tiny size and end
with their JSON line (the figures are taken at full size; here only that the benches still run)."""

from __future__ import annotations

import json
import subprocess
import sys

from settings import ROOT


def bench_figures(*argv: str) -> tuple[str, dict]:
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{argv[0]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout, json.loads(done.stdout.strip().splitlines()[-1])


def test_intake_bench_files_through_the_api_onto_postgresql_beside_bare_starts() -> None:
    out, figures = bench_figures("bench/intake.py", "12", "--database", "postgresql")
    # 12 complaints in 6 rounds of 2 (the bench itself checks every row is in the read model).
    assert figures["database"] == "postgresql" and figures["complaints"] == 12
    assert abs(figures["ratio"] - figures["project_per_s"] / figures["bare_per_s"]) < 0.01  # of the unrounded rates
    # The API wrote each complaint's rows into PostgreSQL: its server used CPU for the project's rounds.
    assert figures["project_cpu_ms"]["postgresql"] > 0 and figures["project_cpu_ms"]["api"] > 0
    assert "read model on postgresql" in out and "(target ≥ 0.9)" in out


def test_report_bench_loads_complaints_into_postgresql_and_times_report_measures_and_pages() -> None:
    out, figures = bench_figures("bench/reports.py", "1000", "--database", "postgresql")
    assert figures["database"] == "postgresql" and figures["complaints"] == 1000
    assert figures["worst_s"] == max(figures["report_s"], figures["measures_s"], figures["measures_by_office_s"])
    assert figures["page_ms"] > 0 and figures["bare_sql_s"] > 0
    assert "into postgresql" in out
