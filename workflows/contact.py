"""Contact workflows besides complaints (DOMAIN §2, seed 001), one short workflow type per kind,
id ``contact-<contact id>``:

- ``ConsultationWorkflow`` (咨询): answered at once → closed; or handed over to the owning department
  (30 min) → the department answers (2 h from the hand-over, on its calendar) → the desk calls the
  customer back (3 h from receipt) → closed.
- ``RescueRequestWorkflow`` (求助): handed over to the nearest service point (10 min) → closed.
- ``NewFailureModeWorkflow`` (新故障模式): handed over to the nearest service point (60 min) → closed.

Shared mechanics in ``_ContactDesk``: the opening clocks, the clock watcher (workflows/clocks.py:
one durable timer on the earliest running clock), a missed clock told to the supervisor of the unit that owed it and counted, every change
written to the read model by a local activity. Agent actions are Updates whose validators reject a
wrong step (rules/contact.py) before anything enters history.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from notifications.messages import NotifyRequest
    from rules.actors import Actor, Role
    from rules.contact import (
        CLOCK_LABELS,
        CLOCKS_OF,
        ContactAction,
        ContactKind,
        ContactStatus,
        InvalidContactStep,
        next_status,
        started_by,
    )
    from workflows.contact_messages import (
        KIND_TITLES,
        RECORD_CONTACT_CHANGES_ACTIVITY,
        AnswerContactAtOnce,
        CallCustomerBack,
        ContactChange,
        ContactEvent,
        ContactFiling,
        ContactState,
        HandOverContact,
        RecordDepartmentAnswer,
        clock_from,
        contact_workflow_id,
        opening_changes,
        opening_requests,
    )
    from workflows.notices import notify_beside
    from workflows.options import READ_MODEL_WRITE
    from workflows.case import SYSTEM_ACTOR, CaseSearch, built_in, refuse
    from workflows.clocks import Clock, ClockWatcher, clock_started_detail
    from workflows.deadlines import DeadlineRequest, look_up_deadline

S, A = ContactStatus, ContactAction

# Patch: a contact's status goes to ContactStatus as well as ComplaintStatus (contacts are not complaints).
CONTACT_STATUS_ATTRIBUTE = "contact-status-attribute"
# What a contact filed today is built with (ContactFiling.built_with).
CONTACT_PATCHES = (CONTACT_STATUS_ATTRIBUTE,)


class _ContactDesk:
    """What every contact kind does the same way; each kind declares its run and its own updates."""

    @workflow.init
    def __init__(self, filing: ContactFiling) -> None:
        self._filing = filing
        self._kind = filing.intake.kind
        self._status = S.RECEIVED
        self._seq = 0
        self._clocks: dict[str, Clock] = {}
        self._watcher = ClockWatcher(lambda: self._clocks.values(), self._missed_clock, lambda: self._status is S.CLOSED)
        self._missed = 0
        self._handed_to: str | None = None
        self._closed_at: datetime | None = None
        self._opened = False  # the opening rows are written; later changes may follow
        self._notices: list[asyncio.Task[None]] = []

    async def _handle(self, filing: ContactFiling) -> ContactState:
        """Open the clocks, watch them until the contact closes, let handlers and notices finish."""
        deadlines = list(filing.opening) or [await look_up_deadline(req, CLOCK_LABELS[name]) for name, req in opening_requests(filing)]
        changes = opening_changes(filing, deadlines)
        self._clocks = {c.name: c for c in changes[-1].state.clocks}
        self._seq = len(changes)
        await self._record(changes)
        self._opened = True
        self._refresh_details()
        await self._watcher.watch()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(n.done() for n in self._notices))
        return self._view()

    @workflow.query
    def view(self) -> ContactState:
        return self._view()

    @workflow.update
    async def hand_over(self, req: HandOverContact) -> ContactState:
        """To the owning department (consultation) or the nearest service point (rescue, new failure)."""
        return await self._step(A.HAND_OVER, req.actor, {"unit": req.unit, "note": req.note}, handed_to=req.unit)

    @hand_over.validator
    def _check_hand_over(self, req: HandOverContact) -> None:
        self._check(A.HAND_OVER)

    # -- steps ----------------------------------------------------------------------------------

    def _check(self, action: ContactAction) -> None:
        try:
            next_status(self._kind, self._status, action)
        except InvalidContactStep as err:
            refuse(str(err), self._status.value)

    async def _step(self, action: ContactAction, actor: Actor, detail: dict[str, Any], *,
                    handed_to: str | None = None) -> ContactState:
        """Move the contact, stop the clocks the step meets and start the ones it opens (on the
        calendar of the unit it was handed to), and write it all in one read-model batch."""
        await workflow.wait_condition(lambda: self._opened)  # an action right after intake waits for the opening
        self._check(action)
        before, now = self._status, workflow.now()
        self._status = next_status(self._kind, before, action)
        self._handed_to = handed_to or self._handed_to
        for name in CLOCKS_OF[action][0]:
            clock = self._clocks.get(name)
            if clock is not None and clock.met_at is None:
                clock.met_at = now  # met late when it is already overdue: both instants stay
                self._watcher.reset()
        if self._status is S.CLOSED:
            self._closed_at = now
        changes = [self._change(action, actor, before, detail)]
        for name in started_by(self._kind, action):
            request = DeadlineRequest(unit=handed_to or self._filing.desk_unit, start=now, clock=name)
            deadline = await look_up_deadline(request, CLOCK_LABELS[name])
            self._clocks[name] = clock = clock_from(name, now, deadline)
            self._watcher.reset()
            changes.append(self._change(A.START_CLOCK, SYSTEM_ACTOR, self._status, clock_started_detail(clock, deadline.calendar)))
        await self._commit(changes)
        return self._view()

    # -- clocks ---------------------------------------------------------------------------------

    async def _missed_clock(self, clock: Clock) -> None:
        """Overdue: counted, and the supervisor of the unit that owed it is told ("timeout warning")."""
        clock.overdue_at = workflow.now()
        self._watcher.reset()
        self._missed += 1
        self._notify_supervisor(clock)
        detail = {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local,
                  "notified": f"supervisor above {clock.unit}"}
        await self._commit([self._change(A.CLOCK_OVERDUE, SYSTEM_ACTOR, self._status, detail)])

    def _notify_supervisor(self, clock: Clock) -> None:
        contact_id = self._filing.contact_id
        request = NotifyRequest(
            # Missed: the level above the unit that owed it hears of it (DOMAIN §6, "timeout warning").
            case_id=contact_id, step=f"{clock.name}-overdue", role=Role.SUPERVISOR, unit=clock.unit, level_above=True,
            subject=f"[{contact_id}] {KIND_TITLES[self._kind]}: {clock.label} missed",
            text=f"The {clock.label} of {KIND_TITLES[self._kind].lower()} {contact_id} was due {clock.due_local}.",
        )
        self._notices.append(notify_beside(request, f"notify the supervisor above {clock.unit}: {request.step}"))

    # -- the read model -------------------------------------------------------------------------

    def _view(self) -> ContactState:
        return ContactState(
            contact_id=self._filing.contact_id, kind=self._kind, status=self._status, handed_to=self._handed_to,
            clocks=[c.model_copy() for c in self._clocks.values()], missed_clocks=self._missed,
            closed_at=self._closed_at, last_seq=self._seq,
        )

    def _change(self, action: ContactAction, actor: Actor, before: ContactStatus, detail: dict[str, Any]) -> ContactChange:
        """The next timeline entry with the state after it (seq taken now, in order)."""
        self._seq += 1
        event = ContactEvent(seq=self._seq, at=workflow.now(), actor=actor, action=action,
                             from_status=before, to_status=self._status, detail=detail)
        return ContactChange(workflow_id=contact_workflow_id(self._filing.contact_id), event=event, state=self._view())

    async def _commit(self, changes: list[ContactChange]) -> None:
        await self._record(changes)
        if changes[0].event.from_status is not self._status:
            status = [CaseSearch.STATUS.value_set(self._status.value)]
            if built_in(CONTACT_STATUS_ATTRIBUTE, self._filing.built_with):
                status.append(CaseSearch.CONTACT_STATUS.value_set(self._status.value))
            workflow.upsert_search_attributes(status)
        self._refresh_details()

    async def _record(self, changes: list[ContactChange]) -> None:
        await workflow.execute_local_activity(
            RECORD_CONTACT_CHANGES_ACTIVITY, changes, summary=f"record {changes[-1].event.action.value}",
            **READ_MODEL_WRITE,
        )

    def _refresh_details(self) -> None:
        clocks = "\n".join(
            f"- {c.label}: due {c.due_local} on {c.unit}'s side"
            + (" · met" if c.met_at else " · OVERDUE" if c.overdue_at else " · running")
            for c in self._clocks.values()
        )
        handed = f" · handed to {self._handed_to}" if self._handed_to else ""
        workflow.set_current_details(f"**Status: {self._status.value}**{handed} · {self._missed} clocks missed\n\n{clocks}")


@workflow.defn
class ConsultationWorkflow(_ContactDesk):
    """咨询: answered at once, or handed over, answered by the department and called back."""

    @workflow.run
    async def run(self, filing: ContactFiling) -> ContactState:
        return await self._handle(filing)

    @workflow.update
    async def answer_at_once(self, req: AnswerContactAtOnce) -> ContactState:
        """The desk knew the answer: the consultation closes at first contact."""
        return await self._step(A.ANSWER_AT_ONCE, req.actor, {"answer": req.answer})

    @answer_at_once.validator
    def _check_answer_at_once(self, req: AnswerContactAtOnce) -> None:
        self._check(A.ANSWER_AT_ONCE)

    @workflow.update
    async def record_department_answer(self, req: RecordDepartmentAnswer) -> ContactState:
        """The owning department's answer to the desk (协调处理通知单 returned)."""
        return await self._step(A.RECORD_DEPARTMENT_ANSWER, req.actor, {"answer": req.answer})

    @record_department_answer.validator
    def _check_record_department_answer(self, req: RecordDepartmentAnswer) -> None:
        self._check(A.RECORD_DEPARTMENT_ANSWER)

    @workflow.update
    async def call_back(self, req: CallCustomerBack) -> ContactState:
        """The desk called the customer back with the department's answer: closed."""
        return await self._step(A.CALL_BACK, req.actor, {"message": req.message})

    @call_back.validator
    def _check_call_back(self, req: CallCustomerBack) -> None:
        self._check(A.CALL_BACK)


@workflow.defn
class RescueRequestWorkflow(_ContactDesk):
    """求助: the nearest service point has the notice within minutes, day or night."""

    @workflow.run
    async def run(self, filing: ContactFiling) -> ContactState:
        return await self._handle(filing)


@workflow.defn
class NewFailureModeWorkflow(_ContactDesk):
    """新故障模式: a failure seen for the first time goes to the nearest service point within the hour."""

    @workflow.run
    async def run(self, filing: ContactFiling) -> ContactState:
        return await self._handle(filing)


CONTACT_WORKFLOWS: dict[ContactKind, type[_ContactDesk]] = {
    ContactKind.CONSULTATION: ConsultationWorkflow,
    ContactKind.RESCUE_REQUEST: RescueRequestWorkflow,
    ContactKind.NEW_FAILURE_MODE: NewFailureModeWorkflow,
}
