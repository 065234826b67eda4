"""The retention run's I/O: one batch of de-identifications in the read model (readmodel/retention.py),
with the retention period of the policy in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity

from readmodel.retention import Retention
from readmodel.store import ReadModel
from rules.policy import PolicyFile
from workflows.retention import DEIDENTIFY_ACTIVITY, BatchDone, DeidentifyBatch


class RetentionActivities:
    def __init__(self, read_model: ReadModel, policy: PolicyFile) -> None:
        self._retention = Retention(read_model.engine, read_model.write_lock)
        self._policy = policy

    @activity.defn(name=DEIDENTIFY_ACTIVITY)
    def deidentify_closed_cases(self, batch: DeidentifyBatch) -> BatchDone:
        days = self._policy.current().retention.personal_data_days_after_closing
        cutoff = batch.as_of - timedelta(days=days)
        # The audit rows say when the data really changed: now, not the run's instant.
        done = self._retention.deidentify_closed_before(cutoff, actor=batch.actor, at=datetime.now(UTC), limit=batch.limit)
        activity.logger.info("retention: %d complaints, %d contacts closed before %s de-identified",
                             len(done.complaints), len(done.contacts), cutoff.isoformat())
        return BatchDone(cutoff=cutoff, complaints=len(done.complaints), contacts=len(done.contacts),
                         more=max(len(done.complaints), len(done.contacts)) >= batch.limit)
