"""Metrics a filed complaint moves: the API's GET /metrics (over ASGI, a real worker behind it) and
the worker's Temporal SDK endpoint, scraped over HTTP while a real worker runs a case."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
import yaml
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from settings import ROOT
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, auth, end_workflows, stack_settings
from tests.factories import complaint_body
from tests.notifications.receivers import free_port, running_gateway
from temporal_client import connect
from worker import ACTIVITY_THREADS, build_worker, metrics_runtime

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "complaint-desk.json"


def queried_metrics(prefix: str) -> set[str]:
    """The metric names (with that prefix) the alert rules and the dashboard's panels query."""
    expressions = [rule["expr"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    expressions += [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]
    return {name for expr in expressions for name in re.findall(rf"\b{prefix}[a-z_]+", expr)}


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text page, by name and label set."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(page: Samples, name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


async def scrape(stack: Stack) -> tuple[str, Samples]:
    resp = await stack.http.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain"), resp.text
    return resp.text, samples(resp.text)


async def until_rows(outbox: Outbox, case_id: str, n: int) -> None:
    for _ in range(200):  # bounded: real I/O, no clock to skip
        rows = outbox.list_for_case(case_id)
        if len(rows) >= n and all(r.status != "pending" for r in rows):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox rows of {case_id} never settled: {rows}")


async def test_a_filed_complaint_moves_the_api_counters(stack: Stack) -> None:
    _, before = await scrape(stack)
    assert value(before, "complaint_desk_outbox_messages", status="skipped") == 0

    # Level 1 ("受伤", injured): a red alert to head office's duty manager on SMS and e-mail, neither
    # configured on this stack, so two skipped outbox rows.
    red = await file(stack, complaint_body(description="快递员送件时把我撞受伤了"))
    await until_rows(Outbox(stack.read_model.engine), red["complaint_id"], 2)
    shown = await stack.http.get(f"/complaints/{red['complaint_id']}", headers=auth("supervisor"))
    assert shown.status_code == 200
    assert (await stack.http.get("/complaints/C-NOT-THERE", headers=auth("supervisor"))).status_code == 404
    status = shown.json()["status"]

    text, after = await scrape(stack)
    latency = "complaint_desk_http_request_duration_seconds_count"
    assert value(after, latency, method="POST", route="/complaints", status="201") == 1
    # Both reads by the route template: the id is in no label
    assert value(after, latency, method="GET", route="/complaints/{complaint_id}", status="200") == 1
    assert value(after, latency, method="GET", route="/complaints/{complaint_id}", status="404") == 1
    assert red["complaint_id"] not in text and "C-NOT-THERE" not in text and "13800138000" not in text
    assert value(after, "complaint_desk_cases_open", kind="complaint", status=status) == 1
    assert value(after, "complaint_desk_clocks_overdue", kind="complaint") == 0  # received just now
    assert value(after, "complaint_desk_outbox_messages", status="skipped") == 2
    assert value(after, "complaint_desk_outbox_messages", status="delivered") == 0
    assert value(after, "complaint_desk_notices_retried") == 0  # a skipped message is not attempted
    # Every API metric the alerts and the dashboard query is on the page (a renamed one would be blank)
    assert queried_metrics("complaint_desk_") <= {name for name, _ in after}

    # Received three days ago: its first-contact clock (hours) has passed, so an overdue open complaint.
    await file(stack, complaint_body(received_at=(datetime.now(UTC) - timedelta(days=3)).isoformat()))
    for _ in range(200):  # bounded: the worker records the case's clocks
        _, later = await scrape(stack)
        if value(later, "complaint_desk_clocks_overdue", kind="complaint") == 1:
            break
        await asyncio.sleep(0.05)
    assert value(later, "complaint_desk_clocks_overdue", kind="complaint") == 1
    assert sum(v for (name, labels), v in later.items()
               if name == "complaint_desk_cases_open" and ("kind", "complaint") in labels) == 2


async def test_the_worker_exports_the_sdk_metrics_while_it_runs_a_case(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    port = free_port()
    with running_gateway() as gateway:
        gateway.refusing = True  # every text refused (503): see the red alert below
        await exported_while_running_a_case(dev_env, tmp_path, port, gateway.url)


async def exported_while_running_a_case(dev_env: WorkflowEnvironment, tmp_path: Path, port: int, sms_url: str) -> None:
    settings = stack_settings(tmp_path).model_copy(update={
        "temporal_address": dev_env.client.service_client.config.target_host, "worker_metrics_port": port,
        "sms_gateway_url": sms_url})
    runtime = metrics_runtime(settings)  # what worker.main makes
    client = await connect(settings, runtime=runtime)
    read_model = ReadModel(settings.database_url)
    read_model.create_schema()
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, settings, read_model, executor)
        app = create_app(settings, temporal=client)
        try:
            async with worker, LifespanManager(app) as manager:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://api") as http:
                    # Level 1: its red alert is sent in the workflow task (a local activity); the
                    # gateway refuses its three quick attempts, so it is handed to the notify
                    # activity, a regular one (workflows/notices.py notify_in_task)
                    body = complaint_body(description="快递员送件时把我撞受伤了")
                    resp = await http.post("/complaints", json=body, headers=auth("front_seat"))
                    assert resp.status_code == 201, resp.text
                    async with httpx.AsyncClient() as prometheus:
                        for _ in range(400):  # until the alert's activity ran and its workflow task completed
                            page = samples((await prometheus.get(f"http://127.0.0.1:{port}/metrics")).text)
                            if {"temporal_activity_schedule_to_start_latency_count",
                                    "temporal_workflow_task_execution_latency_count"} <= {name for name, _ in page}:
                                break
                            await asyncio.sleep(0.05)
        finally:
            await end_workflows(dev_env, read_model)
            read_model.dispose()
    queue = settings.temporal_task_queue
    # The alert's metric (deploy/prometheus/alerts.yml): the workflow tasks this worker took
    tasks = [v for (name, labels), v in page.items()
             if name == "temporal_workflow_task_schedule_to_start_latency_count" and ("task_queue", queue) in labels]
    assert tasks and sum(tasks) >= 1, sorted({(name, labels) for name, labels in page if "schedule_to_start" in name})
    # The case's first clock: its deadline is looked up in a local activity (workflows/deadlines.py)
    deadlines = [v for (name, labels), v in page.items() if name == "temporal_local_activity_execution_latency_count"
                 and ("task_queue", queue) in labels and ("activity_type", "compute_deadline") in labels]
    assert deadlines and sum(deadlines) >= 1
    # Every SDK metric the alerts and the dashboard query is on the page (a renamed one would be
    # blank), but for a cache miss: counted only once one happens
    assert queried_metrics("temporal_") - {"temporal_sticky_cache_miss"} <= {name for name, _ in page}


def test_prometheus_scrapes_the_ports_the_api_and_the_workers_serve_metrics_on() -> None:
    from settings import Settings

    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["api"]["static_configs"] == [{"targets": ["api:8000"]}]  # uvicorn's --port in compose
    assert "8000" in compose["api"]["command"]
    [workers] = jobs["worker"]["dns_sd_configs"]  # every replica of the scaled service
    assert (workers["names"], workers["port"]) == (["worker"], Settings().worker_metrics_port)
    assert compose["worker"]["environment"]["WORKER_METRICS_HOST"] == "0.0.0.0"  # reachable from prometheus
    mounts = compose["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_a_second_worker_on_one_machine_runs_unmeasured_rather_than_not_at_all(caplog) -> None:  # type: ignore[no-untyped-def]
    import socket

    from settings import Settings

    with socket.socket() as first_worker:
        first_worker.bind(("127.0.0.1", 0))
        first_worker.listen()
        taken = first_worker.getsockname()[1]
        assert metrics_runtime(Settings(worker_metrics_port=taken)) is None
    assert f"worker metrics not exported on 127.0.0.1:{taken}" in caplog.text
    assert metrics_runtime(Settings(worker_metrics_port=0)) is None  # 0: asked for none
