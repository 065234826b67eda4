"""Read-model writes of the contact workflows, run as local activities."""

from __future__ import annotations

from temporalio import activity

from readmodel.store import ReadModel
from workflows.contact_messages import RECORD_CONTACT_CHANGES_ACTIVITY, ContactChange


class ContactActivities:
    def __init__(self, read_model: ReadModel) -> None:
        self._store = read_model.contacts

    @activity.defn(name=RECORD_CONTACT_CHANGES_ACTIVITY)
    def record_contact_changes(self, changes: list[ContactChange]) -> None:
        self._store.record(changes)  # idempotent: a retried attempt finds its rows
