"""A workflow that only calls the notify activity: what an escalation step will do, nothing more."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from notifications.messages import NOTIFY_ACTIVITY, NOTIFY_RETRY, NotifyRequest, NotifyResult

# NOTIFY_RETRY with test-sized intervals (a bound on attempts so a bug cannot loop for ever).
FAST_NOTIFY_RETRY = dataclasses.replace(
    NOTIFY_RETRY,
    initial_interval=timedelta(milliseconds=50),
    maximum_interval=timedelta(milliseconds=200),
    maximum_attempts=6,
)


@workflow.defn
class NotifyOnceWorkflow:
    @workflow.run
    async def run(self, request: NotifyRequest) -> NotifyResult:
        return await workflow.execute_activity(
            NOTIFY_ACTIVITY,
            request,
            result_type=NotifyResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=FAST_NOTIFY_RETRY,
            summary=f"notify {request.step}",
        )
