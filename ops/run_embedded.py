"""`make run`: the embedded default on one machine, no Docker.

Starts the Temporal CLI dev server (Web UI included, state persisted in ./data/temporal.db and
the complaint search attributes registered), one worker and the API, prints the addresses and
stops all three on Ctrl-C. Stopping and starting again keeps every open complaint.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from settings import ROOT, get_settings
from workflows.case import CaseSearch

BIN = Path(sys.executable).parent
SEARCH_ATTRIBUTE_TYPES = {"KEYWORD": "Keyword", "INT": "Int"}


def dev_server_command(settings) -> list[str]:  # type: ignore[no-untyped-def]
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
        "--log-level", "warn",
    ]
    for key in CaseSearch.ALL:
        command += ["--search-attribute", f"{key.name}={SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type.name]}"]
    return command


async def wait_for_frontend(address: str, namespace: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the Temporal dev server exited with code {server.returncode}; see its output above")
        try:
            await Client.connect(address, namespace=namespace)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise SystemExit(f"the Temporal dev server did not answer on {address} within {seconds:.0f} s") from None
            await asyncio.sleep(0.3)


def main() -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    children: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in reversed(children):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        server = subprocess.Popen(dev_server_command(settings), cwd=ROOT, env=env)
        children.append(server)
        asyncio.run(wait_for_frontend(settings.temporal_address, settings.temporal_namespace, server))
        children.append(subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env))
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.main:app",
                 "--host", settings.api_host, "--port", str(settings.api_port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT,
                env=env,
            )
        )
        print(
            "\nComplaint desk is running (Ctrl-C stops it; state is kept in ./data):\n"
            f"  API            http://{settings.api_host}:{settings.api_port}  (docs at /docs)\n"
            f"  Temporal UI    {settings.temporal_ui_url}\n"
            f"  Temporal gRPC  {settings.temporal_address}\n"
            f"  dev tokens     {settings.tokens_file.relative_to(ROOT) if settings.tokens_file.is_relative_to(ROOT) else settings.tokens_file}\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            try:
                children[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        failed = [c.args[0] if isinstance(c.args, list) else c.args for c in children if c.poll() is not None]
        print(f"stopping: a process ended ({', '.join(map(str, failed))})", flush=True)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        stop()


if __name__ == "__main__":
    main()
