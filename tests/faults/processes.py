"""The real processes the fault suite breaks: a Temporal dev server kept in a SQLite file (so a
restart keeps every case), and the complaint worker (`worker.py`) as a subprocess to SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ops.run_embedded import dev_server_command
from settings import ROOT, Settings
from tests.readmodel.postgres import free_port

# Short clocks for real time (hours are floats, minutes whole; DOMAIN's numbers are the policy's):
# every unit on the 24 × 7 calendar, so a clock's working seconds are elapsed seconds.
SHORT_HOURS = {
    "clocks.customer": {"solution_hours": 0.01, "complex_solution_hours": 0.02, "written_confirmation_hours": 0.01,
                        # a progress update owed every 4 min: at most one per case in a run
                        "progress_update_hours": 0.07, "satisfaction_callback_hours": 0.02},
    "clocks.dispatch": {"direct_dispatch_hours": 0.01, "linked_dispatch_hours": 0.01, "ticket_hours": 0.01,
                        "urgent_review_hours": 0.01},
}
LADDER_WAIT_HOURS = 0.005  # 18 s a rung: a normal ticket's four rungs climb in about 2 minutes


def short_clock_policy(into: Path) -> Path:
    """A copy of the default policy with real-time clocks of seconds: 36 s to a solution or a
    dispatch's answer, 1 min to first contact (the smallest whole minute), 72 s to the call-back."""
    policy = yaml.safe_load((ROOT / "policies" / "express_carrier.yaml").read_text())
    for unit in policy["units"].values():
        unit["calendar"] = "round_the_clock"
    policy["clocks"]["customer"].pop("kept_by", None)
    for section, values in SHORT_HOURS.items():
        target = policy
        for key in section.split("."):
            target = target[key]
        target.update(values)
    customer = policy["clocks"]["customer"]
    customer.update(first_contact_minutes=1, cross_department_opinion_minutes=1)
    for overrides in [*customer["by_category"].values(), *customer["by_level"].values(), *customer.get("by_tier", {}).values()]:
        overrides.clear()
    policy["clocks"]["dispatch"]["deadline_rules"] = {kind: "working_hours" for kind in policy["clocks"]["dispatch"]["deadline_rules"]}
    for ladder in policy["escalation"].values():
        for step in ladder["steps"]:
            if "then_wait_hours" in step:
                step["then_wait_hours"] = LADDER_WAIT_HOURS
    path = into / "short-clocks.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False))
    return path


def terminate(process: subprocess.Popen | None) -> None:
    """SIGTERM and wait (30 s, then SIGKILL): the process shuts down as a redeploy would stop it."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class DevServer:
    """`temporal server start-dev --db-filename …` as `make run` starts it, on a free port."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        settings = Settings(temporal_address=self.address, temporal_ui_port=free_port(), data_dir=self.data_dir)
        command = [*dev_server_command(settings), "--headless"]
        command[command.index("--log-level") + 1] = "error"
        log = open(self.data_dir / "temporal.log", "a")
        self.process = subprocess.Popen(command, cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._healthy():
            assert self.process.poll() is None, f"the dev server exited: {(self.data_dir / 'temporal.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the dev server did not become healthy in 60 s"
            time.sleep(0.2)

    def _healthy(self) -> bool:
        health = subprocess.run(
            [dev_server_command(Settings())[0], "operator", "cluster", "health", "--address", self.address],
            capture_output=True, check=False,
        )
        return health.returncode == 0

    def stop(self) -> None:
        terminate(self.process)
        self.process = None

    def restart(self) -> None:
        """Stopped and started on the same port and file: every case, timer and task is kept."""
        self.stop()
        self.start()
        self.restarts += 1


@dataclass
class WorkerProcess:
    """`python worker.py` with the suite's settings in its environment; killed with SIGKILL."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    kills: int = 0
    starts: int = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "a worker is already running"
        marker = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1"},
            stdout=log, stderr=subprocess.STDOUT,
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        while "worker polling task queue" not in self.log_path.read_text(errors="replace")[marker:]:
            assert self.process.poll() is None, f"the worker exited: {self.log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the worker did not start polling in 60 s"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no exception handler; whatever it was doing is cut off."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.kills += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        terminate(self.process)
