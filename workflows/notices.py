"""Notices sent beside a workflow's clocks, never in front of them: a gateway outage must not hold
a deadline. The notify activity records every attempt in the outbox and passes a notice whose role
nobody holds in its unit up the org chart (to the policy's catch-all past the top), so a notice has
a recipient; one that fails for good (every channel rejected) is logged and the case goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from notifications import messages as notify
    from workflows.clocks import done_or_due
    from workflows.deadlines import NoticeHoldRequest, look_up_hold


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


Send = Callable[[notify.NotifyRequest, str], asyncio.Task[None]]
# Records an event of the notice's case: its action (hold_notice, held_notice_sent, notice_not_sent) and detail.
RecordNoticeEvent = Callable[[str, dict[str, Any]], Awaitable[None]]


async def send_after_quiet_hours(hold: NoticeHoldRequest, request: notify.NotifyRequest, summary: str, send: Send, *,
                                 to: dict[str, str], moot: Callable[[], str | None], record: RecordNoticeEvent) -> None:
    """Quiet hours (issue #16), for a dispatch's and a complaint's notices alike: the calendar says
    whether the notice waits for the addressed unit's next opening. Held, it waits on a durable
    timer (named in the Web UI) and is sent then if still owed; when `moot()` gives a reason
    meanwhile (the answer came, the case closed) it is recorded as not sent, with that reason.
    `to` names the addressee for the timeline and the timer: {"notify": role, "unit": unit}."""
    held = await look_up_hold(hold)
    if held.until is not None:
        detail: dict[str, Any] = {"occasion": request.step, **to, "until_local": held.until_local}
        await record("hold_notice", detail)
        addressee = f"{to['notify']} {'above' if hold.level_above else 'of'} {to['unit']}"
        if await done_or_due(lambda: moot() is not None, held.until, f"hold text to {addressee} until {held.until_local}"):
            await record("notice_not_sent", {**detail, "reason": moot()})
            return
        await record("held_notice_sent", detail)
    await send(request, summary)
