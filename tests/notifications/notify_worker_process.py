"""A worker process that only notifies, for the test that kills it mid-send (kill -9, not an exception).

python -m tests.notifications.notify_worker_process ADDRESS TASK_QUEUE DATABASE_URL SMS_GATEWAY_URL
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from notifications.messages import NOTIFY_ACTIVITY, NOTIFY_RETRY, NotifyRequest, NotifyResult

# A short attempt timeout, so the attempt lost with the killed worker is retried within seconds.
ATTEMPT_TIMEOUT = timedelta(seconds=3)


@workflow.defn
class NotifyWithShortAttemptsWorkflow:
    @workflow.run
    async def run(self, request: NotifyRequest) -> NotifyResult:
        return await workflow.execute_activity(
            NOTIFY_ACTIVITY, request, result_type=NotifyResult, start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=NOTIFY_RETRY.__class__(initial_interval=timedelta(milliseconds=100), maximum_attempts=5),
        )


async def main(address: str, task_queue: str, database_url: str, gateway: str) -> None:
    from activities.notify import NotificationActivities
    from notifications.directory import Directory
    from notifications.senders import configured_senders
    from readmodel.store import ReadModel
    from rules.policy import load_policy
    from settings import ROOT
    from tests.protection.keys import DATA_CONVERTER

    policy = load_policy(ROOT / "policies" / "express_carrier.yaml")
    activities = NotificationActivities(
        ReadModel(database_url),
        configured_senders(smtp_host=None, smtp_port=25, smtp_from=None, sms_gateway_url=gateway, sms_api_key=None, timeout=30),
        Directory.from_policy_data(policy.directory, policy),
    )
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    async with Worker(client, task_queue=task_queue, workflows=[NotifyWithShortAttemptsWorkflow], activities=[activities.notify]):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
