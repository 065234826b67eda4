"""A worker killed (SIGKILL) after the gateway took the text but before the outbox heard back:
the next worker sends again with the same key, so the phone gets one text and there is one row."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from settings import ROOT
from tests.notifications.notify_worker_process import NotifyWithShortAttemptsWorkflow
from tests.notifications.test_sms import escalation, new_case


class HoldingGateway:
    """Takes the first text, then holds its answer until told; later texts with a known key get 409."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.handset: list[dict] = []
        self.first_received = threading.Event()
        self.release = threading.Event()
        self.url = ""


@contextmanager
def holding_gateway() -> Iterator[HoldingGateway]:
    gateway = HoldingGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            status = 409 if key in gateway.keys else 201
            if status == 201:
                gateway.handset.append(body)  # the phone network has it now
            gateway.keys.append(key)
            if len(gateway.keys) == 1:
                gateway.first_received.set()
                gateway.release.wait(timeout=30)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the worker that asked is dead

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway.release.set()
        server.shutdown()
        server.server_close()


def start_worker(env: WorkflowEnvironment, queue: str, db: str, gateway: str) -> subprocess.Popen:
    target = env.client.service_client.config.target_host
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.notifications.notify_worker_process", target, queue, db, gateway],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


async def test_a_worker_killed_between_sending_and_recording_sends_once(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'outbox.db'}"
    read_model = ReadModel(db)
    read_model.create_schema()
    queue = f"notify-kill-{uuid.uuid4().hex[:6]}"
    case = new_case()
    with holding_gateway() as gateway:
        first = start_worker(dev_env, queue, db, gateway.url)
        try:
            handle = await dev_env.client.start_workflow(
                NotifyWithShortAttemptsWorkflow.run, escalation(case), id=f"notify-{case}", task_queue=queue
            )
            assert gateway.first_received.wait(timeout=20)
        finally:
            first.kill()  # SIGKILL: no exception handler, no mark_delivered
            first.wait()
        gateway.release.set()
        [row] = Outbox(read_model.engine).list_for_case(case)
        assert row.status == "pending"  # the send happened, the record of it did not

        second = start_worker(dev_env, queue, db, gateway.url)
        try:
            result = await handle.result()
        finally:
            second.kill()
            second.wait()

    assert len(set(gateway.keys)) == 1 and len(gateway.keys) == 2  # a repeat, with the same key
    assert len(gateway.handset) == 1  # the gateway dropped the repeat: one text on the phone
    [row] = Outbox(read_model.engine).list_for_case(case)
    assert row.status == "delivered" and row.id == gateway.keys[0]
    assert [m.outcome for m in result.messages] == ["delivered"]
    read_model.dispose()
