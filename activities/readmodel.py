"""Read-model writes, run as local activities from the complaint and dispatch workflows."""

from __future__ import annotations

from temporalio import activity

from readmodel.store import ReadModel
from workflows.complaint_messages import RECORD_CHANGES_ACTIVITY, ComplaintChange
from workflows.dispatch_messages import RECORD_DISPATCH_CHANGES_ACTIVITY, DispatchChange


class ReadModelActivities:
    def __init__(self, read_model: ReadModel) -> None:
        self._complaints = read_model.complaints
        self._dispatches = read_model.dispatches

    @activity.defn(name=RECORD_CHANGES_ACTIVITY)
    def record_complaint_changes(self, changes: list[ComplaintChange]) -> None:
        # Idempotent (see readmodel/writes.py): a retried attempt finds its rows and changes nothing.
        self._complaints.record(changes)

    @activity.defn(name=RECORD_DISPATCH_CHANGES_ACTIVITY)
    def record_dispatch_changes(self, changes: list[DispatchChange]) -> None:
        self._dispatches.record(changes)
