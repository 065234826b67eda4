"""Notices sent beside a workflow's clocks, never in front of them: a gateway outage must not hold
a deadline. The notify activity records every attempt in the outbox and passes a notice whose role
nobody holds in its unit up the org chart (to the policy's catch-all past the top), so a notice has
a recipient; one that fails for good (every channel rejected) is logged and the case goes on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

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


# A notice sent in the workflow task that decides it (a local activity) costs the server no
# activity task of its own, which counts at the 10:00 check-window peak. While it runs the task is
# held (and heartbeated), so it gets a few quick attempts only: a gateway still failing after them
# hands the notice to the notify activity and its hours of server-side retries.
NOTIFY_IN_TASK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=3)
NOTIFY_IN_TASK_ATTEMPT = timedelta(seconds=15)  # a sender gives up on its own after 10 s


def notify_in_task(request: notify.NotifyRequest, summary: str) -> asyncio.Task[None]:
    """Send the notice as a local activity; if the senders still fail after NOTIFY_IN_TASK_RETRY's
    attempts, go on as notify_beside does. The outbox key makes the second try send only what the
    first did not deliver, under the same idempotency key."""

    async def send() -> None:
        try:
            await workflow.execute_local_activity(
                notify.NOTIFY_ACTIVITY, request, start_to_close_timeout=NOTIFY_IN_TASK_ATTEMPT,
                retry_policy=NOTIFY_IN_TASK_RETRY, summary=summary,
            )
            return
        except (ActivityError, ApplicationError) as err:
            # A local activity's last failure may come as the activity's own error.
            cause = err.cause if isinstance(err, ActivityError) else err
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                # Every channel rejected it (or, with no catch-all, nobody to tell): trying longer cannot help.
                workflow.logger.warning("notice %s not delivered: %s", request.step, cause)
                return
        await notify_beside(request, summary)

    return asyncio.create_task(send())
