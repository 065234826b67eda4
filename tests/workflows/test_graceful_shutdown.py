"""A redeploy stops workers with SIGTERM: the worker stops polling and lets the activities it holds
finish (worker.py: graceful_shutdown_timeout, inside compose's stop_grace_period), so a notice in the
middle of its delivery is sent once, by that worker, and not retried by another.

`python worker.py` runs as a subprocess against the dev server, with a real SMTP server that keeps
the supervisor's e-mail in DATA until after the SIGTERM (a slow relay), and a real SMS gateway.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from readmodel.store import ReadModel
from settings import ROOT, Settings
from tests.conftest import end_workflows, stack_settings
from tests.notifications.receivers import MailRecorder, free_port, running_gateway
from tests.workflows.test_clocks import AGENT, filing, start
from worker import ACTIVITY_THREADS, build_worker
from workflows.complaint import COMPLAINT_NOTICES_IN_TASK, ComplaintWorkflow
from workflows.complaint_messages import CloseUnresolvable

# The relay's latency once the worker was told to stop: well inside the 20 s grace period, and
# longer than a worker that cancels its activities at once would wait.
RELAY_DELAY_AFTER_SIGTERM = 2.0


@dataclass
class SlowRelay(MailRecorder):
    """Holds each message in DATA until `release` (then accepts it as MailRecorder does)."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def running_slow_relay() -> Iterator[tuple[SlowRelay, int]]:
    relay, port = SlowRelay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield relay, port
    finally:
        relay.release.set()
        controller.stop()


def environment_of(settings: Settings) -> dict[str, str]:
    """The worker process reads its settings from the environment: these, the test's own."""
    env = {}
    for name, value in settings.model_dump(exclude_none=True).items():
        env[name.upper()] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return env


async def notify_attempts(handle: WorkflowHandle) -> list[tuple[int, str, str]]:
    """Each notify activity of the case: (attempt it ended on, the worker that ran it, how it ended)."""
    events = (await handle.fetch_history()).events
    notify = {e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
              and e.activity_task_scheduled_event_attributes.activity_type.name == "notify"}
    started = {e.event_id: e.activity_task_started_event_attributes for e in events
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED}
    ended = []
    for e in events:
        for kind, attrs in (("completed", e.activity_task_completed_event_attributes),
                            ("failed", e.activity_task_failed_event_attributes),
                            ("timed out", e.activity_task_timed_out_event_attributes),
                            ("canceled", e.activity_task_canceled_event_attributes)):
            if e.HasField(f"activity_task_{kind.replace(' ', '_')}_event_attributes") and attrs.scheduled_event_id in notify:
                run = started[attrs.started_event_id]
                ended.append((run.attempt, run.identity, kind))
    return ended


async def test_sigterm_lets_a_notice_in_delivery_finish_on_that_worker_and_it_is_sent_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # The miss's notice is sent at whatever hour of the day the suite runs, not held to head office's
    # working hours (quiet hours are tested in test_quiet_hours.py; held, no e-mail would begin).
    policy = yaml.safe_load((ROOT / "policies" / "express_carrier.yaml").read_text(encoding="utf-8"))
    policy["quiet_hours"]["overdue"] = {"held": False}
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    with running_gateway() as gateway, running_slow_relay() as (relay, smtp_port):
        settings = stack_settings(tmp_path).model_copy(update={"policy_file": policy_file,
            "temporal_address": dev_env.client.service_client.config.target_host,
            "temporal_namespace": dev_env.client.namespace,
            "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_from": "complaints@carrier.example",
            "sms_gateway_url": gateway.url})
        read_model = ReadModel(settings.database_url)
        read_model.create_schema()  # as the deploy's schema step does before any worker starts
        log = (tmp_path / "worker.log").open("w")
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **environment_of(settings)})
        try:
            # Received a week ago: its first-contact clock is long past, so the supervisor is told at once.
            # Filed before complaint-notices-in-task, as the cases a redeploy meets are: its notices
            # are notify activities (as are those the in-task attempts hand on), which SIGTERM must let finish.
            now = await dev_env.get_current_time()
            older = filing(now - timedelta(days=7))
            older = older.model_copy(update={"built_with": [c for c in older.built_with if c != COMPLAINT_NOTICES_IN_TASK]})
            case = await start(dev_env, older, settings.temporal_task_queue)
            assert await asyncio.to_thread(relay.arrived.wait, 60), f"no e-mail began: {(tmp_path / 'worker.log').read_text()}"

            process.send_signal(signal.SIGTERM)  # the e-mail is in DATA: its notify activity is running
            threading.Timer(RELAY_DELAY_AFTER_SIGTERM, relay.release.set).start()
            assert await asyncio.to_thread(process.wait, 60) == 0  # it stopped by itself, inside the grace period

            stopped_worker = f"{process.pid}@"
            finished_there = [a for a in await notify_attempts(case) if a[1].startswith(stopped_worker)]
            assert finished_there and all(kind == "completed" and attempt == 1 for attempt, _, kind in finished_there)

            # The next version's worker carries the case on; the notice is not sent again.
            with ThreadPoolExecutor(ACTIVITY_THREADS) as executor:
                async with build_worker(dev_env.client, settings, read_model, executor):
                    await case.execute_update(ComplaintWorkflow.close_unresolvable,
                                              CloseUnresolvable(actor=AGENT, reason="sender unreachable"))
                    await case.result()
                    ended = await notify_attempts(case)
                    await end_workflows(dev_env, read_model)
            assert ended and all(kind == "completed" and attempt == 1 for attempt, _, kind in ended), ended
            sent_twice = [key for key, n in Counter(relay.message_ids).items() if n > 1]
            assert relay.received and sent_twice == []  # every e-mail reached the relay once
            assert gateway.repeats == []  # and every text the gateway once
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
            read_model.dispose()
