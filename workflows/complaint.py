"""ComplaintWorkflow (投诉): one durable execution per complaint, id ``complaint-<complaint id>``.

Reads like DOMAIN §4: received → classified → (answered at first contact → closed) or
in handling → resolved → confirmed → satisfaction call-back (satisfied → closed,
dissatisfied → handled again). Every agent action is an Update whose validator rejects a wrong
transition before anything enters history; every change is written to the read model by a
local activity and mirrored in the search attributes the Web UI filters on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from rules.actors import Actor
    from rules.lifecycle import ComplaintAction, ComplaintStatus, InvalidTransition, next_status
    from workflows.shared import (
        RECORD_CHANGES_ACTIVITY,
        AnswerAtFirstContact,
        CloseUnresolvable,
        ComplaintChange,
        ComplaintFiling,
        ComplaintOutcome,
        ComplaintSearch,
        ComplaintState,
        ConfirmWithCustomer,
        RecordCallback,
        Resolve,
        TakeIntoHandling,
        TimelineEntry,
        complaint_workflow_id,
        intake_changes,
    )

# The read model must catch up however long the database is away; each try is short.
READ_MODEL_WRITE = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)),
)

INVALID_TRANSITION = "InvalidTransition"


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, filing: ComplaintFiling) -> None:
        self._filing = filing
        self._status = ComplaintStatus.CLASSIFIED
        self._seq = 2  # received and classified are written at intake (intake_changes)
        self._handling_round = 0
        self._one_time_resolution = True
        self._closed_at = None
        self._intake_recorded = False

    @workflow.run
    async def run(self, filing: ComplaintFiling) -> ComplaintOutcome:
        await self._record(intake_changes(filing))
        self._intake_recorded = True
        self._refresh_details()
        await workflow.wait_condition(
            lambda: self._status is ComplaintStatus.CLOSED and workflow.all_handlers_finished()
        )
        return ComplaintOutcome(
            complaint_id=filing.complaint_id,
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
            closed_at=self._closed_at,
        )

    # -- agent actions ------------------------------------------------------------------------

    @workflow.update
    async def answer_at_first_contact(self, req: AnswerAtFirstContact) -> ComplaintState:
        """Simple query: the front seat answers at once and the case closes at first contact."""
        return await self._transition(ComplaintAction.ANSWER_AT_FIRST_CONTACT, req.actor, {"answer": req.answer})

    @answer_at_first_contact.validator
    def _check_answer_at_first_contact(self, req: AnswerAtFirstContact) -> None:
        self._check(ComplaintAction.ANSWER_AT_FIRST_CONTACT)

    @workflow.update
    async def take_into_handling(self, req: TakeIntoHandling) -> ComplaintState:
        return await self._transition(ComplaintAction.TAKE_INTO_HANDLING, req.actor, {"note": req.note})

    @take_into_handling.validator
    def _check_take_into_handling(self, req: TakeIntoHandling) -> None:
        self._check(ComplaintAction.TAKE_INTO_HANDLING)

    @workflow.update
    async def resolve(self, req: Resolve) -> ComplaintState:
        return await self._transition(ComplaintAction.RESOLVE, req.actor, {"solution": req.solution})

    @resolve.validator
    def _check_resolve(self, req: Resolve) -> None:
        self._check(ComplaintAction.RESOLVE)

    @workflow.update
    async def confirm_with_customer(self, req: ConfirmWithCustomer) -> ComplaintState:
        """The written confirmation of the solution sent to the customer."""
        detail = {"message": req.message, "medium": req.medium}
        return await self._transition(ComplaintAction.CONFIRM_WITH_CUSTOMER, req.actor, detail)

    @confirm_with_customer.validator
    def _check_confirm_with_customer(self, req: ConfirmWithCustomer) -> None:
        self._check(ComplaintAction.CONFIRM_WITH_CUSTOMER)

    @workflow.update
    async def record_callback(self, req: RecordCallback) -> ComplaintState:
        """Satisfaction call-back: satisfied closes; dissatisfied reopens for another round."""
        action = _callback_action(req)
        detail = {"satisfied": req.satisfied, "customer_words": req.customer_words}
        return await self._transition(action, req.actor, detail)

    @record_callback.validator
    def _check_record_callback(self, req: RecordCallback) -> None:
        self._check(_callback_action(req))

    @workflow.update
    async def close_unresolvable(self, req: CloseUnresolvable) -> ComplaintState:
        """A supervisor closes a case that cannot be resolved, with the reason."""
        return await self._transition(ComplaintAction.CLOSE_UNRESOLVABLE, req.actor, {"reason": req.reason})

    @close_unresolvable.validator
    def _check_close_unresolvable(self, req: CloseUnresolvable) -> None:
        self._check(ComplaintAction.CLOSE_UNRESOLVABLE)

    @workflow.query
    def state(self) -> ComplaintState:
        return ComplaintState(
            complaint_id=self._filing.complaint_id,
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
            last_seq=self._seq,
        )

    # -- mechanics ----------------------------------------------------------------------------

    def _check(self, action: ComplaintAction) -> None:
        try:
            next_status(self._status, action)
        except InvalidTransition as err:
            raise ApplicationError(
                str(err), {"current_status": self._status.value}, type=INVALID_TRANSITION, non_retryable=True
            ) from None

    async def _transition(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintState:
        # The state moves before the first await, so an update validated right after this one
        # already sees the new state.
        self._check(action)
        before = self._status
        self._status = next_status(before, action)
        if action is ComplaintAction.RECORD_DISSATISFIED_CALLBACK:
            self._handling_round += 1
            self._one_time_resolution = False  # reopened: no longer resolved at the first go
        self._seq += 1
        now = workflow.now()
        if self._status is ComplaintStatus.CLOSED:
            self._closed_at = now
        workflow.upsert_search_attributes([ComplaintSearch.STATUS.value_set(self._status.value)])
        change = ComplaintChange(
            complaint_id=self._filing.complaint_id,
            workflow_id=complaint_workflow_id(self._filing.complaint_id),
            entry=TimelineEntry(
                seq=self._seq,
                at=now,
                actor=actor,
                action=action,
                from_status=before,
                to_status=self._status,
                detail=detail,
            ),
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
        )
        state = self.state()
        await workflow.wait_condition(lambda: self._intake_recorded)
        await self._record([change])
        self._refresh_details()
        return state

    async def _record(self, changes: list[ComplaintChange]) -> None:
        await workflow.execute_local_activity(
            RECORD_CHANGES_ACTIVITY, changes, summary=f"record {changes[-1].entry.action.value}", **READ_MODEL_WRITE
        )

    def _refresh_details(self) -> None:
        workflow.set_current_details(
            f"**Status: {self._status.value}** · handling round {self._handling_round}"
            f" · one-time resolution {'yes' if self._one_time_resolution else 'no'} · {self._seq} changes"
        )


def _callback_action(req: RecordCallback) -> ComplaintAction:
    if req.satisfied:
        return ComplaintAction.RECORD_SATISFIED_CALLBACK
    return ComplaintAction.RECORD_DISSATISFIED_CALLBACK
