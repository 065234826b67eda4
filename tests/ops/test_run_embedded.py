"""`make run` keeps going when a part dies: `python -m ops.run_embedded` on free ports with its own
data directory; a `kill -9` of the worker is named, the worker comes back and takes the next
complaint; so does the dev server, on its own file; SIGINT stops every child and the launcher
exits cleanly. The backoff itself is checked on a child that always fails."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from settings import ROOT
from tests.conftest import auth
from tests.factories import complaint_body
from tests.notifications.receivers import free_port

STARTED = re.compile(r"\[make run\] (?P<name>.+) started \(pid (?P<pid>\d+)\)")


class Launcher:
    """The launcher's merged output, line by line, read on a thread so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, since: int = 0, seconds: float = 90) -> re.Match[str]:
        """The first line from number `since` on that matches, reading more as they come."""
        deadline, at = time.monotonic() + seconds, since
        while True:
            for at in range(at, len(self.seen)):
                if match := re.search(pattern, self.seen[at]):
                    return match
            at = len(self.seen)
            try:
                self.seen.append(self.lines.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {seconds:.0f} s; saw:\n"
                                     + "\n".join(self.seen[-40:])) from None


async def completed_by_workers(address: str, workflow_id: str) -> set[str]:
    """The pids of the workers that completed the workflow's tasks (the SDK's identity is
    "<pid>@<host>"), once it has one: event types need no payload key."""
    client = await Client.connect(address)
    for _ in range(100):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        completed_by = {e.workflow_task_completed_event_attributes.identity.split("@")[0] for e in history.events
                        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}
        if completed_by:
            return completed_by
        await asyncio.sleep(0.1)
    return set()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def launcher(tmp_path: Path) -> Launcher:
    ports = {name: free_port() for name in ("TEMPORAL", "TEMPORAL_UI_PORT", "API_PORT", "CODEC_SERVER_PORT", "WORKER_METRICS_PORT")}
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'readmodel.db'}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports.pop('TEMPORAL')}",
        **{name: str(port) for name, port in ports.items()},
    }
    process = subprocess.Popen([sys.executable, "-m", "ops.run_embedded"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    launcher = Launcher(process)
    launcher.env = env  # type: ignore[attr-defined]
    yield launcher
    if process.poll() is None:  # the test failed before its SIGINT: stop what it started
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_a_killed_worker_is_named_and_restarted_and_sigint_stops_everything(launcher: Launcher) -> None:
    env = launcher.env  # type: ignore[attr-defined]
    launcher.wait_for(r"Complaint desk is running")  # after every child has started
    pids = {m["name"]: int(m["pid"]) for m in map(STARTED.search, launcher.seen) if m}
    assert set(pids) >= {"Temporal dev server", "worker", "API"}, pids
    launcher.wait_for("worker polling task queue")
    api = f"http://127.0.0.1:{env['API_PORT']}"

    before_kill = len(launcher.seen)
    os.kill(pids["worker"], signal.SIGKILL)
    # Its first death waits the first backoff, 2 s (ops/run_embedded.py FIRST_BACKOFF_SECONDS)
    launcher.wait_for(r"\[make run\] worker exited with code -9; restarting in 2 s", since=before_kill)
    new_worker = int(launcher.wait_for(r"\[make run\] worker started \(pid (\d+)\)", since=before_kill)[1])
    assert new_worker != pids["worker"]
    launcher.wait_for("worker polling task queue", since=before_kill)
    assert alive(pids["API"]) and alive(pids["Temporal dev server"])  # nothing else was stopped

    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        for _ in range(100):  # the API may still be starting: bounded, real I/O
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        # Level 1 ("受伤", injured): the worker passes its red alert up to head office, and says so
        filed = await http.post("/complaints", json=complaint_body(description="快递员送件时把我撞受伤了"),
                                headers=auth("front_seat"))
        assert filed.status_code == 201, filed.text
        complaint_id, workflow_id = filed.json()["complaint_id"], filed.json()["workflow_id"]
        assert (await http.get(f"/complaints/{complaint_id}", headers=auth("supervisor"))).status_code == 200
    # The restarted worker took the new complaint
    assert await completed_by_workers(env["TEMPORAL_ADDRESS"], workflow_id) == {str(new_worker)}

    # JSON logs: the API's request line by route template with the case id; the worker's line from
    # inside the case's activity with its workflow and case ids; the customer's name and phone nowhere.
    request = json.loads(launcher.wait_for(r'^\{.*"logger": "api.request".*"route": "/complaints/{complaint_id}".*$', since=before_kill)[0])
    assert (request["service"], request["status"], request["case_id"]) == ("api", 200, complaint_id)
    passed_up = json.loads(launcher.wait_for(r'^\{.*"message": "notice red-alert .*passed up.*$', since=before_kill)[0])
    assert (passed_up["service"], passed_up["workflow_id"], passed_up["case_id"]) == ("worker", workflow_id, complaint_id)
    assert not [line for line in launcher.seen if "Li Na" in line or "13800138000" in line]

    # The dev server dies too: named, restarted on its file (data/temporal.db), and the next
    # complaint is taken by the same worker and filed through the same API, both reconnected.
    before_server_kill = len(launcher.seen)
    os.kill(pids["Temporal dev server"], signal.SIGKILL)
    launcher.wait_for(r"\[make run\] Temporal dev server exited with code -9; restarting in 2 s", since=before_server_kill)
    server = int(launcher.wait_for(r"\[make run\] Temporal dev server started \(pid (\d+)\)", since=before_server_kill)[1])
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        for _ in range(100):  # the API's client reconnects once the server answers: bounded, real I/O
            filed = await http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))
            if filed.status_code == 201:
                break
            await asyncio.sleep(0.3)
        assert filed.status_code == 201, filed.text
    assert await completed_by_workers(env["TEMPORAL_ADDRESS"], filed.json()["workflow_id"]) == {str(new_worker)}
    assert await completed_by_workers(env["TEMPORAL_ADDRESS"], workflow_id)  # the first case is still there

    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    launcher.wait_for(r"\[make run\] stopping", since=before_kill)
    assert not [name for name, pid in {**pids, "worker": new_worker, "Temporal dev server": server}.items() if alive(pid)]


def test_a_child_that_keeps_dying_waits_longer_each_time_and_2_s_again_once_it_stayed_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ops.run_embedded import STABLE_SECONDS, Child, Supervised
    from settings import Settings

    flaky = Supervised(Child("flaky", lambda _: [sys.executable, "-c", "raise SystemExit(3)"]), Settings(), dict(os.environ))
    delays = []
    flaky.start()
    for _ in range(6):
        assert flaky.process is not None
        flaky.process.wait()
        died_at = flaky.started_at + 1  # it lived 1 s: never long enough to count as stable
        flaky.look_after(died_at)
        assert flaky.restart_at is not None
        delays.append(flaky.restart_at - died_at)
        flaky.look_after(flaky.restart_at)  # its time has come: started again
        assert flaky.restart_at is None
    # 2 s, doubling, capped at 30 s (ops/run_embedded.py FIRST/MAX_BACKOFF_SECONDS)
    assert delays == [2, 4, 8, 16, 30, 30]

    assert flaky.process is not None
    flaky.process.wait()
    flaky.look_after(flaky.started_at + STABLE_SECONDS)  # this run stayed up long enough
    assert flaky.restart_at == flaky.started_at + STABLE_SECONDS + 2
    said = capsys.readouterr().out
    assert "[make run] flaky exited with code 3; restarting in 16 s" in said
    assert said.count("[make run] flaky started (pid ") == 7
