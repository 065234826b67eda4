"""`make run`: the embedded default on one machine, no Docker.

Starts the Temporal CLI dev server (Web UI included, state persisted in ./data/temporal.db and
the complaint search attributes registered), one worker and the API, and prints the addresses.
A child that dies (a crash, a `kill -9`) is named and started again with backoff; only Ctrl-C or
SIGTERM stops everything. Stopping and starting again keeps every open complaint.

What it starts is `startup(settings)`: long-running `Child` processes and one-off setup steps, in
order. Adding a process is one `Child(...)` line there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from ops.namespace import set_history_retention
from protection.keys import ensure_key_ring
from readmodel import migrate
from readmodel.store import make_engine
from settings import ROOT, Settings, get_settings
from workflows.case import CaseSearch

BIN = Path(sys.executable).parent
SEARCH_ATTRIBUTE_TYPES = {"KEYWORD": "Keyword", "INT": "Int"}
# A child that dies is started again after 2 s, then 4, 8 ... up to 30 s while it keeps dying;
# once it has stayed up for STABLE_SECONDS the next death waits 2 s again.
FIRST_BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 30.0
STOP_GRACE_SECONDS = 20.0


@dataclass(frozen=True)
class Child:
    """A long-running process `make run` keeps alive."""

    name: str  # as the launcher's messages call it: "worker exited with code -9; ..."
    command: Callable[[Settings], list[str]]
    # Blocks until the first start serves (the next steps need it); not waited for on restarts.
    ready: Callable[[Settings, subprocess.Popen], None] | None = None


# A one-off step between children (e.g. set up what the next child needs); an exception stops start-up.
SetupStep = Callable[[Settings], None]


def dev_server_command(settings: Settings) -> list[str]:
    host, port = settings.temporal_address.rsplit(":", 1)
    command = [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--ip", host,
        "--port", port,
        "--ui-ip", host,
        "--ui-port", str(settings.temporal_ui_port),
        "--namespace", settings.temporal_namespace,
        "--db-filename", str(settings.data_dir / "temporal.db"),
        "--ui-disable-news-fetch",  # no network but loopback
        "--ui-codec-endpoint", settings.codec_server_url,  # the UI decrypts payloads through api/codec_server.py
        "--log-level", "warn",
    ]
    for key in CaseSearch.ALL:
        command += ["--search-attribute", f"{key.name}={SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type.name]}"]
    return command


def worker_command(settings: Settings) -> list[str]:
    return [sys.executable, "worker.py"]


def api_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "api.main:app",
        "--host", settings.api_host, "--port", str(settings.api_port), "--log-level", "warning", "--no-access-log",
    ]


def wait_for_frontend(settings: Settings, server: subprocess.Popen, seconds: float = 60) -> None:
    async def answered() -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the Temporal dev server exited with code {server.returncode}; see its output above")
            try:
                await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
                return
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise SystemExit(
                        f"the Temporal dev server did not answer on {settings.temporal_address} within {seconds:.0f} s"
                    ) from None
                await asyncio.sleep(0.3)

    asyncio.run(answered())


def codec_server_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "api.codec_server:app",
        "--host", settings.api_host, "--port", str(settings.codec_server_port), "--log-level", "warning",
    ]


def development_key_ring(settings: Settings) -> None:
    """Payloads are encrypted: the first start makes a key ring in the data directory, kept like temporal.db."""
    path = settings.payload_key_ring_path
    if settings.payload_keys is None and ensure_key_ring(path):
        say(f"created a development payload key ring at {path} (mode 0600). Keep it with temporal.db:"
            " the histories there cannot be read without it. Rotate with `python -m protection.keys rotate`.")


def upgrade_read_model(settings: Settings) -> None:
    """The read model's schema to head (readmodel/migrate.py) before the worker and the API, which only check it."""
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def startup(settings: Settings) -> list[Child | SetupStep]:
    """What `make run` starts, in order."""
    return [
        development_key_ring,
        Child("Temporal dev server", dev_server_command, ready=wait_for_frontend),
        set_history_retention,  # the dev server's namespace keeps closed histories 24 h unless told
        upgrade_read_model,
        Child("worker", worker_command),
        Child("API", api_command),
        Child("codec server", codec_server_command),
    ]


def addresses(settings: Settings) -> str:
    def shown(path: Path) -> Path:
        return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path

    return (
        f"\nComplaint desk is running (Ctrl-C stops it; state is kept in {shown(settings.data_dir)}):\n"
        f"  API            http://{settings.api_host}:{settings.api_port}  (docs at /docs)\n"
        f"  Temporal UI    {settings.temporal_ui_url}  (decodes through the codec server: sign in at"
        f" {settings.codec_server_url}/session)\n"
        f"  Temporal gRPC  {settings.temporal_address}\n"
        f"  API metrics    http://{settings.api_host}:{settings.api_port}/metrics  (Prometheus)\n"
        + (f"  worker metrics http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"
           "  (Temporal SDK, Prometheus)\n" if settings.worker_metrics_port else "")
        + f"  dev tokens     {shown(settings.tokens_file)}\n"
    )


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


class Supervised:
    """One child's process, started again with backoff whenever it dies."""

    def __init__(self, child: Child, settings: Settings, env: dict[str, str]) -> None:
        self.child, self.settings, self.env = child, settings, env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.backoff = FIRST_BACKOFF_SECONDS
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.child.command(self.settings), cwd=ROOT, env=self.env)
        self.started_at, self.restart_at = time.monotonic(), None
        say(f"{self.child.name} started (pid {self.process.pid})")

    def look_after(self, now: float) -> None:
        """Notice a death and schedule the restart, or restart when its time has come."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
            return
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return
        if now - self.started_at >= STABLE_SECONDS:
            self.backoff = FIRST_BACKOFF_SECONDS
        delay = self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        self.restart_at = now + delay
        say(f"{self.child.name} exited with code {code}; restarting in {delay:g} s")

    def signal_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def wait_stopped(self, deadline: float) -> None:
        """Wait for the process until `deadline` (monotonic), then kill it."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{self.child.name} did not stop within {STOP_GRACE_SECONDS:g} s; killing it")
            self.process.kill()
            self.process.wait()


def main() -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    running: list[Supervised] = []

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM stops like Ctrl-C. Children share the terminal's process group, so a Ctrl-C reaches
    # them too; the launcher stops restarting first (the handler runs before any child has exited).
    signal.signal(signal.SIGTERM, interrupt)
    # Ctrl-C too, explicitly: a process started in the background of a non-interactive shell
    # (`nohup … &`, some CI runners) inherits SIGINT ignored, and Python then installs no handler.
    signal.signal(signal.SIGINT, interrupt)
    try:
        for step in startup(settings):
            if isinstance(step, Child):
                supervised = Supervised(step, settings, env)
                running.append(supervised)
                supervised.start()
                if step.ready is not None:
                    assert supervised.process is not None
                    step.ready(settings, supervised.process)
            else:
                step(settings)
        print(addresses(settings), flush=True)
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            for supervised in running:
                supervised.look_after(now)
    except KeyboardInterrupt:
        say("stopping ...")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for supervised in reversed(running):  # the API first, the dev server last
            supervised.signal_stop()
        # One grace period for all of them, not one each: Ctrl-C stops the stack within it.
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for supervised in reversed(running):
            supervised.wait_stopped(deadline)


if __name__ == "__main__":
    main()
