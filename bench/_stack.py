"""Start the embedded stack's processes for a benchmark: a dev server on a SQLite file, a worker, the API,
with the read model on a SQLite file or on a throwaway PostgreSQL cluster (ops/postgres.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Literal

import httpx
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from ops.postgres import running_cluster
from ops.run_embedded import api_command, dev_server_command, upgrade_read_model, wait_for_frontend, worker_command
from protection.keys import ensure_key_ring
from settings import ROOT, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Database = Literal["sqlite", "postgresql"]
DATABASES: tuple[Database, ...] = ("sqlite", "postgresql")


@contextmanager
def read_model_url(database: Database, data: Path, processes: dict[str, int] | None = None) -> Iterator[str]:
    """An empty read-model database: a SQLite file in `data`, or a database on a throwaway cluster
    (its server's pid put into `processes` as "postgresql")."""
    if database == "sqlite":
        yield f"sqlite:///{data / 'readmodel.db'}"
        return
    with running_cluster() as cluster:
        if processes is not None:
            processes["postgresql"] = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        yield cluster.create_database("complaints")


@contextmanager
def embedded_stack(
    with_api: bool = True, database: Database = "sqlite", processes: dict[str, int] | None = None
) -> Iterator[Settings]:
    """A throw-away copy of what `make run` starts, on free ports and a temp data dir; the read model's
    schema at head. `processes`, when given, gets the pid of each server by name (for cpu_seconds)."""
    data = Path(tempfile.mkdtemp(prefix="bench-"))
    pids = {} if processes is None else processes
    with read_model_url(database, data, pids) as database_url, _servers(data, database_url, with_api, pids) as settings:
        yield settings


def cpu_seconds(pid: int) -> float:
    """CPU a process and its descendants have used so far (Linux /proc: its own, its reaped children's
    and its live children's)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return own + sum(cpu_seconds(int(c)) for c in (children.read_text().split() if children.exists() else []))


@contextmanager
def _servers(data: Path, database_url: str, with_api: bool, pids: dict[str, int]) -> Iterator[Settings]:
    settings = Settings(
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        api_port=free_port(),
        data_dir=data,
        database_url=database_url,
    )
    upgrade_read_model(settings)  # as `make run` does before its children start; they only check it
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
    children = {"dev server": server}
    try:
        wait_for_frontend(settings, server)
        if with_api:
            children["worker"] = subprocess.Popen(worker_command(settings), **quiet)
            children["api"] = subprocess.Popen(api_command(settings), **quiet)
        pids.update((name, child.pid) for name, child in children.items())
        yield settings
    finally:
        for child in reversed(children.values()):
            child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def peak_memory_mb(pid: int) -> float:
    """The most resident memory a process has held since it started (Linux /proc VmHWM), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    line = next((l for l in status.splitlines() if l.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


# -- what the benches that time clocks beside bare Temporal share (burst.py, steady.py) -----------

LANES = 16  # HTTP requests (or starts) in flight while setting up (as bench/intake.py)
POLL = 0.05
ACTIVITY_THREADS = 32  # worker.py's ACTIVITY_THREADS


class BareRows:
    """One SQLite file (WAL) the bare activity inserts into; a connection per activity thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS fired (id TEXT PRIMARY KEY, at REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
        return db

    @activity.defn(name="bare_insert")
    def insert(self, row_id: str) -> None:
        db = self._db()
        db.execute("INSERT OR IGNORE INTO fired (id, at) VALUES (?, ?)", (row_id, time.time()))
        db.commit()


@workflow.defn(sandboxed=False)
class BareTimerWorkflow:
    """The bare reference: sleep to an absolute instant, then one activity that writes a row."""

    @workflow.run
    async def run(self, until: datetime) -> None:
        await workflow.sleep(max(until - workflow.now(), timedelta(milliseconds=1)))
        await workflow.execute_activity("bare_insert", workflow.info().workflow_id,
                                        start_to_close_timeout=timedelta(seconds=30))


@asynccontextmanager
async def bare_worker(client: Client, task_queue: str, rows_db: BareRows,
                      max_cached_workflows: int | None = None) -> AsyncIterator[Worker]:
    """A worker in this process for BareTimerWorkflow, with worker.py's activity threads (and, when
    given, its workflow cache)."""
    cache = {} if max_cached_workflows is None else {"max_cached_workflows": max_cached_workflows}
    with ThreadPoolExecutor(ACTIVITY_THREADS) as pool:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[BareTimerWorkflow],
            activities=[rows_db.insert],
            activity_executor=pool,
            max_concurrent_activities=ACTIVITY_THREADS,
            max_concurrent_local_activities=ACTIVITY_THREADS,
            **cache,
        ) as worker:
            yield worker


@contextmanager
def sms_gateway() -> Iterator[dict[str, Any]]:
    """A local SMS gateway: answers 201 to POST /messages (409 to a repeated Idempotency-Key, like a real one)."""
    seen: set[str] = set()
    stats = {"requests": 0, "url": ""}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key") or uuid.uuid4().hex
            with lock:
                stats["requests"] += 1
                status = 201 if key not in seen else 409
                seen.add(key)
            if self.path != "/messages":
                status = 404
            body = b'{"status": "accepted"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    stats["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        server.shutdown()
        server.server_close()


async def wait_for_api(http: httpx.AsyncClient, timeout: float = 180) -> None:
    """Until the API answers: by the clock, since its start (imports, the policy, jieba's dictionary)
    takes a minute or more on a slow, busy machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"the API did not answer /healthz within {timeout:.0f} s")


async def in_lanes(count: int, one: Callable[[int], Awaitable[None]], lanes: int = LANES) -> float:
    """one(0) … one(count - 1), `lanes` at a time, in order of i; the seconds it took."""
    queue = iter(range(count))

    async def lane() -> None:
        for i in queue:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return time.perf_counter() - started


def scalar(db_path: Path, sql: str, *args: Any) -> Any:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchone()[0]


def rows(db_path: Path, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def utc(text: str) -> datetime:
    """An instant as the read model stores it on SQLite (naive UTC text)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def sleep_until(instant: datetime) -> None:
    while (left := (instant - datetime.now(UTC)).total_seconds()) > 0:
        await asyncio.sleep(min(left, 1.0))


async def wait_for_count(count: Callable[[], int], target: int, timeout: float, what: str,
                         while_moving: bool = False) -> float:
    """Poll until count() reaches target; the wall time (epoch s) it was first seen there. Gives up
    `timeout` s after the start or, `while_moving`, after the count last went up (a slow machine
    that keeps working is waited for)."""
    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    before = -1
    while True:
        seen = await asyncio.to_thread(count)
        if seen >= target:
            return time.time()
        if while_moving and seen > before:
            deadline, before = time.monotonic() + timeout, seen
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: {seen} of {target}, none more for {timeout:.0f} s" if while_moving
                             else f"{what}: {seen} of {target} after {timeout:.0f} s")
        if time.monotonic() - last_report > 15:
            print(f"  … {what}: {seen}/{target}", flush=True)
            last_report = time.monotonic()
        await asyncio.sleep(POLL)
