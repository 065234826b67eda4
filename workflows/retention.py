"""The daily retention run (DOMAIN §9; PIPL art. 19 and 47): closed cases past the policy's retention
lose their customer's personal data in the read model.

Started by the Temporal Schedule `retention-deidentify-daily` (ops/namespace.py), one run a day. The
run fixes its instant once (`as_of`, the schedule's start), then asks the activity for batches of
de-identifications, oldest closings first, until a batch comes back short; the activity reads the
retention period from the policy in force and does the SQL. A long backlog (the first run after
the policy is introduced) continues as new when the history grows, carrying the instant and totals.

Orchestration only: no I/O here, no customer data in any input or result (ids and counts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from rules.actors import Actor, Role
from workflows.case import Message

RETENTION_WORKFLOW_ID = "retention-deidentify"  # the schedule appends its start time to it
DEIDENTIFY_ACTIVITY = "deidentify_closed_cases"
BATCH_SIZE = 200  # complaints and as many contacts per activity: seconds of SQL, well inside its timeout
# Who the audit log names for the schedule's de-identifications.
RETENTION_ACTOR = Actor(id="retention-schedule", name="Retention schedule", role=Role.OPERATIONS, unit="hq")

DEIDENTIFY_OPTIONS = dict(
    start_to_close_timeout=timedelta(minutes=5),
    # The database may be away for a while; each case is its own transaction, so a retry goes on where it stopped.
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)


class RetentionRun(Message):
    """What the schedule starts a run with (nothing: the run takes its start as `as_of`), or what a
    run continued as new carries."""

    as_of: datetime | None = None
    complaints: int = 0
    contacts: int = 0


class DeidentifyBatch(Message):
    actor: Actor
    as_of: datetime  # cases closed before as_of minus the policy's retention period are due
    limit: int


class BatchDone(Message):
    cutoff: datetime  # closed before this instant: de-identified
    complaints: int
    contacts: int
    more: bool  # a full batch: more may be due


class RetentionReport(Message):
    cutoff: datetime
    complaints: int
    contacts: int


@workflow.defn(name="RetentionWorkflow")
class RetentionWorkflow:
    @workflow.run
    async def run(self, run: RetentionRun) -> RetentionReport:
        as_of = run.as_of or workflow.now()
        complaints, contacts = run.complaints, run.contacts
        while True:
            done = await workflow.execute_activity(
                DEIDENTIFY_ACTIVITY, DeidentifyBatch(actor=RETENTION_ACTOR, as_of=as_of, limit=BATCH_SIZE),
                result_type=BatchDone, summary="de-identify closed cases past retention", **DEIDENTIFY_OPTIONS,
            )
            complaints, contacts = complaints + done.complaints, contacts + done.contacts
            if not done.more:
                return RetentionReport(cutoff=done.cutoff, complaints=complaints, contacts=contacts)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(RetentionRun(as_of=as_of, complaints=complaints, contacts=contacts))
