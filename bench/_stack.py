"""Start the embedded stack's processes for a benchmark: a dev server on a SQLite file, a worker, the API."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ops.run_embedded import dev_server_command, wait_for_frontend
from protection.keys import ensure_key_ring
from settings import ROOT, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def embedded_stack(with_api: bool = True) -> Iterator[Settings]:
    """A throw-away copy of what `make run` starts, on free ports and a temp data dir."""
    data = Path(tempfile.mkdtemp(prefix="bench-"))
    settings = Settings(
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        api_port=free_port(),
        data_dir=data,
        database_url=f"sqlite:///{data / 'readmodel.db'}",
    )
    ensure_key_ring(settings.payload_key_ring_path)  # the worker and the API read it from DATA_DIR
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_UI_PORT": str(settings.temporal_ui_port),
        "API_PORT": str(settings.api_port),
        "DATA_DIR": str(data),
        "DATABASE_URL": settings.database_url,
        "INTAKE_RATE_LIMIT": "0",  # one token files every complaint of a run: no per-token rate here
    }
    quiet = dict(cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen(dev_server_command(settings) + ["--headless"], **quiet)
    children = [server]
    try:
        asyncio.run(wait_for_frontend(settings.temporal_address, settings.temporal_namespace, server))
        if with_api:
            children.append(subprocess.Popen([sys.executable, "worker.py"], **quiet))
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "--factory", "api.main:app", "--host", "127.0.0.1",
                     "--port", str(settings.api_port), "--log-level", "warning", "--no-access-log"],
                    **quiet,
                )
            )
        yield settings
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
