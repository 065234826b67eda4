"""ComplaintWorkflow (投诉): one durable execution per complaint, id ``complaint-<complaint id>``.

Reads like DOMAIN §4: received → classified → (answered at first contact → closed) or
in handling → resolved → confirmed → satisfaction call-back (satisfied → closed,
dissatisfied → handled again). Every agent action is an Update whose validator rejects a wrong
transition before anything enters history; every change is written to the read model by a
local activity and mirrored in the search attributes the Web UI filters on.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from rules.actors import Actor
    from rules.lifecycle import ComplaintAction, ComplaintStatus, InvalidTransition, next_status
    from workflows.shared import (
        COMPUTE_DEADLINE_ACTIVITY,
        RECORD_CHANGES_ACTIVITY,
        SYSTEM_ACTOR,
        AnswerAtFirstContact,
        Clock,
        CloseUnresolvable,
        ComplaintChange,
        ComplaintFiling,
        ComplaintOutcome,
        ComplaintSearch,
        ComplaintState,
        ConfirmWithCustomer,
        Deadline,
        DeadlineRequest,
        DispatchOrder,
        DispatchResult,
        RaiseDispatch,
        RecordCallback,
        RecordFirstContact,
        Resolve,
        TakeIntoHandling,
        TimelineEntry,
        clock_started_detail,
        complaint_workflow_id,
        dispatch_workflow_id,
        intake_changes,
        opening_changes,
        opening_clock,
    )
    from workflows.dispatch import DispatchWorkflow
    from workflows.options import CALENDAR_LOOKUP, INVALID_TRANSITION, READ_MODEL_WRITE

FIRST_CONTACT = "first_contact"
# Patch: the first-contact deadline arrives in the input (computed at intake), not from an activity.
DEADLINE_AT_INTAKE = "deadline-at-intake"


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
        self._clocks: dict[str, Clock] = {}
        self._clocks_changed = False
        self._opened = False  # the opening changes are taken care of; later changes may be written
        self._unwritten: list[ComplaintChange] = []  # opening changes to repeat with the next write
        self._dispatches_raised = 0
        self._open_dispatches: dict[str, ChildWorkflowHandle[Any, Any]] = {}
        self._orders: dict[str, DispatchOrder] = {}

    @workflow.run
    async def run(self, filing: ComplaintFiling) -> ComplaintOutcome:
        # The customer's first-contact clock runs from the channel's received time (DOMAIN §5).
        if workflow.patched(DEADLINE_AT_INTAKE) and (clock := opening_clock(filing)) is not None:
            # The API computed the deadline and wrote the opening rows; they go again with the
            # first later write, so a crash of the API between start and write loses nothing.
            self._clocks[FIRST_CONTACT] = clock
            self._clocks_changed = True
            self._seq = 3
            self._unwritten = opening_changes(filing)
        else:
            first_contact = await self._clock(
                FIRST_CONTACT, "first contact", filing.lead_unit, filing.intake.received_at,
                filing.classification.category,
            )
            await self._record([*intake_changes(filing), first_contact])
        self._opened = True
        self._refresh_details()
        watcher = asyncio.create_task(self._watch_clocks())
        await workflow.wait_condition(
            lambda: self._status is ComplaintStatus.CLOSED and workflow.all_handlers_finished()
        )
        await watcher
        # Closing the complaint ends whatever is still out with the units.
        for child in list(self._open_dispatches.values()):
            child.cancel()
        await workflow.wait_condition(lambda: not self._open_dispatches or self._children_done())
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

    @workflow.update
    async def record_first_contact(self, req: RecordFirstContact) -> ComplaintState:
        """The agent's first contact: apology, why it matters, first direction. Stops that clock."""
        self._check_first_contact_open()
        now = workflow.now()
        self._clocks[FIRST_CONTACT].met_at = now
        self._clocks_changed = True
        detail = {
            "apology": req.apology,
            "why_it_matters": req.why_it_matters,
            "first_direction": req.first_direction,
            "in_time": now <= self._clocks[FIRST_CONTACT].due,
        }
        return await self._commit(self._change(ComplaintAction.RECORD_FIRST_CONTACT, req.actor, detail, clocks=True))

    @record_first_contact.validator
    def _check_record_first_contact(self, req: RecordFirstContact) -> None:
        self._check_first_contact_open()

    # -- dispatches ---------------------------------------------------------------------------

    @workflow.update
    async def raise_dispatch(self, req: RaiseDispatch) -> str:
        """A direct or linked dispatch, or a ticket: each its own child workflow with its clock."""
        self._check_dispatchable()
        self._dispatches_raised += 1
        dispatch_id = dispatch_workflow_id(self._filing.complaint_id, self._dispatches_raised)
        order = DispatchOrder(
            dispatch_id=dispatch_id,
            complaint_id=self._filing.complaint_id,
            raised_at=workflow.now(),
            parent_workflow_id=workflow.info().workflow_id,
            raised_by=req.actor,
            **req.model_dump(exclude={"actor"}),
        )
        await self._start_dispatch(order)
        detail = {"dispatch_id": dispatch_id, "kind": req.kind.value, "unit": req.unit, "priority": req.priority.value}
        await self._commit(self._change(ComplaintAction.RAISE_DISPATCH, req.actor, detail))
        return dispatch_id

    @raise_dispatch.validator
    def _check_raise_dispatch(self, req: RaiseDispatch) -> None:
        self._check_dispatchable()

    def _check_dispatchable(self) -> None:
        if self._status is not ComplaintStatus.IN_HANDLING:
            raise ApplicationError(
                f"dispatches are raised while a complaint is in handling; it is {self._status.value}",
                {"current_status": self._status.value}, type=INVALID_TRANSITION, non_retryable=True)

    async def _start_dispatch(self, order: DispatchOrder) -> None:
        self._orders[order.dispatch_id] = order
        self._open_dispatches[order.dispatch_id] = await workflow.start_child_workflow(
            DispatchWorkflow.run,
            order,
            id=order.dispatch_id,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            static_summary=f"{order.kind.value.replace('_', ' ')} to {order.unit} for complaint {order.complaint_id}",
        )

    @workflow.signal
    async def dispatch_finished(self, result: DispatchResult) -> None:
        view = result.dispatch
        self._open_dispatches.pop(view.dispatch_id, None)
        if result.redispatch or view.returns:
            self._one_time_resolution = False  # a redispatch or a returned reply: not resolved at once
        detail = {"dispatch_id": view.dispatch_id, "status": view.status.value, "in_time": view.in_time,
                  "late_working_minutes": view.late_working_minutes, "returns": view.returns,
                  "finding": view.finding, "failing_link": view.failing_link}
        if result.redispatch and self._status is not ComplaintStatus.CLOSED:
            # 重派: the same order again, to the same unit, with a fresh clock.
            self._dispatches_raised += 1
            old = self._orders[view.dispatch_id]
            again = old.model_copy(update={
                "dispatch_id": dispatch_workflow_id(self._filing.complaint_id, self._dispatches_raised),
                "raised_at": workflow.now(),
                "replaces": view.dispatch_id,
            })
            detail["redispatched_as"] = again.dispatch_id
            await self._start_dispatch(again)
        await self._commit(self._change(ComplaintAction.DISPATCH_FINISHED, SYSTEM_ACTOR, detail))

    def _children_done(self) -> bool:
        return all(h.done() for h in self._open_dispatches.values())

    @workflow.query
    def clocks(self) -> list[Clock]:
        return list(self._clocks.values())

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

    def _check_first_contact_open(self) -> None:
        clock = self._clocks.get(FIRST_CONTACT)
        if self._status is ComplaintStatus.CLOSED or clock is None or clock.met_at is not None:
            raise ApplicationError(
                "first contact is already recorded or the complaint is closed",
                {"current_status": self._status.value},
                type=INVALID_TRANSITION,
                non_retryable=True,
            )

    async def _transition(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintState:
        # The state moves before the first await, so an update validated right after this one
        # already sees the new state.
        self._check(action)
        before = self._status
        self._status = next_status(before, action)
        if action is ComplaintAction.RECORD_DISSATISFIED_CALLBACK:
            self._handling_round += 1
            self._one_time_resolution = False  # reopened: no longer resolved at the first go
        if self._status is ComplaintStatus.CLOSED:
            self._closed_at = workflow.now()
        workflow.upsert_search_attributes([ComplaintSearch.STATUS.value_set(self._status.value)])
        return await self._commit(self._change(action, actor, detail, before=before))

    def _change(
        self,
        action: ComplaintAction,
        actor: Actor,
        detail: dict[str, Any],
        *,
        before: ComplaintStatus | None = None,
        clocks: bool = False,
    ) -> ComplaintChange:
        """The next timeline entry with the state after it (seq taken now, in order)."""
        self._seq += 1
        return ComplaintChange(
            complaint_id=self._filing.complaint_id,
            workflow_id=complaint_workflow_id(self._filing.complaint_id),
            entry=TimelineEntry(
                seq=self._seq,
                at=workflow.now(),
                actor=actor,
                action=action,
                from_status=before or self._status,
                to_status=self._status,
                detail=detail,
            ),
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
            clocks=[c.model_copy() for c in self._clocks.values()] if clocks else None,
        )

    async def _commit(self, change: ComplaintChange) -> ComplaintState:
        state = self.state()
        await workflow.wait_condition(lambda: self._opened)
        await self._record([change])
        self._refresh_details()
        return state

    async def _record(self, changes: list[ComplaintChange]) -> None:
        batch = [*self._unwritten, *changes]
        await workflow.execute_local_activity(
            RECORD_CHANGES_ACTIVITY, batch, summary=f"record {changes[-1].entry.action.value}", **READ_MODEL_WRITE
        )
        self._unwritten = []

    # -- clocks -------------------------------------------------------------------------------

    async def _clock(self, name: str, label: str, unit: str, start: Any, category: str | None = None) -> ComplaintChange:
        """Start a clock: its due instant comes from the calendar activity, never from workflow code."""
        deadline = await workflow.execute_local_activity(
            COMPUTE_DEADLINE_ACTIVITY,
            DeadlineRequest(unit=unit, start=start, clock=name, category=category),
            result_type=Deadline,
            summary=f"{label}: due on {unit}'s calendar",
            **CALENDAR_LOOKUP,
        )
        self._clocks[name] = Clock(
            name=name,
            label=label,
            started_at=start,
            due=deadline.due,
            due_local=deadline.due_local,
            unit=unit,
            calendar_version=deadline.calendar_version,
        )
        self._clocks_changed = True
        detail = clock_started_detail(self._clocks[name], deadline.calendar)
        return self._change(ComplaintAction.START_CLOCK, SYSTEM_ACTOR, detail, clocks=True)

    async def _watch_clocks(self) -> None:
        """One durable timer at a time, on the earliest running clock; reset when clocks change."""
        closed = lambda: self._status is ComplaintStatus.CLOSED  # noqa: E731
        while not closed():
            running = [c for c in self._clocks.values() if c.running]
            self._clocks_changed = False
            if not running:
                await workflow.wait_condition(lambda: self._clocks_changed or closed())
                continue
            clock = min(running, key=lambda c: c.due)
            remaining = clock.due - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: self._clocks_changed or closed(),
                        timeout=remaining,
                        timeout_summary=f"{clock.label} due {clock.due_local}",
                    )
                    continue
                except asyncio.TimeoutError:
                    pass
            clock.overdue_at = workflow.now()
            self._clocks_changed = True
            detail = {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local}
            await self._commit(self._change(ComplaintAction.CLOCK_OVERDUE, SYSTEM_ACTOR, detail, clocks=True))

    def _refresh_details(self) -> None:
        clocks = "\n".join(
            f"- {c.label}: due {c.due_local}"
            + (" · met" if c.met_at else " · OVERDUE" if c.overdue_at else " · running")
            for c in self._clocks.values()
        )
        workflow.set_current_details(
            f"**Status: {self._status.value}** · handling round {self._handling_round}"
            f" · one-time resolution {'yes' if self._one_time_resolution else 'no'} · {self._seq} changes\n\n{clocks}"
        )


def _callback_action(req: RecordCallback) -> ComplaintAction:
    if req.satisfied:
        return ComplaintAction.RECORD_SATISFIED_CALLBACK
    return ComplaintAction.RECORD_DISSATISFIED_CALLBACK
