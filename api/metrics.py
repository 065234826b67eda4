"""The API's Prometheus metrics at GET /metrics (the worker's come from the Temporal SDK, worker.py).

- ``complaint_desk_http_request_duration_seconds{method,route,status}``: request latency by the
  route *template* (``/complaints/{complaint_id}``), never the raw path, so no id, tracking number
  or phone ends up in a label; a path no route matches is ``unmatched``.
- From the read model, counted when Prometheus scrapes (a few aggregate queries on indexed
  columns, nothing kept in between, so every API replica reports the same numbers):
  ``complaint_desk_cases_open{kind,status}``, ``complaint_desk_clocks_overdue{kind}`` (open cases
  with an overdue clock: for complaints the dashboard's rule), ``complaint_desk_outbox_messages{status}``
  and ``complaint_desk_notices_retried`` (messages that needed more than one attempt).

Each app has its own registry: tests build many apps in one process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from readmodel.dashboard import open_by_due
from readmodel.tables import ComplaintRow, ContactRow, DispatchRow, JudgementRow, OutboxRow
from rules.dispatch import DispatchStatus
from rules.judgement import FINAL_STATUSES
from rules.lifecycle import ComplaintStatus

UNMATCHED = "unmatched"
QUIET_ROUTES = frozenset({"/metrics", "/healthz"})
# Path parameters that name a case: the request's log line carries it as case_id.
CASE_PARAMETERS = ("complaint_id", "dispatch_id", "judgement_id", "contact_id")
OPEN_DISPATCH = (DispatchStatus.AWAITING_REVIEW.value, DispatchStatus.OPEN.value)
CLOSED = ComplaintStatus.CLOSED.value  # a contact's closed status has the same name

# One line a request (JSON under ops/logging.py): the route template, never the path or its query.
request_log = logging.getLogger("api.request")


class RequestMetrics:
    """ASGI middleware: time every HTTP request and label it by the route that served it."""

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an exception escaping the app
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or UNMATCHED  # set by the router on a match
            self.latency.labels(scope["method"], route, str(status)).observe(elapsed)
            if route not in QUIET_ROUTES:  # Prometheus and health checks every few seconds: measured, not logged
                # The id from the path once it named a case: a path that found nothing may hold anything
                params = (scope.get("path_params") or {}) if status < 400 else {}
                case_id = next((params[name] for name in CASE_PARAMETERS if name in params), None)
                request_log.info("request", extra={"method": scope["method"], "route": route, "status": status,
                                                   "duration_ms": round(elapsed * 1000, 1), "case_id": case_id})


class ReadModelCollector(Collector):
    """Case, clock and outbox figures, counted from the read model at scrape time."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.engine = engine  # the app's read model exists only once its lifespan has started

    def collect(self) -> Iterator[Metric]:
        engine = self.engine()
        if engine is None:
            return
        try:
            figures = self._figures(engine, datetime.now(UTC))
        except Exception:  # a scrape must not fail the API; Prometheus sees the gap
            logging.getLogger(__name__).warning("read-model metrics not counted", exc_info=True)
            return
        yield from figures

    def describe(self) -> Iterator[Metric]:
        return iter(())  # figures are counted at scrape time only, not at registration

    @staticmethod
    def _figures(engine: Engine, now: datetime) -> list[Metric]:
        complaint, dispatch, judgement = (t.__table__.c for t in (ComplaintRow, DispatchRow, JudgementRow))  # type: ignore[attr-defined]
        contact, outbox = ContactRow.__table__.c, OutboxRow.__table__.c  # type: ignore[attr-defined]
        open_cases = GaugeMetricFamily("complaint_desk_cases_open", "Open cases by kind and status.",
                                       labels=["kind", "status"])
        overdue = GaugeMetricFamily("complaint_desk_clocks_overdue", "Open cases with an overdue clock, by kind.",
                                    labels=["kind"])
        messages = GaugeMetricFamily("complaint_desk_outbox_messages", "Outbox messages by status.", labels=["status"])
        retried = GaugeMetricFamily("complaint_desk_notices_retried",
                                    "Outbox messages that needed more than one send attempt.")
        with engine.connect() as conn:
            def count_by(*columns, where) -> list:  # type: ignore[no-untyped-def]
                return conn.execute(select(*columns, func.count()).where(where).group_by(*columns)).all()

            def count(where) -> int:  # type: ignore[no-untyped-def]
                return int(conn.execute(select(func.count()).where(where)).scalar_one())

            for status, n in count_by(complaint.status, where=complaint.status != CLOSED):
                open_cases.add_metric(["complaint", status], n)
            for status, n in count_by(dispatch.status, where=dispatch.status.in_(OPEN_DISPATCH)):
                open_cases.add_metric(["dispatch", status], n)
            for status, n in count_by(judgement.status, where=judgement.status.not_in(sorted(FINAL_STATUSES))):
                open_cases.add_metric(["judgement", status], n)
            for kind, status, n in count_by(contact.kind, contact.status, where=contact.status != CLOSED):
                open_cases.add_metric([kind, status], n)
            overdue.add_metric(["dispatch"], count((dispatch.status.in_(OPEN_DISPATCH)) & (dispatch.due < now)))
            overdue.add_metric(["judgement"], count(judgement.status.not_in(sorted(FINAL_STATUSES)) & (judgement.due < now)))
            found = {status: n for status, n in count_by(outbox.status, where=outbox.id.is_not(None))}
            for status in ("pending", "failed", "delivered", "skipped"):
                messages.add_metric([status], found.get(status, 0))
            retried.add_metric([], count(outbox.attempts > 1))
        overdue.add_metric(["complaint"], open_by_due(engine, now)["overdue"])
        return [open_cases, overdue, messages, retried]


def metrics_response(registry: CollectorRegistry) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app, engine: Callable[[], Engine | None]) -> None:  # type: ignore[no-untyped-def]
    """Time every request and serve GET /metrics (open like /healthz: ids and counts, no personal data)."""
    registry = CollectorRegistry()
    registry.register(ReadModelCollector(engine))
    latency = Histogram(
        "complaint_desk_http_request_duration_seconds",
        "HTTP request latency by route template and status.",
        ["method", "route", "status"],
        registry=registry,
    )
    app.add_middleware(RequestMetrics, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return metrics_response(registry)
