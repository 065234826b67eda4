"""Notices sent beside a workflow's clocks, never in front of them: a gateway outage must not hold
a deadline. The notify activity records every attempt in the outbox; a notice that fails for good
(nobody holds the role, every channel rejected) is logged and the case goes on."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from notifications import messages as notify


def notify_beside(request: notify.NotifyRequest, summary: str) -> asyncio.Task[None]:
    """Start the notify activity as a task of its own; await the task before the workflow ends."""

    async def send() -> None:
        try:
            await workflow.execute_activity(
                notify.NOTIFY_ACTIVITY, request, start_to_close_timeout=notify.NOTIFY_START_TO_CLOSE,
                schedule_to_close_timeout=notify.NOTIFY_SCHEDULE_TO_CLOSE, retry_policy=notify.NOTIFY_RETRY,
                summary=summary,
            )
        except ActivityError as err:
            workflow.logger.warning("notice %s not delivered: %s", request.step, err.cause or err)

    return asyncio.create_task(send())
