"""Structured JSON logs for the worker and the API: one JSON object a line on stderr.

Every record, ours and the libraries' (Temporal's SDK, uvicorn), goes through structlog's
formatter. A record from inside a workflow or an activity carries its ``workflow_id``, ``run_id``,
``workflow_type`` / ``activity_type`` and the ``case_id`` the workflow id is built from; the API's
request lines carry the route template and the case id from the path. Never personal data: those
are ids the workflow-id rule keeps free of it (DOMAIN §9), and messages name ids, not people.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from temporalio import activity, workflow

# complaint-<id>, judgement-<id>, contact-<id>, dispatch-<complaint id>-<n> (workflows/*_messages.py)
_CASE_OF_WORKFLOW = re.compile(r"^(?:complaint|judgement|contact)-(?P<case>.+)$|^dispatch-(?P<complaint>.+)-\d+$")
_TEMPORAL_KEYS = ("workflow_id", "run_id", "workflow_type", "activity_type", "activity_id", "attempt",
                  "task_queue", "namespace", "update_name", "update_id")


def case_of(workflow_id: str) -> str | None:
    """The complaint or contact a workflow id belongs to (a dispatch's: its complaint)."""
    match = _CASE_OF_WORKFLOW.match(workflow_id)
    return (match["case"] or match["complaint"]) if match else None


def _temporal_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Lift the SDK's `temporal_workflow` / `temporal_activity` extras into top-level keys."""
    record = event.get("_record")
    for extra in ("temporal_workflow", "temporal_activity"):
        details = event.pop(extra, None) or getattr(record, extra, None)
        for key in _TEMPORAL_KEYS:
            if isinstance(details, dict) and details.get(key) is not None:
                event.setdefault(key, details[key])
    if "workflow_id" in event and "case_id" not in event:
        if (case := case_of(str(event["workflow_id"]))) is not None:
            event["case_id"] = case
    return event


def configure(service: str, level: int = logging.INFO) -> None:
    """Send every log record of this process to stderr as JSON, tagged with the service name."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),  # `extra=` of a stdlib call: the API's request lines, the SDK's details
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_context,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks as data, without frame locals: those can hold a customer's name or phone.
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.EventRenamer("message"),
            lambda _, __, event: {"service": service, **event},
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn set up its own handlers before the app factory ran: hand its records to ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # The SDK's loggers append their details to the message; here they are keys of their own.
    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False
