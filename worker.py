"""The complaint worker: runs ComplaintWorkflow and its activities on the task queue.

Start as many as you like on the same task queue (docker-compose scales them); each picks up
whatever case needs work, so a worker that dies mid-case loses nothing.
"""

from __future__ import annotations

import asyncio
import compileall
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.calendar import CalendarActivities
from activities.contact import ContactActivities
from activities.judgement import JudgementActivities
from activities.notify import NotificationActivities
from activities.readmodel import ReadModelActivities
from activities.retention import RetentionActivities
from notifications.directory import Directory
from notifications.messages import Channel
from notifications.senders import Sender, close_senders, configured_senders
from ops.logging import configure as configure_logging
from ops.namespace import ensure_retention_schedule
from readmodel.store import ReadModel
from rules.policy import Policy, PolicyFile
from settings import ROOT, Settings, get_settings
from temporal_client import connect
from workflows.complaint import ComplaintWorkflow
from workflows.contact import ConsultationWorkflow, NewFailureModeWorkflow, RescueRequestWorkflow
from workflows.dispatch import DispatchWorkflow
from workflows.judgement import JudgementWorkflow
from workflows.retention import RetentionWorkflow

WORKFLOWS = [ComplaintWorkflow, DispatchWorkflow, JudgementWorkflow, ConsultationWorkflow, RescueRequestWorkflow, NewFailureModeWorkflow,
             RetentionWorkflow]
# Sync activities (SQL writes) run on these threads; the worker takes no more than it can run.
ACTIVITY_THREADS = 32


def configured_for(settings: Settings) -> dict[Channel, Sender]:
    return configured_senders(
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_from=settings.smtp_from,
        sms_gateway_url=settings.sms_gateway_url,
        sms_api_key=settings.sms_api_key,
        timeout=settings.notify_timeout_seconds,
    )


def directory_of(policy: PolicyFile) -> Callable[[], Directory]:
    """The directory of the policy in force, built again only when the policy file changes."""
    built: list[tuple[Policy, Directory]] = []

    def current() -> Directory:
        in_force = policy.current()
        if not built or built[0][0] is not in_force:
            built[:] = [(in_force, Directory.from_policy_data(in_force.directory, in_force))]
        return built[0][1]

    return current


def compile_workflow_modules() -> None:
    """The sandbox imports a workflow's module afresh for every workflow it starts or replays. With
    no bytecode on disk (PYTHONDONTWRITEBYTECODE, set on our machines and in the image) each of
    those imports compiles the source again, milliseconds of CPU per case: write it once here."""
    if not compileall.compile_dir(ROOT / "workflows", quiet=2):
        logging.getLogger(__name__).warning("workflow modules not compiled to bytecode (read-only tree?)")


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """Worker Versioning when a deployment is named: this worker serves one version of it, and the
    server sends a case's tasks to the deployment's current version only. Every workflow type is
    AUTO_UPGRADE: a complaint lives for weeks, so it moves to the new version on its next task and
    workflow.patched (workflows/case.py Patches) keeps its history replaying; docs/DESIGN.md says why."""
    if not settings.worker_deployment_name:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name=settings.worker_deployment_name, build_id=settings.build_id),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


def build_worker(
    client: Client,
    settings: Settings,
    read_model: ReadModel,
    executor: ThreadPoolExecutor,
    policy: PolicyFile | None = None,
    senders: Mapping[Channel, Sender] | None = None,
    workflows: Sequence[type] = WORKFLOWS,  # a test deploys a changed workflow in their place
) -> Worker:
    compile_workflow_modules()
    policy = policy or PolicyFile(settings.policy_file)
    read_model_activities = ReadModelActivities(read_model)
    calendar_activities = CalendarActivities(policy)
    judgement_activities = JudgementActivities(read_model, policy)
    notification_activities = NotificationActivities(
        read_model.outbox, configured_for(settings) if senders is None else senders, directory_of(policy)
    )
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=workflows,
        activities=[
            read_model_activities.record_complaint_changes,
            read_model_activities.record_dispatch_changes,
            calendar_activities.compute_deadline,
            calendar_activities.compute_deadline_chain,
            calendar_activities.working_minutes_between,
            calendar_activities.resumed_deadlines,
            calendar_activities.notice_hold,
            notification_activities.notify,
            judgement_activities.judgement_terms,
            judgement_activities.record_judgement_changes,
            judgement_activities.appeal_rights,
            ContactActivities(read_model).record_contact_changes,
            RetentionActivities(read_model, policy).deidentify_closed_cases,
        ],
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        max_concurrent_local_activities=ACTIVITY_THREADS,
        # Every open complaint and dispatch waits on a timer; a cache smaller than that replays
        # whole histories when the timers fire together (the 10:00 check-window peak).
        max_cached_workflows=settings.worker_cached_workflows,
        # On SIGTERM (a redeploy), let running activities finish inside the container's grace period.
        graceful_shutdown_timeout=timedelta(seconds=20),
        deployment_config=deployment_config(settings),
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The SDK's Prometheus endpoint (temporal_* metrics, durations in ms) at WORKER_METRICS_HOST:PORT;
    made before any other Temporal object, as the SDK asks. Port 0: no endpoint. A second worker on
    the same machine finds the port taken: it runs, unmeasured, rather than not at all."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except ValueError as exc:  # "Failed starting Prometheus exporter: Address already in use"
        logging.warning("worker metrics not exported on %s: %s (set WORKER_METRICS_PORT)", address, exc)
        return None


async def main() -> None:
    configure_logging("worker")
    settings = get_settings()
    runtime = metrics_runtime(settings)
    read_model = ReadModel(settings.database_url)
    read_model.require_schema()  # the schema is upgraded before start-up: python -m readmodel.migrate
    client = await connect(settings, runtime=runtime)
    await ensure_retention_schedule(client, settings)  # the daily retention run (ops/namespace.py)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    senders = configured_for(settings)
    if unconfigured := [channel.value for channel in Channel if channel not in senders]:
        logging.info("no sender for %s: their messages are recorded as skipped", ", ".join(unconfigured))
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, settings, read_model, executor, senders=senders)
        async with worker:
            logging.info("worker polling task queue %s on %s (deployment %s, build %s)", settings.temporal_task_queue,
                         settings.temporal_address, settings.worker_deployment_name or "none: unversioned",
                         settings.build_id if settings.worker_deployment_name else "-")
            await stop.wait()
    await close_senders(senders)
    read_model.dispose()


if __name__ == "__main__":
    asyncio.run(main())
