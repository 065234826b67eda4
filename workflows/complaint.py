"""ComplaintWorkflow (投诉): one durable execution per complaint, id ``complaint-<complaint id>``.

Reads like DOMAIN §4: received → classified → (answered at first contact → closed) or
in handling → resolved → confirmed → satisfaction call-back (satisfied → closed,
dissatisfied → handled again). Every agent action is an Update whose validator rejects a wrong
transition before anything enters history; every change is written to the read model by a
local activity and mirrored in the search attributes the Web UI filters on.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from notifications.directory import RoleHolder
    from notifications.messages import Channel, NotifyRequest
    from rules.actors import Actor, Role
    from rules.calendar import WorkingHoursRule
    from rules.hand_over import hand_over_refusal
    from rules.complex_case import (action_clock, action_number, completion_refusal, resolve_refusal,
                                    resolved_by_plan, step_refusal)
    from rules.customer_clocks import (CLOCKS_OF, EXTENDED_SOLUTION, FIRST_CONTACT, LABELS, OPINION, PROGRESS,
                                       SOLUTION, clocks_started, dispatch_refusal, extension_refusal,
                                       first_contact_refusal, opening_clocks, opinion_clock, progress_interval,
                                       raises_red_alert, runs_from)
    from rules.classification import Urgency
    from rules.lifecycle import OPEN_STATUSES, ComplaintAction, ComplaintStatus, InvalidTransition, next_status
    from rules.merging import merge_refusal, split_refusal, target_refusal
    from rules.survey import link_refusal, sending_refusal, survey_text
    from workflows.case import SYSTEM_ACTOR, CaseSearch, Patches, built_in, case_of, refuse
    from workflows.clocks import Clock, ClockKind, ClockWarning, ClockWatcher, clock_started_detail
    from workflows.complaint_messages import (
        RECORD_CHANGES_ACTIVITY,
        AgreePlan,
        AnswerAtFirstContact,
        CallbackSurveyLink,
        CloseUnresolvable,
        HandOverCase,
        complaint_workflow_id,
        ComplaintCarryOver,
        ComplaintChange,
        ComplaintFiling,
        ComplaintOutcome,
        ComplaintState,
        CompleteAction,
        ConfirmWithCustomer,
        ExtendSolutionClock,
        intake_changes,
        LinkDuplicate,
        MakeComplex,
        opening_changes,
        opening_clock,
        PlanAction,
        RecordCallback,
        RecordCoordinationMeeting,
        RecordFirstContact,
        RecordProgressUpdate,
        Resolve,
        SendCallbackSurvey,
        TakeIntoHandling,
        TimelineEntry,
    )
    from workflows.complaint_messages import HeldClock, MergedCase, MergedDispatchFinished, MergeInto, SplitOut, TargetAnswer
    from workflows.deadlines import (RESUMED_DEADLINES_ACTIVITY, WORKING_MINUTES_ACTIVITY, Deadline, DeadlineRequest,
                                     NoticeHoldRequest, ResumedDeadlinesRequest, WorkingTimeRequest, look_up_deadline)
    from workflows.dispatch_messages import (
        RECORD_DISPATCH_CHANGES_ACTIVITY,
        dispatch_workflow_id,
        DispatchOrder,
        DispatchResult,
        DispatchView,
        opening_change,
        RaiseDispatch,
        redispatch_order,
    )
    from rules.dispatch import DispatchKind, DispatchStatus
    from rules.judgement import DispatchFinding
    from workflows.dispatch import DISPATCH_PATCHES, DispatchWorkflow
    from workflows.judgement import JUDGEMENT_PATCHES, JudgementWorkflow
    from workflows.judgement_messages import JudgementOpening, judgement_summary, judgement_workflow_id
    from workflows.notices import Send, notify_beside, notify_in_task, send_after_quiet_hours
    from workflows.clocks import done_or_due
    from workflows.deadlines import PausedInstant
    from workflows.pauses import (ClockPause, PauseClocks, ResumeClocks, pause_end, paused_detail, resumed_deadlines,
                                  resumed_detail)
    from workflows.options import CALENDAR_LOOKUP, READ_MODEL_WRITE

# Patch: the first-contact deadline arrives in the input (computed at intake), not from an activity.
DEADLINE_AT_INTAKE = "deadline-at-intake"
# Patch: the clocks after first contact, notices of missed clocks, complex cases, continue-as-new.
CUSTOMER_CLOCKS = "customer-clocks"
# Patch: closing a case whose ticket was answered opens its responsibility judgement (DOMAIN §7).
JUDGEMENT_AT_CLOSING = "judgement-at-closing"
# Patch: a clock already past due when the watcher comes to it gets a 1 ms timer, as a dispatch's,
# a judgement's and a contact's do (before it, the clock fell due at once, with no timer).
PAST_DUE_TIMER = "past-due-timer"
# What a case filed today is built with (ComplaintFiling.built_with): the API starts every new case
# with all of them, so none of its workflow tasks spends a marker and an upsert on asking.
# Patch: read-model writes go out in seq order, each with the clocks as they stand when it is
# written (before it, a later change written first could leave the row with an older clock list).
STEPS_IN_ORDER = "steps-in-order"
# Patch: the solution clock starts at opening, from the received time (taking the case keeps it);
# a level-3 suggestion runs no solution or progress clock.
SOLUTION_FROM_RECEIPT = "solution-from-receipt"
# Patch: a level-1 complaint texts and e-mails the duty manager when its workflow starts (DOMAIN §3).
RED_ALERT = "red-alert"
# Patch: a progress update falling due without a person's update is a missed clock (the level above
# hears of it); the automatic text goes out in addition only when the filing says so (DOMAIN §11).
PROGRESS_OWED_BY_PERSON = "progress-owed-by-person"
# Patch: a dispatch raised starts its department's first-opinion clock, met by its first reply.
CROSS_DEPARTMENT_OPINION = "cross-department-opinion"
# Patch: a dispatch's opening row is written before its id is handed out (readable and answerable
# at once); closing takes the answer of a dispatch whose signal it did not get from its result.
DISPATCH_ROW_AT_RAISING = "dispatch-row-at-raising"
# Built in from birth only (never asked of workflow.patched: what it changes happens in the first
# task, long past for a running case): the first-contact clock and the seq past the opening rows are
# laid out at init, and a step that reaches the case in its first workflow task (filed while no
# worker ran, taken at once) waits for the opening before it moves the case. Before it, such a step
# ran ahead of `run`, took seq 3 and was written over by the opening's rows.
STEPS_AFTER_OPENING = "steps-after-opening"
COMPLAINT_PATCHES = (DEADLINE_AT_INTAKE, CUSTOMER_CLOCKS, JUDGEMENT_AT_CLOSING, PAST_DUE_TIMER, STEPS_IN_ORDER,
                     SOLUTION_FROM_RECEIPT, RED_ALERT, PROGRESS_OWED_BY_PERSON, CROSS_DEPARTMENT_OPINION,
                     DISPATCH_ROW_AT_RAISING, STEPS_AFTER_OPENING)
# Patch: the seat that takes a case into handling owns it; a hand-over (交接班) moves it to another seat.
CASE_OWNER = "case-owner"
# Patch: a VIP customer's clocks are the policy's for their tier (clocks.customer.by_tier), and a clock
# a VIP case misses is told to the VIP desk's supervisor as well (差异化服务, seed 003).
VIP_SERVICE = "vip-service"
COMPLAINT_PATCHES += (CASE_OWNER, VIP_SERVICE)
# Patch: a supervisor merges a complaint into another and splits it back out (rules/merging.py).
MERGE = "merge"
COMPLAINT_PATCHES += (MERGE,)
# Patch: a running clock's warning instants (issue #16: 75 % of its working time) are watched too;
# at each the owner of the next step is told once.
CLOCK_WARNINGS = "clock-warnings"
COMPLAINT_PATCHES += (CLOCK_WARNINGS,)
# Patch: a handler pauses the running customer clocks while the case waits on the customer or a third
# party (rules/pauses.py); they resume by hand, or by themselves at the reason's maximum.
CLOCK_PAUSE = "clock-pause"
COMPLAINT_PATCHES += (CLOCK_PAUSE,)
# Patch: quiet hours hold the complaint's own notices of the kinds the policy names (a clock's
# warning, a missed clock's notice) to the addressed unit's working hours, as a dispatch's are.
QUIET_HOURS = "quiet-hours"
COMPLAINT_PATCHES += (QUIET_HOURS,)
# Built in from birth only (read from built_with, never asked of workflow.patched: no marker in every
# case's history): a step that reaches the case after a running clock's due instant, in the task
# that also fires the clock's timer, finds the miss recorded first, as if the timer's task had come
# first. A task runs its updates and signals before its timers, so before this the step met the
# clock late and the timer found nothing owed (the fault suite: a retried task after a worker kill).
MISSES_BEFORE_STEPS = "misses-before-steps"
COMPLAINT_PATCHES += (MISSES_BEFORE_STEPS,)
# Built in from birth only (no marker): the complaint's notices go out in the workflow task that
# decides them (workflows.notices.notify_in_task), as a dispatch's do, so a missed clock's notice is
# in the outbox when the timer's task ends instead of one activity task later (bench/steady.py).
COMPLAINT_NOTICES_IN_TASK = "complaint-notices-in-task"
COMPLAINT_PATCHES += (COMPLAINT_NOTICES_IN_TASK,)
# Built in from birth only (no marker): a clock or warning further ahead than two minutes gets a
# timer a minute early, then one to its instant (workflows.clocks.LEAD): a clock started while the
# worker or server was busy no longer fires as late as the task that started it was slow.
LEAD_TIMERS = "lead-timers"
COMPLAINT_PATCHES += (LEAD_TIMERS,)

Step = TypeVar("Step")

# A complaint continues as new once its history is this long (and no dispatch is open): a case
# open for weeks with 2-hourly progress updates stays far below Temporal's limits and replays fast.
# A filing may ask for a shorter history (ComplaintFiling.continue_as_new_after_events), as tests do.
CONTINUE_AS_NEW_AFTER_EVENTS = 500


def after_opening(step: Callable[..., Awaitable[Step]]) -> Callable[..., Awaitable[Step]]:
    """An agent's step that reaches a case built with STEPS_AFTER_OPENING in its first workflow task
    waits for the opening (solution clock, red alert) before it moves the case, as if it had come a
    task later: its seq follows the opening's rows."""

    @functools.wraps(step)
    async def handler(self: ComplaintWorkflow, req: Any) -> Step:
        if not self._opened and STEPS_AFTER_OPENING in self._filing.built_with:
            await workflow.wait_condition(lambda: self._opened)
        self._misses_before_a_step()
        return await step(self, req)

    return handler


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
        self._pausing = False  # the clock watcher steps aside for continue-as-new or closing
        self._watcher = ClockWatcher(
            lambda: self._clocks.values(), self._clock_due, lambda: self._closed() or self._pausing,
            timer_when_past_due=lambda: built_in(PAST_DUE_TIMER, self._filing.built_with),
            on_warning=self._clock_warning, warns=lambda: self._patches.has(CLOCK_WARNINGS),
            lead=lambda: LEAD_TIMERS in self._filing.built_with,
        )
        self._opened = False  # the opening changes are taken care of; later changes may be written
        self._unwritten: list[ComplaintChange] = []  # opening changes to repeat with the next write
        self._written_seq = 0  # the highest seq written to the read model (or written by the API)
        self._patches = Patches(filing.built_with)
        self._dispatches_raised = 0
        self._open_dispatches: dict[str, ChildWorkflowHandle[Any, Any]] = {}
        self._orders: dict[str, DispatchOrder] = {}
        self._dispatch_handles: dict[str, ChildWorkflowHandle[Any, Any]] = {}  # this run's, answered ones too
        self._answered_of_earlier_runs: list[str] = []  # answered dispatches started by an earlier run, still running
        self._finished_dispatches: list[DispatchView] = []
        # Set once this execution has met the customer-clocks patch (None: not asked yet).
        self._customer_clocks: bool | None = None
        self._missed_clocks = 0
        self._progress_updates = 0
        self._complex = False
        self._meeting_recorded = False
        self._plan: list[PlanAction] = []
        self._linked_duplicates: list[str] = []
        self._merged_into: str | None = None  # the complaint this one is merged into (rules/merging.py)
        self._status_before_merge: ComplaintStatus | None = None
        self._held_clocks: list[HeldClock] = []  # the clocks the merge stopped, with the time they had left
        self._merge_settling = False  # a merge's handler is still holding the clocks and telling the target
        self._merged_cases: dict[str, list[str]] = {}  # complaints merged into this one → their dispatches heard of
        self._surveys: dict[str, CallbackSurveyLink] = {}  # survey links sent and not yet answered, by id
        self._owner: Actor | None = None  # the seat that took the case into handling, or was handed it
        self._clock_pause: ClockPause | None = None  # the customer clocks' pause in force (rules/pauses.py)
        self._notices: list[asyncio.Task[Any]] = []
        self._held_notices = 0  # notices waiting out quiet hours: a fresh history waits for them
        self._runs = 0
        if filing.resumed is not None:
            self._resume(filing.resumed)
        elif STEPS_AFTER_OPENING in filing.built_with and (clock := opening_clock(filing)) is not None:
            self._lay_out_opening(clock)

    @workflow.run
    async def run(self, filing: ComplaintFiling) -> ComplaintOutcome:
        if filing.resumed is not None:
            pass  # a fresh history for a long case: the state came with the input
        elif FIRST_CONTACT in self._clocks:
            pass  # laid out at init (STEPS_AFTER_OPENING)
        # The customer's first-contact clock runs from the channel's received time (DOMAIN §5).
        elif built_in(DEADLINE_AT_INTAKE, self._filing.built_with) and (clock := opening_clock(filing)) is not None:
            self._lay_out_opening(clock)
        else:
            first_contact = await self._clock(
                FIRST_CONTACT, "first contact", filing.lead_unit, filing.intake.received_at,
                filing.classification.category,
            )
            await self._record([*intake_changes(filing), first_contact])
        if filing.resumed is None:
            await self._open()
        self._opened = True
        self._refresh_details()
        while True:
            self._pausing = False
            watcher = asyncio.create_task(self._watcher.watch())
            pause_watcher = asyncio.create_task(self._end_pause_at_its_maximum())
            await workflow.wait_condition(lambda: self._closed() or self._fresh_history_due())
            self._pausing = True
            await watcher
            await pause_watcher
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._notices_done())
            if self._closed():
                break
            if self._fresh_history_due():
                # A case open for weeks keeps a short history: its next run starts from the state.
                workflow.continue_as_new(filing.model_copy(update={"resumed": self._carry_over()}))
        # The complaints merged into this one close with it.
        for merged in list(self._merged_cases):
            await self._tell(merged, "target_closed", TargetAnswer(target=filing.complaint_id))
        # Closing the complaint ends whatever is still out with the units.
        for child in list(self._open_dispatches.values()):
            child.cancel()
        if self._patches.has(DISPATCH_ROW_AT_RAISING):
            # An answered dispatch waits for a return by hand: that ends too (its answer stands).
            for dispatch_id, child in self._dispatch_handles.items():
                if dispatch_id not in self._open_dispatches and not child.done():
                    child.cancel()
            # Those an earlier run started are not this run's children: asked to end by id.
            for dispatch_id in self._answered_of_earlier_runs:
                try:
                    await workflow.get_external_workflow_handle(dispatch_id).cancel()
                except Exception:  # noqa: BLE001 - ended meanwhile (returned and answered again, or closed): nothing to end
                    workflow.logger.info("answered dispatch %s had ended already", dispatch_id)
        await workflow.wait_condition(lambda: not self._open_dispatches or self._children_done())
        if self._patches.has(DISPATCH_ROW_AT_RAISING):
            # A dispatch answered just before the closing, whose signal did not come, ended with its
            # answer as its result (a cancelled dispatch keeps an answer): the judgement gets it.
            for child in list(self._open_dispatches.values()):
                if not child.cancelled() and child.exception() is None:
                    self._finished(DispatchResult.model_validate(child.result()).dispatch)
            await workflow.wait_condition(workflow.all_handlers_finished)  # a late dispatch_finished recorded
        await self._open_judgement()
        return ComplaintOutcome(
            complaint_id=filing.complaint_id,
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
            closed_at=self._closed_at,
        )

    def _lay_out_opening(self, clock: Clock) -> None:
        """The API computed the first-contact deadline and wrote the opening rows (seq 1-3); they go
        again with the first later write, so a crash of the API between start and write loses nothing."""
        self._clocks[FIRST_CONTACT] = clock
        self._watcher.reset()
        self._seq = self._written_seq = 3
        self._unwritten = opening_changes(self._filing)

    # -- agent actions ------------------------------------------------------------------------

    @workflow.update
    @after_opening
    async def answer_at_first_contact(self, req: AnswerAtFirstContact) -> ComplaintState:
        """Simple query: the front seat answers at once and the case closes at first contact."""
        return await self._transition(ComplaintAction.ANSWER_AT_FIRST_CONTACT, req.actor, {"answer": req.answer})

    @answer_at_first_contact.validator
    def _check_answer_at_first_contact(self, req: AnswerAtFirstContact) -> None:
        self._check(ComplaintAction.ANSWER_AT_FIRST_CONTACT)

    @workflow.update
    @after_opening
    async def take_into_handling(self, req: TakeIntoHandling) -> ComplaintState:
        if self._patches.has(CASE_OWNER):
            self._owner = req.actor  # the seat that takes it owns it until it hands it over
        return await self._transition(ComplaintAction.TAKE_INTO_HANDLING, req.actor, {"note": req.note})

    @take_into_handling.validator
    def _check_take_into_handling(self, req: TakeIntoHandling) -> None:
        self._check(ComplaintAction.TAKE_INTO_HANDLING)

    @workflow.update
    @after_opening
    async def resolve(self, req: Resolve) -> ComplaintState:
        return await self._transition(ComplaintAction.RESOLVE, req.actor, {"solution": req.solution})

    @resolve.validator
    def _check_resolve(self, req: Resolve) -> None:
        self._check(ComplaintAction.RESOLVE)
        if reason := resolve_refusal(self._open_actions()):
            refuse(reason, self._status.value)

    @workflow.update
    @after_opening
    async def confirm_with_customer(self, req: ConfirmWithCustomer) -> ComplaintState:
        """The written confirmation of the solution sent to the customer."""
        detail = {"message": req.message, "medium": req.medium}
        return await self._transition(ComplaintAction.CONFIRM_WITH_CUSTOMER, req.actor, detail)

    @confirm_with_customer.validator
    def _check_confirm_with_customer(self, req: ConfirmWithCustomer) -> None:
        self._check(ComplaintAction.CONFIRM_WITH_CUSTOMER)

    @workflow.update
    @after_opening
    async def record_callback(self, req: RecordCallback) -> ComplaintState:
        """Satisfaction call-back: satisfied closes; dissatisfied reopens for another round. By phone,
        or the customer's answer through a survey link (`survey_link`, with the rating)."""
        action = _callback_action(req)
        detail: dict[str, Any] = {"satisfied": req.satisfied, "customer_words": req.customer_words}
        if req.survey_link is not None:
            self._check_survey_answer(req.survey_link)
            detail |= {"via": "survey_link", "link_id": req.survey_link, "rating": req.rating}
        self._surveys.clear()  # called back: no link sent so far takes an answer any more
        return await self._transition(action, req.actor, detail)

    @record_callback.validator
    def _check_record_callback(self, req: RecordCallback) -> None:
        if req.survey_link is not None:
            self._check_survey_answer(req.survey_link)
        self._check(_callback_action(req))

    @workflow.update
    @after_opening
    async def send_callback_survey(self, req: SendCallbackSurvey) -> CallbackSurveyLink:
        """The call-back asked for by text (DOMAIN §5): the customer gets a link to rate the handling;
        their answer comes back as record_callback, for this round only, until the link expires."""
        if (sent := self._surveys.get(req.link_id)) is not None:
            return sent  # the same request again: sent once
        self._check_survey_owed()
        now = workflow.now()
        self._surveys[req.link_id] = link = CallbackSurveyLink(
            link_id=req.link_id, handling_round=self._handling_round, sent_at=now,
            expires_at=now + timedelta(hours=req.link_hours))
        self._notify_customer(f"callback-survey-{req.link_id}", "How did we do?",
                              survey_text(self._filing.complaint_id, req.url, req.link_hours))
        detail = {"link_id": req.link_id, "handling_round": link.handling_round, "expires_at": link.expires_at.isoformat()}
        await self._commit(self._change(ComplaintAction.SEND_CALLBACK_SURVEY, req.actor, detail))
        return link

    @send_callback_survey.validator
    def _check_send_callback_survey(self, req: SendCallbackSurvey) -> None:
        if req.link_id not in self._surveys:
            self._check_survey_owed()

    def _check_survey_owed(self) -> None:
        if reason := sending_refusal(self._status):
            refuse(reason, self._status.value)

    def _check_survey_answer(self, link_id: str) -> None:
        link = self._surveys.get(link_id)
        if link is None:
            refuse("this link can no longer be answered: the call-back was made", self._status.value)
        if reason := link_refusal(status=self._status, handling_round=self._handling_round,
                                  link_round=link.handling_round, expires_at=link.expires_at,
                                  now=workflow.now(), used=False):
            refuse(reason, self._status.value)

    @workflow.update
    @after_opening
    async def close_unresolvable(self, req: CloseUnresolvable) -> ComplaintState:
        """A supervisor closes a case that cannot be resolved, with the reason."""
        return await self._transition(ComplaintAction.CLOSE_UNRESOLVABLE, req.actor, {"reason": req.reason})

    @close_unresolvable.validator
    def _check_close_unresolvable(self, req: CloseUnresolvable) -> None:
        self._check(ComplaintAction.CLOSE_UNRESOLVABLE)

    @workflow.update
    @after_opening
    async def record_first_contact(self, req: RecordFirstContact) -> ComplaintState:
        """The agent's first contact: apology, why it matters, first direction. Stops that clock."""
        self._check_first_contact_open()
        now = workflow.now()
        self._clocks[FIRST_CONTACT].met_at = now
        self._watcher.reset()
        detail = {
            "apology": req.apology,
            "why_it_matters": req.why_it_matters,
            "first_direction": req.first_direction,
            # A clock met while paused was not due when paused, and the pause owes nothing.
            "in_time": self._clocks[FIRST_CONTACT].paused_at is not None or now <= self._clocks[FIRST_CONTACT].due,
        }
        return await self._commit(self._change(ComplaintAction.RECORD_FIRST_CONTACT, req.actor, detail, clocks=True))

    @record_first_contact.validator
    def _check_record_first_contact(self, req: RecordFirstContact) -> None:
        self._check_first_contact_open()

    # -- shift hand-over (交接班) ---------------------------------------------------------------

    @workflow.update
    @after_opening
    async def hand_over(self, req: HandOverCase) -> ComplaintState:
        """The case's ownership moves to another seat (at shift end); the timeline names both."""
        self._check_hand_over(req)
        handed_from, self._owner = self._owner, req.to
        detail = {"from_seat": handed_from.model_dump(mode="json") if handed_from else None,
                  "to_seat": req.to.model_dump(mode="json"), "note": req.note}
        return await self._commit(self._change(ComplaintAction.HAND_OVER, req.actor, detail))

    @hand_over.validator
    def _check_hand_over(self, req: HandOverCase) -> None:
        if reason := hand_over_refusal(self._status, self._owner.id if self._owner else None, req.to.id):
            refuse(reason, self._status.value)

    # -- keeping the customer informed (DOMAIN §5) ---------------------------------------------

    @workflow.update
    @after_opening
    async def record_progress_update(self, req: RecordProgressUpdate) -> ComplaintState:
        """An agent told the customer how things stand: this interval's update is met, the next owed an interval later."""
        self._check_open("record a progress update")
        change = self._change(ComplaintAction.RECORD_PROGRESS_UPDATE, req.actor,
                              {"message": req.message, "medium": req.medium}, clocks=True)
        progress = self._clocks.get(PROGRESS)
        if progress is not None and progress.running:
            restarted, _ = await self._start_clock(PROGRESS, workflow.now(), kind=ClockKind.PROGRESS)
            change = _with_detail(change, {"next_update_due_local": restarted.due_local}, self._clock_list())
        return await self._commit(change)

    @record_progress_update.validator
    def _check_record_progress_update(self, req: RecordProgressUpdate) -> None:
        self._check_open("record a progress update")

    @workflow.update
    @after_opening
    async def extend_solution_clock(self, req: ExtendSolutionClock) -> ComplaintState:
        """4 → 8 hours for a complex problem, only if the customer is told before the 4 hours run out."""
        self._check_extension()
        solution = self._clocks[SOLUTION]
        solution.extended = True  # at once, so a second request is refused while this one runs
        was_due = solution.due_local
        deadline = await self._deadline(SOLUTION, solution.unit, solution.started_at, clock=EXTENDED_SOLUTION)
        solution.due, solution.due_local, solution.calendar_version = deadline.due, deadline.due_local, deadline.calendar_version
        self._watcher.reset()
        detail = {"reason": req.reason, "medium": req.medium, "was_due_local": was_due, "due_local": deadline.due_local}
        return await self._commit(self._change(ComplaintAction.EXTEND_SOLUTION_CLOCK, req.actor, detail, clocks=True))

    @extend_solution_clock.validator
    def _check_extend_solution_clock(self, req: ExtendSolutionClock) -> None:
        self._check_extension()

    def _check_extension(self) -> None:
        if reason := extension_refusal(self._status, self._clocks.get(SOLUTION), workflow.now()):
            refuse(reason, self._status.value)

    # -- complex cases (DOMAIN §4: convene, investigate, plan, carry out, report back) ---------

    @workflow.update
    @after_opening
    async def make_complex(self, req: MakeComplex) -> ComplaintState:
        self._check_complex_step(ComplaintAction.MAKE_COMPLEX)
        self._complex = True
        return await self._commit(self._change(ComplaintAction.MAKE_COMPLEX, req.actor, {"reason": req.reason}))

    @make_complex.validator
    def _check_make_complex(self, req: MakeComplex) -> None:
        self._check_complex_step(ComplaintAction.MAKE_COMPLEX)

    @workflow.update
    @after_opening
    async def record_coordination_meeting(self, req: RecordCoordinationMeeting) -> ComplaintState:
        self._check_complex_step(ComplaintAction.RECORD_COORDINATION_MEETING)
        self._meeting_recorded = True
        detail = req.model_dump(mode="json", exclude={"actor"})
        return await self._commit(self._change(ComplaintAction.RECORD_COORDINATION_MEETING, req.actor, detail))

    @record_coordination_meeting.validator
    def _check_record_coordination_meeting(self, req: RecordCoordinationMeeting) -> None:
        self._check_complex_step(ComplaintAction.RECORD_COORDINATION_MEETING)

    @workflow.update
    @after_opening
    async def agree_plan(self, req: AgreePlan) -> ComplaintState:
        """The plan: each action with its department, owner and due date, tracked on its own clock."""
        self._check_complex_step(ComplaintAction.AGREE_PLAN)
        first = len(self._plan) + 1
        for number, planned in enumerate(req.actions, start=first):
            self._plan.append(PlanAction(number=number, department=planned.department, owner=planned.owner,
                                         description=planned.description, due=planned.due))
            self._clocks[action_clock(number)] = Clock(
                name=action_clock(number), label=f"action {number} ({planned.owner}, {planned.department})",
                started_at=workflow.now(), due=planned.due, due_local=planned.due.strftime("%Y-%m-%d %H:%M %z"),
                unit=planned.department, calendar_version="agreed in the plan", kind=ClockKind.ACTION,
            )
        self._watcher.reset()
        detail = {"actions": [a.model_dump(mode="json") for a in req.actions]}
        return await self._commit(self._change(ComplaintAction.AGREE_PLAN, req.actor, detail, clocks=True, plan=True))

    @agree_plan.validator
    def _check_agree_plan(self, req: AgreePlan) -> None:
        self._check_complex_step(ComplaintAction.AGREE_PLAN)

    @workflow.update
    @after_opening
    async def complete_action(self, req: CompleteAction) -> ComplaintState:
        """An action of the plan is done; the last one done resolves the case."""
        action = self._check_action_open(req.number)
        now = workflow.now()
        action.done_at, action.outcome = now, req.outcome
        self._clocks[action_clock(action.number)].met_at = now
        self._watcher.reset()
        detail = {"number": action.number, "outcome": req.outcome, "in_time": now <= action.due}
        changes = [self._change(ComplaintAction.COMPLETE_ACTION, req.actor, detail, clocks=True, plan=True)]
        if resolved_by_plan(self._open_actions()):
            summary = "; ".join(f"{a.number}. {a.description}: {a.outcome}" for a in self._plan)
            resolved = self._move(ComplaintAction.RESOLVE, req.actor, {"solution": summary[:4000], "by_plan": True})
            changes.append(await self._with_clocks(ComplaintAction.RESOLVE, resolved))
        state = self.state()
        await workflow.wait_condition(lambda: self._opened)
        await self._record(changes)
        self._refresh_details()
        return state

    @complete_action.validator
    def _check_complete_action(self, req: CompleteAction) -> None:
        self._check_action_open(req.number)

    def _check_complex_step(self, step: ComplaintAction) -> None:
        if reason := step_refusal(step, self._status, complex_case=self._complex,
                                  meeting_recorded=self._meeting_recorded, open_actions=self._open_actions()):
            refuse(reason, self._status.value)

    def _check_action_open(self, number: int) -> PlanAction:
        planned = [a.number for a in self._plan]
        done = [a.number for a in self._plan if a.done_at is not None]
        if reason := completion_refusal(number, self._status, planned, done):
            refuse(reason, self._status.value)
        return next(a for a in self._plan if a.number == number)

    def _open_actions(self) -> list[int]:
        return [a.number for a in self._plan if a.done_at is None]

    # -- duplicates ----------------------------------------------------------------------------

    @workflow.update
    @after_opening
    async def link_duplicate(self, req: LinkDuplicate) -> ComplaintState:
        """The same complaint through another channel: recorded here, no second case (a retry links once)."""
        self._check_open("link a duplicate")
        if req.key in self._linked_duplicates:
            return self.state()
        self._linked_duplicates.append(req.key)
        detail = req.model_dump(mode="json", exclude={"actor"})
        return await self._commit(self._change(ComplaintAction.LINK_DUPLICATE, req.actor, detail))

    @link_duplicate.validator
    def _check_link_duplicate(self, req: LinkDuplicate) -> None:
        self._check_open("link a duplicate")

    # -- merge and split (rules/merging.py) ------------------------------------------------------

    @workflow.update
    @after_opening
    async def merge_into(self, req: MergeInto) -> ComplaintState:
        """A supervisor merges this complaint into another, the same matter: its clocks stop with the
        working time each had left, the target hears of it by signal (and may still refuse), the
        customer is texted the target's id. A target that has ended refuses it here (409)."""
        self._check_merge(req.into)
        self._patches.has(MERGE)  # a case started before merging marks where it took the new path
        before = self._status
        change = self._move(ComplaintAction.MERGE_INTO, req.actor, {"into": req.into, "reason": req.reason})
        self._merged_into, self._status_before_merge = req.into, before
        self._merge_settling = True  # until its clocks are held and the target told: no split yet
        held = [c for c in self._clocks.values() if c.running]
        for clock in held:
            del self._clocks[clock.name]  # at once: the watcher lets them be
        self._watcher.reset()
        now = workflow.now()
        self._held_clocks = [HeldClock(clock=c, held_at=now, remaining_minutes=await self._working_minutes_left(c))
                             for c in held]
        stopped = {h.clock.name: h.remaining_minutes for h in self._held_clocks}
        try:
            await self._tell(req.into, "take_in_merged",
                             MergedCase(complaint_id=self._filing.complaint_id, actor=req.actor, reason=req.reason),
                             quiet=False)
        except FailureError:
            reason = f"complaint {req.into} has ended; a complaint is merged only into an open one"
            self._merge_settling = False
            await self._unmerge(change, {"clocks_stopped": stopped, "refused": reason})
            refuse(reason, self._status.value)
        self._merge_settling = False
        self._notify_customer(
            f"merged-into-{req.into}-{change.entry.seq}", "Your complaint continues under another number",
            f"Your complaint {self._filing.complaint_id} is now handled together with complaint {req.into}."
            f" Please quote {req.into} from now on.",
        )
        return await self._commit(_with_detail(change, {"clocks_stopped": stopped}, self._clock_list()))

    @merge_into.validator
    def _check_merge_into(self, req: MergeInto) -> None:
        self._check_merge(req.into)

    def _check_merge(self, into: str) -> None:
        paused_for = self._clock_pause.reason if self._clock_pause is not None else None
        if reason := merge_refusal(self._filing.complaint_id, self._status.value, into, self._merged_cases, paused_for):
            refuse(reason, self._status.value)

    @workflow.update
    @after_opening
    async def split_out(self, req: SplitOut) -> ComplaintState:
        """A wrongly merged complaint is its own case again: the status it had, each stopped clock
        running with the working time it had left, the target told, the customer texted."""
        self._check_split()
        target = self._merged_into
        assert target is not None
        detail = {"from": target, "reason": req.reason}
        change = self._unmerging(ComplaintAction.SPLIT_OUT, req.actor, detail)
        try:
            await self._tell(target, "let_go_split",
                             MergedCase(complaint_id=self._filing.complaint_id, actor=req.actor, reason=req.reason),
                             quiet=False)
        except FailureError:
            pass  # the target has ended (its closing will not reach this case, which is on its own again)
        return await self._unmerge(change, {})

    @split_out.validator
    def _check_split_out(self, req: SplitOut) -> None:
        self._check_split()

    def _check_split(self) -> None:
        if reason := split_refusal(self._filing.complaint_id, self._status.value):
            refuse(reason, self._status.value)
        if self._merge_settling:
            refuse("the merge is still being recorded; split it out a moment later", self._status.value)

    @workflow.signal
    async def target_closed(self, answer: TargetAnswer) -> None:
        """The target closed (or could not take the merge after all: `refused`)."""
        if self._merged_into != answer.target or self._status is not ComplaintStatus.MERGED:
            return  # split out meanwhile: this case is on its own
        if answer.refused is not None:
            change = self._unmerging(ComplaintAction.MERGE_REFUSED, SYSTEM_ACTOR,
                                     {"into": answer.target, "refused": answer.refused})
            await self._unmerge(change, {})
            return
        await self._commit(self._move(ComplaintAction.CLOSE_WITH_TARGET, SYSTEM_ACTOR, {"target": answer.target}))

    def _unmerging(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintChange:
        """The status the complaint had before the merge, at once (before any await), as its change."""
        assert self._status_before_merge is not None
        self._status, self._merged_into = self._status_before_merge, None
        workflow.upsert_search_attributes([CaseSearch.STATUS.value_set(self._status.value)])
        return self._change(action, actor, detail, before=ComplaintStatus.MERGED)

    async def _unmerge(self, change: ComplaintChange, extra: dict[str, Any]) -> ComplaintState:
        """The stopped clocks run again with the working time each had left, from now on their calendars."""
        if self._status is ComplaintStatus.MERGED:  # the merge itself was refused: back as before
            assert self._status_before_merge is not None
            self._status, self._merged_into = self._status_before_merge, None
            workflow.upsert_search_attributes([CaseSearch.STATUS.value_set(self._status.value)])
            entry = change.entry.model_copy(update={"action": ComplaintAction.MERGE_REFUSED, "to_status": self._status})
            change = change.model_copy(update={"entry": entry, "status": self._status})
        held, self._held_clocks = self._held_clocks, []
        for h in held:
            if not h.clock.running:  # met while merged: back as it is
                self._clocks[h.clock.name] = h.clock
        running = [h for h in held if h.clock.running]
        restarted = {}
        if running:
            # As a resumed pause's clocks: each owes the working time it had left (WorkingCalendar.resumed_due).
            request = ResumedDeadlinesRequest(paused_at=running[0].held_at, resumed_at=workflow.now(), instants=[
                PausedInstant(unit=h.clock.unit, at=h.clock.due) for h in running])
            deadlines = await workflow.execute_local_activity(
                RESUMED_DEADLINES_ACTIVITY, request, result_type=list[Deadline],
                summary="split out: what the stopped clocks owe", **CALENDAR_LOOKUP)
            for h, deadline in zip(running, deadlines):
                self._clocks[h.clock.name] = h.clock.model_copy(update={
                    "due": deadline.due, "due_local": deadline.due_local, "calendar_version": deadline.calendar_version})
                restarted[h.clock.name] = deadline.due_local
        self._watcher.reset()
        if "refused" not in extra:
            self._notify_customer(f"split-out-{change.entry.seq}", "Your complaint is handled on its own again",
                                  f"Your complaint {self._filing.complaint_id} is handled on its own again."
                                  f" Please quote {self._filing.complaint_id}.")
        return await self._commit(_with_detail(change, {**extra, "clocks_restarted": restarted}, self._clock_list()))

    async def _working_minutes_left(self, clock: Clock) -> int:
        now = workflow.now()
        if clock.due <= now:
            return 0
        return await workflow.execute_local_activity(
            WORKING_MINUTES_ACTIVITY, WorkingTimeRequest(unit=clock.unit, start=now, end=clock.due),
            result_type=int, summary=f"{clock.label}: working time left", **CALENDAR_LOOKUP,
        )

    async def _tell(self, complaint_id: str, signal: str, message: Any, *, quiet: bool = True) -> None:
        """Signal another complaint of the merge (durable: a command in this history); `quiet`: one
        that has ended is logged, not raised (its closing already read what it needed)."""
        try:
            await workflow.get_external_workflow_handle(complaint_workflow_id(complaint_id)).signal(signal, message)
        except FailureError as err:
            if not quiet:
                raise
            workflow.logger.warning("complaint %s not told (%s): %s", complaint_id, signal, err)

    # The target's side: merged complaints taken in, let go, and their dispatches' answers.

    @workflow.signal
    async def take_in_merged(self, merged: MergedCase) -> None:
        if reason := target_refusal(self._filing.complaint_id, self._status.value, self._merged_into):
            # Closed or merged since the supervisor asked: the merged complaint goes back as it was.
            await self._tell(merged.complaint_id, "target_closed",
                             TargetAnswer(target=self._filing.complaint_id, refused=reason))
            return
        self._merged_cases.setdefault(merged.complaint_id, [])
        detail = {"merged": merged.complaint_id, "reason": merged.reason}
        await self._commit(self._change(ComplaintAction.TAKE_IN_MERGED, merged.actor, detail))

    @workflow.signal
    async def let_go_split(self, merged: MergedCase) -> None:
        dispatches = self._merged_cases.pop(merged.complaint_id, None)
        if dispatches is None:
            return
        # Its dispatches' answers are its own again: this case's judgement no longer weighs them.
        self._finished_dispatches = [v for v in self._finished_dispatches if v.dispatch_id not in dispatches]
        detail = {"split_out": merged.complaint_id, "reason": merged.reason}
        await self._commit(self._change(ComplaintAction.LET_GO_SPLIT, merged.actor, detail))

    @workflow.signal
    async def merged_dispatch_finished(self, forwarded: MergedDispatchFinished) -> None:
        """A merged complaint's dispatch answered (or was returned): it lands here too."""
        heard = self._merged_cases.get(forwarded.complaint_id)
        if heard is None:
            return  # split out meanwhile: the answer is that complaint's own
        result, view = forwarded.result, forwarded.result.dispatch
        if view.dispatch_id not in heard:
            heard.append(view.dispatch_id)
        if result.reopened:
            self._finished_dispatches = [v for v in self._finished_dispatches if v.dispatch_id != view.dispatch_id]
        elif self._status is not ComplaintStatus.CLOSED:
            self._finished(view)
        if result.redispatch or view.returns:
            self._one_time_resolution = False
        detail = {"dispatch_id": view.dispatch_id, "merged_from": forwarded.complaint_id, "status": view.status.value,
                  "answered_at": view.answered_at.isoformat() if view.answered_at else None, "in_time": view.in_time, "late_working_minutes": view.late_working_minutes,
                  "returns": view.returns, "finding": view.finding, "failing_link": view.failing_link}
        if result.reopened:
            detail["reopened"] = True
        await self._commit(self._change(ComplaintAction.DISPATCH_FINISHED, SYSTEM_ACTOR, detail))

    # -- clock pauses (rules/pauses.py) ---------------------------------------------------------

    @workflow.update
    @after_opening
    async def pause_clocks(self, req: PauseClocks) -> ComplaintState:
        """The case waits on the customer or a third party: its running customer clocks stop (no
        timer, nothing owed) until resumed by hand, or by themselves at the reason's maximum."""
        self._check_pausable()
        self._patches.has(CLOCK_PAUSE)
        now = workflow.now()
        paused = self._pausable_clocks()
        for clock in paused:
            clock.paused_at = now  # at once: the watcher lets them be
        self._watcher.reset()
        self._clock_pause = pause = ClockPause(reason=req.reason, note=req.note, paused_by=req.actor, paused_at=now,
                                               max_working_hours=req.max_working_hours)
        ends = await pause_end(pause, self._filing.lead_unit)
        pause.ends_by, pause.ends_by_local = ends.due, ends.due_local
        detail = paused_detail(pause, clocks={c.name: c.due_local for c in paused})
        return await self._commit(self._change(ComplaintAction.PAUSE_CLOCKS, req.actor, detail, clocks=True))

    @pause_clocks.validator
    def _check_pause_clocks(self, req: PauseClocks) -> None:
        self._check_pausable()

    @workflow.update
    @after_opening
    async def resume_clocks(self, req: ResumeClocks) -> ComplaintState:
        self._check_resumable()
        return await self._commit(await self._end_pause(req.actor, by_itself=False, note=req.note))

    @resume_clocks.validator
    def _check_resume_clocks(self, req: ResumeClocks) -> None:
        self._check_resumable()

    def _pausable_clocks(self) -> list[Clock]:
        """The customer's clocks that run: not a plan's actions (agreed dates) nor a department's
        first opinion (its dispatch pauses its own clock)."""
        return [c for c in self._clocks.values()
                if c.running and c.kind is not ClockKind.ACTION and not c.name.startswith(f"{OPINION}:")]

    def _check_pausable(self) -> None:
        if self._status not in OPEN_STATUSES:
            refuse(f"the complaint is {self._status.value}; its clocks are paused only while it is open",
                   self._status.value)
        if self._clock_pause is not None:
            refuse(f"the customer clocks are already paused ({self._clock_pause.reason})", self._status.value)
        if not self._pausable_clocks():
            refuse("no customer clock is running: there is nothing to pause", self._status.value)

    def _check_resumable(self) -> None:
        if self._clock_pause is None:
            refuse("the customer clocks are not paused", self._status.value)

    async def _end_pause(self, actor: Actor, *, by_itself: bool, note: str | None) -> ComplaintChange:
        """Each clock the pause stopped owes the working time it had left, from now, on its own
        calendar; its warnings not reached yet move with it. Ended by itself: whoever paused is told."""
        pause, self._clock_pause = self._clock_pause, None  # at once: a second resume is refused
        assert pause is not None
        paused = [c for c in self._clocks.values() if c.paused_at is not None]
        owing = [c for c in paused if c.pending]  # met while paused: nothing more is owed
        warnings = [(c, w) for c in owing for w in c.warnings if w.warned_at is None]
        instants = [PausedInstant(unit=c.unit, at=c.due) for c in owing]
        instants += [PausedInstant(unit=c.unit, at=w.at) for c, w in warnings]
        moved = await resumed_deadlines(pause, instants) if instants else []
        for clock, deadline in zip(owing, moved):
            clock.due, clock.due_local, clock.calendar_version = deadline.due, deadline.due_local, deadline.calendar_version
        for (_, warning), deadline in zip(warnings, moved[len(owing):]):
            warning.at, warning.at_local = deadline.due, deadline.due_local
        for clock in paused:
            clock.paused_at = None
        self._watcher.reset()
        if by_itself:
            self._notify_staff(
                pause.paused_by.role, pause.paused_by.unit, f"pause-{pause.paused_at:%Y%m%dT%H%M%S}-ended",
                "Clock pause ended by itself",
                f"The pause ({pause.reason}) of complaint {self._filing.complaint_id}'s customer clocks reached its"
                f" maximum of {pause.max_working_hours:g} working hours at {pause.ends_by_local}; the clocks run again.",
            )
        detail = resumed_detail(pause, by_itself, note, clocks={c.name: c.due_local for c in owing})
        return self._change(ComplaintAction.RESUME_CLOCKS, actor, detail, clocks=True)

    async def _end_pause_at_its_maximum(self) -> None:
        """Beside the clock watcher: one timer while a pause is in force, at its maximum."""
        stop = lambda: self._closed() or self._pausing  # noqa: E731
        while not stop():
            await workflow.wait_condition(lambda: stop() or (self._clock_pause is not None
                                                             and self._clock_pause.ends_by is not None))
            pause = self._clock_pause
            if stop() or pause is None or pause.ends_by is None:
                continue
            summary = f"pause ({pause.reason}) ends by {pause.ends_by_local}"
            if await done_or_due(lambda: stop() or self._clock_pause is not pause, pause.ends_by, summary):
                continue
            await self._commit(await self._end_pause(SYSTEM_ACTOR, by_itself=True, note=None))

    # -- dispatches ---------------------------------------------------------------------------

    @workflow.update
    @after_opening
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
        await self._start_dispatch(order)  # its opening row written: readable and answerable at once
        await self._start_opinion_clock(order)
        detail = {"dispatch_id": dispatch_id, "kind": req.kind.value, "unit": req.unit, "priority": req.priority.value}
        await self._commit(self._change(ComplaintAction.RAISE_DISPATCH, req.actor, detail))
        return dispatch_id

    @raise_dispatch.validator
    def _check_raise_dispatch(self, req: RaiseDispatch) -> None:
        self._check_dispatchable()

    def _check_dispatchable(self) -> None:
        if reason := dispatch_refusal(self._status, self._filing.classification.level):
            refuse(reason, self._status.value)

    async def _start_opinion_clock(self, order: DispatchOrder) -> None:
        """The department a dispatch asks owes its first opinion within the hour (DOMAIN §5), on its
        own calendar, from the raising; its first reply (dispatch_finished) meets it."""
        if not self._patches.has(CROSS_DEPARTMENT_OPINION):
            return
        name, label = opinion_clock(order.dispatch_id), f"first opinion of {order.unit} on {order.dispatch_id}"
        deadline = await self._deadline(label, order.unit, order.raised_at, clock=OPINION)
        self._clocks[name] = Clock(
            name=name, label=label, started_at=order.raised_at, due=deadline.due, due_local=deadline.due_local,
            unit=deadline.unit, calendar_version=deadline.calendar_version,
        )
        self._watcher.reset()

    async def _start_dispatch(self, order: DispatchOrder) -> None:
        # Started on today's code, with the complaint's level (quiet hours exempt level 1, issue #16).
        order = order.model_copy(update={"built_with": list(DISPATCH_PATCHES), "level": self._filing.classification.level})
        self._orders[order.dispatch_id] = order
        self._open_dispatches[order.dispatch_id] = self._dispatch_handles[order.dispatch_id] = \
            await workflow.start_child_workflow(
                DispatchWorkflow.run,
                order,
                id=order.dispatch_id,
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"{order.kind.value.replace('_', ' ')} to {order.unit} for complaint {order.complaint_id}",
                search_attributes=case_of(order.complaint_id),
            )
        if self._patches.has(DISPATCH_ROW_AT_RAISING):
            # The dispatch writes the same change (seq 1) in its first task; the store keeps one.
            await workflow.execute_local_activity(
                RECORD_DISPATCH_CHANGES_ACTIVITY, [opening_change(order, workflow.now())],
                summary=f"record {order.dispatch_id} raised", **READ_MODEL_WRITE,
            )

    @workflow.signal
    async def dispatch_finished(self, result: DispatchResult) -> None:
        """A dispatch answered or asked for a redispatch (its workflow may still run: an answer stays
        open to a return by hand), or `reopened`: its answer was returned and it works again."""
        view = result.dispatch
        self._misses_before_a_step()
        if result.reopened:
            self._finished_dispatches = [v for v in self._finished_dispatches if v.dispatch_id != view.dispatch_id]
            if (handle := self._dispatch_handles.get(view.dispatch_id)) is not None:
                self._open_dispatches[view.dispatch_id] = handle  # out again: closing cancels it
        else:
            self._open_dispatches.pop(view.dispatch_id, None)
            self._meet(opinion_clock(view.dispatch_id))  # the department's first reply
            self._finished(view)
        if result.redispatch or view.returns:
            self._one_time_resolution = False  # a redispatch or a returned reply: not resolved at once
        detail = {"dispatch_id": view.dispatch_id, "status": view.status.value, "in_time": view.in_time,
                  "late_working_minutes": view.late_working_minutes, "returns": view.returns,
                  "finding": view.finding, "failing_link": view.failing_link}
        if result.reopened:
            detail["reopened"] = True
        if result.redispatch and self._status is not ComplaintStatus.CLOSED:
            # 重派: the same order again, to the same unit, with a fresh clock (an urgent ticket's
            # review is not repeated: confirmed stays urgent, downgraded is a normal ticket).
            self._dispatches_raised += 1
            again = redispatch_order(self._orders[view.dispatch_id], view, dispatch_workflow_id(
                self._filing.complaint_id, self._dispatches_raised), workflow.now())
            detail["redispatched_as"] = again.dispatch_id
            await self._start_dispatch(again)
        if self._merged_into is not None:
            # Merged: the answer is the target's to weigh (it lands on the target's timeline too).
            detail["forwarded_to"] = self._merged_into
            await self._tell(self._merged_into, "merged_dispatch_finished",
                             MergedDispatchFinished(complaint_id=self._filing.complaint_id, result=result))
        await self._commit(self._change(ComplaintAction.DISPATCH_FINISHED, SYSTEM_ACTOR, detail))

    def _finished(self, view: DispatchView) -> None:
        """The dispatch's last word, once (a closing that read it from the result may hear it again)."""
        self._finished_dispatches = [v for v in self._finished_dispatches if v.dispatch_id != view.dispatch_id]
        self._finished_dispatches.append(view)

    def _children_done(self) -> bool:
        return all(h.done() for h in self._open_dispatches.values())

    @workflow.query
    def clocks(self) -> list[Clock]:
        return list(self._clocks.values())

    @workflow.query
    def plan(self) -> list[PlanAction]:
        return list(self._plan)

    @workflow.query
    def state(self) -> ComplaintState:
        return ComplaintState(
            complaint_id=self._filing.complaint_id,
            status=self._status,
            handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution,
            last_seq=self._seq,
            owner=self._owner,
            merged_into=self._merged_into,
        )

    # -- mechanics ----------------------------------------------------------------------------

    def _check(self, action: ComplaintAction) -> None:
        try:
            next_status(self._status, action)
        except InvalidTransition as err:
            refuse(str(err), self._status.value)

    def _check_open(self, what: str) -> None:
        if self._status is ComplaintStatus.CLOSED:
            refuse(f"cannot {what}: the complaint is closed", self._status.value)
        self._check_not_merged(what)

    def _check_not_merged(self, what: str) -> None:
        if self._status is ComplaintStatus.MERGED:
            refuse(f"cannot {what}: the complaint is merged into {self._merged_into}; act on {self._merged_into}",
                   self._status.value)

    def _check_first_contact_open(self) -> None:
        self._check_not_merged("record first contact")
        if reason := first_contact_refusal(self._status, self._clocks.get(FIRST_CONTACT)):
            refuse(reason, self._status.value)

    def _closed(self) -> bool:
        return self._status is ComplaintStatus.CLOSED

    def _uses_customer_clocks(self) -> bool:
        """Asked at the first point where this version behaves differently, then remembered: a case
        started before the customer clocks replays as it ran, and adopts them from here on."""
        if self._customer_clocks is None:
            self._customer_clocks = self._patches.has(CUSTOMER_CLOCKS)
        return self._customer_clocks

    async def _open(self) -> None:
        """What a complaint starts with besides first contact: the solution owed from the received
        time, whether or not anyone has taken the case (DOMAIN §5), and a level-1 red alert."""
        cls = self._filing.classification
        if raises_red_alert(cls.level) and self._patches.has(RED_ALERT):
            # Straight to the duty manager (DOMAIN §3): by SMS and e-mail through the outbox, once.
            self._notify_staff(
                Role.DUTY_MANAGER, self._filing.lead_unit, "red-alert", f"RED ALERT: level-1 {cls.category}",
                f"Level-1 complaint {self._filing.complaint_id} ({cls.category.replace('_', ' ')}), received"
                f" {self._filing.intake.received_at.isoformat()}: {'; '.join(cls.level_reasons)}",
            )
        if not self._patches.has(SOLUTION_FROM_RECEIPT):
            return
        for name in opening_clocks(cls.level):
            clock, calendar = await self._start_clock(name, self._filing.intake.received_at, kind=ClockKind.CUSTOMER)
            await self._record([self._change(ComplaintAction.START_CLOCK, SYSTEM_ACTOR,
                                             clock_started_detail(clock, calendar), clocks=True)])

    async def _transition(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintState:
        change = self._move(action, actor, detail)
        state = self.state()
        change = await self._with_clocks(action, change)
        await workflow.wait_condition(lambda: self._opened)
        await self._record([change])
        self._refresh_details()
        return state

    def _move(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintChange:
        """Move the state at once, before any await, so an update validated right after this one
        already sees the new state; the change takes its seq now, in order."""
        self._check(action)
        before = self._status
        self._status = next_status(before, action)
        if action is ComplaintAction.RECORD_DISSATISFIED_CALLBACK:
            self._handling_round += 1
            self._one_time_resolution = False  # reopened: no longer resolved at the first go
        if self._status is ComplaintStatus.CLOSED:
            self._closed_at = workflow.now()
        workflow.upsert_search_attributes([CaseSearch.STATUS.value_set(self._status.value)])
        return self._change(action, actor, detail, before=before)

    async def _with_clocks(self, action: ComplaintAction, change: ComplaintChange) -> ComplaintChange:
        """The customer clocks a transition stops and starts (DOMAIN §5), shown on its timeline entry."""
        if action not in CLOCKS_OF or not self._uses_customer_clocks():
            return change
        stops, starts = CLOCKS_OF[action]
        if self._patches.has(SOLUTION_FROM_RECEIPT):
            if not self._opened:  # an update in the first task: the opening's solution clock first
                await workflow.wait_condition(lambda: self._opened)
            starts = clocks_started(action, self._filing.classification.level, self._handling_round, self._clocks)
        for name in stops:
            self._meet(name)
        now = workflow.now()
        started = {}
        for name in starts:
            begin = runs_from(name, self._handling_round, self._filing.intake.received_at, now)
            kind = ClockKind.PROGRESS if name == PROGRESS else ClockKind.CUSTOMER
            started[name] = (await self._start_clock(name, begin, kind=kind))[0].due_local
        return _with_detail(change, {"clocks_started": started} if started else {}, self._clock_list())

    def _meet(self, name: str) -> None:
        clock = self._clocks.get(name)
        if clock is not None and clock.pending:  # a paused clock is met too
            clock.met_at = workflow.now()
            self._watcher.reset()
        for held in self._held_clocks:  # met while merged (a dispatch's first reply): not restarted at the split
            if held.clock.name == name and held.clock.running:
                held.clock.met_at = workflow.now()

    def _change(
        self,
        action: ComplaintAction,
        actor: Actor,
        detail: dict[str, Any],
        *,
        before: ComplaintStatus | None = None,
        clocks: bool = False,
        plan: bool = False,
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
            clocks=self._clock_list() if clocks else None,
            missed_clocks=self._missed_clocks if self._customer_clocks else None,
            complex_case=self._complex if self._customer_clocks else None,
            plan=[a.model_copy() for a in self._plan] if plan else None,
            owner=self._owner,
        )

    def _clock_list(self) -> list[Clock]:
        return [c.model_copy() for c in self._clocks.values()]

    async def _commit(self, change: ComplaintChange) -> ComplaintState:
        state = self.state()
        await workflow.wait_condition(lambda: self._opened)
        await self._record([change])
        self._refresh_details()
        return state

    async def _record(self, changes: list[ComplaintChange]) -> None:
        if self._patches.has(STEPS_IN_ORDER):
            # In seq order: a change that took its seq before another's await is written first.
            first = changes[0].entry.seq
            if self._written_seq < first - 1:
                await workflow.wait_condition(lambda: self._written_seq >= first - 1)
            # With the clocks as they stand now: a step's own list may predate a clock started or
            # missed while it awaited (the read model never loses a running clock).
            changes = [*changes[:-1], changes[-1].model_copy(update={"clocks": self._clock_list()})]
        batch = [*self._unwritten, *changes]
        await workflow.execute_local_activity(
            RECORD_CHANGES_ACTIVITY, batch, summary=f"record {changes[-1].entry.action.value}", **READ_MODEL_WRITE
        )
        self._unwritten = []
        self._written_seq = max(self._written_seq, changes[-1].entry.seq)

    # -- clocks -------------------------------------------------------------------------------

    async def _clock(self, name: str, label: str, unit: str, start: Any, category: str | None = None) -> ComplaintChange:
        """Start a clock: its due instant comes from the calendar activity, never from workflow code."""
        request = DeadlineRequest(unit=unit, start=start, clock=name, category=category, tier=self._vip_tier())
        deadline = await look_up_deadline(request, label)
        self._clocks[name] = Clock(
            name=name,
            label=label,
            started_at=start,
            due=deadline.due,
            due_local=deadline.due_local,
            unit=unit,
            calendar_version=deadline.calendar_version,
            warnings=[w.model_copy() for w in deadline.warnings],
        )
        self._watcher.reset()
        detail = clock_started_detail(self._clocks[name], deadline.calendar)
        return self._change(ComplaintAction.START_CLOCK, SYSTEM_ACTOR, detail, clocks=True)

    async def _start_clock(self, name: str, start: datetime, *, kind: ClockKind) -> tuple[Clock, str]:
        """A customer clock on the lead office's calendar (or its keeper's, as the call centre keeps
        the call-back), its length from the policy by category and level (or the update interval
        the customer asked for). Returns the clock and the calendar it runs on."""
        rule = progress_interval(self._filing.intake.progress_update_hours) if name == PROGRESS else None
        deadline = await self._deadline(name, self._filing.lead_unit, start, clock=None if rule else name, rule=rule)
        self._clocks[name] = clock = Clock(
            name=name, label=LABELS[name], started_at=start, due=deadline.due, due_local=deadline.due_local,
            unit=deadline.unit, calendar_version=deadline.calendar_version, kind=kind,
            # A progress update recurs every interval: no warning before each (it would double its
            # notices and its history); its miss is told as any clock's.
            warnings=[] if kind is ClockKind.PROGRESS else [w.model_copy() for w in deadline.warnings],
        )
        self._watcher.reset()
        return clock, deadline.calendar

    async def _deadline(self, name: str, unit: str, start: datetime, *, clock: str | None,
                        rule: WorkingHoursRule | None = None) -> Deadline:
        cls = self._filing.classification
        request = DeadlineRequest(unit=unit, start=start, clock=clock, rule=rule, category=cls.category, level=cls.level,
                                  tier=self._vip_tier())
        return await look_up_deadline(request, LABELS.get(name, name))

    def _vip_tier(self) -> str | None:
        """The customer's tier for the clock lengths (a VIP's are shorter), on cases built with VIP_SERVICE."""
        return self._filing.intake.complainant.tier if self._patches.has(VIP_SERVICE) else None

    async def _clock_warning(self, clock: Clock, warning: ClockWarning) -> None:
        """A running clock reached a warning instant (issue #16): the owner of the next step (the
        policy's role in the unit that owes it) is told once, and the dashboard shows it due soon."""
        self._watcher.reset()
        percent = round(warning.fraction * 100)
        detail: dict[str, Any] = {"clock": clock.name, "fraction": warning.fraction, "at_local": warning.at_local,
                                  "due_local": clock.due_local}
        if warning.told:
            round_or_due = clock.due.strftime("%Y%m%dT%H%M%S") if clock.kind is ClockKind.PROGRESS else self._handling_round
            role = Role(warning.notify)
            # Moot once the clock no longer runs on: met, missed (its own notice goes), or replaced.
            moot = lambda: (self._end_of_notices() or (None if self._clocks.get(clock.name) is clock and clock.pending  # noqa: E731
                                                      else f"{clock.name} no longer due"))
            self._notify_staff(role, clock.unit, f"{clock.name}-{round_or_due}-warning-{percent}",
                               f"Due soon: {clock.label}",
                               f"{percent} % of the {clock.label}'s time has run: it is due {clock.due_local}.",
                               quiet_hours=("warning", moot))
            detail["notified"] = f"{role.value} of {clock.unit}"
        await self._commit(self._change(ComplaintAction.CLOCK_WARNING, SYSTEM_ACTOR, detail, clocks=True))

    def _misses_before_a_step(self) -> None:
        """MISSES_BEFORE_STEPS: each running clock already past due is missed now, in due order, its
        row written ahead of the step's (seq order) while the step goes on; the watcher, woken by
        the same task's timer, finds it missed already."""
        if MISSES_BEFORE_STEPS not in self._filing.built_with or self._closed() or self._pausing:
            return  # the watcher has stepped aside: a step now takes the clocks as they are
        now = workflow.now()
        for clock in sorted((c for c in self._clocks.values() if c.running and c.due < now), key=lambda c: c.due):
            change = self._missed(clock)
            self._keep_notice(asyncio.create_task(self._record_miss(clock, change)))

    async def _clock_due(self, clock: Clock) -> None:
        if MISSES_BEFORE_STEPS in self._filing.built_with and not clock.running:
            return  # a step in this task found it missed (or paused it) before the timer came
        if clock.kind is ClockKind.PROGRESS and not self._patches.has(PROGRESS_OWED_BY_PERSON):
            await self._send_progress_update()
            return
        await self._record_miss(clock, self._missed(clock))

    async def _record_miss(self, clock: Clock, change: ComplaintChange) -> None:
        if clock.kind is ClockKind.PROGRESS:
            await self._progress_missed(change)
            return
        await self._commit(change)

    def _missed(self, clock: Clock) -> ComplaintChange:
        """The clock is missed now: counted, told (the level above, the VIP desk), and its change."""
        clock.overdue_at = workflow.now()
        self._watcher.reset()
        detail: dict[str, Any] = {"clock": clock.name, "due": clock.due.isoformat(), "due_local": clock.due_local}
        action = ComplaintAction.CLOCK_OVERDUE
        if self._uses_customer_clocks():
            occasion = f"{clock.name}-{self._handling_round}-overdue"
            level_above = False
            if clock.kind is ClockKind.ACTION:
                # A late action: the supervisor of the action's department hears of it.
                action = ComplaintAction.ACTION_OVERDUE
                number = action_number(clock.name)
                self._plan[number - 1].overdue_at = clock.overdue_at
                detail["number"] = number
                subject, text = f"Planned action {number} overdue", f"{clock.label} was due {clock.due_local}"
            else:
                # A missed customer clock: the level above the unit that owed it hears of it
                # ("timeout warning", seed 002; DOMAIN §6), and it counts.
                self._missed_clocks += 1
                level_above = True
                subject = f"Customer clock missed: {clock.label}"
                text = f"The {clock.label} promised to the customer was due {clock.due_local}."
                if clock.kind is ClockKind.PROGRESS:  # owed every interval: one notice per interval
                    occasion = f"{clock.name}-{clock.due:%Y%m%dT%H%M%S}-overdue"
            # A miss counts whatever comes after it: only the complaint's ending makes its notice moot.
            self._notify_staff(Role.SUPERVISOR, clock.unit, occasion, subject, text, level_above=level_above,
                               quiet_hours=("overdue", self._end_of_notices))
            detail["notified"] = f"supervisor {'above' if level_above else 'of'} {clock.unit}"
            if level_above and (vip := self._filing.vip) is not None and self._patches.has(VIP_SERVICE):
                # A VIP's missed promise: the VIP desk hears of it too (差异化服务).
                self._notify_staff(Role.SUPERVISOR, vip.desk, occasion, f"VIP {subject}",
                                   f"VIP complaint {self._filing.complaint_id}: {text}",
                                   quiet_hours=("overdue", self._end_of_notices))
                detail["notified"] += f" and of the VIP desk {vip.desk}"
        return self._change(action, SYSTEM_ACTOR, detail, clocks=True, plan=clock.kind is ClockKind.ACTION)

    async def _progress_missed(self, missed: ComplaintChange) -> None:
        """A person owed the customer an update and none came (DOMAIN §11): the miss is recorded,
        the automatic text goes out beside it when the filing asks for one, never instead, and the
        next update is owed an interval later."""
        changes = [missed]
        if self._filing.automatic_progress_text:
            changes.append(self._automatic_progress_text())
        restarted, _ = await self._start_clock(PROGRESS, workflow.now(), kind=ClockKind.PROGRESS)
        changes[-1] = _with_detail(changes[-1], {"next_update_due_local": restarted.due_local}, self._clock_list())
        await workflow.wait_condition(lambda: self._opened)
        await self._record(changes)
        self._refresh_details()

    async def _send_progress_update(self) -> None:
        """Before PROGRESS_OWED_BY_PERSON: no update was sent in this interval, so the customer got
        one automatically instead (a case started before it runs on so)."""
        change = self._automatic_progress_text()
        restarted, _ = await self._start_clock(PROGRESS, workflow.now(), kind=ClockKind.PROGRESS)
        await self._commit(_with_detail(change, {"next_update_due_local": restarted.due_local}, self._clock_list()))

    def _automatic_progress_text(self) -> ComplaintChange:
        """The automatic "still being handled" text to the customer, and its timeline entry."""
        self._progress_updates += 1
        number = self._progress_updates
        cls = self._filing.classification
        self._notify_customer(
            f"progress-{number}", "Progress on your complaint",
            f"Your complaint {self._filing.complaint_id} ({cls.category.replace('_', ' ')}) is being handled."
            " We will keep you informed.",
        )
        return self._change(ComplaintAction.SEND_PROGRESS_UPDATE, SYSTEM_ACTOR, {"number": number}, clocks=True)

    def _notify_customer(self, occasion: str, subject: str, text: str) -> None:
        complainant = self._filing.intake.complainant
        customer = RoleHolder(id=f"customer-{self._filing.complaint_id}", name=complainant.name,
                              role=Role.CUSTOMER, unit=self._filing.lead_unit, phone=complainant.phone)
        self._notify(NotifyRequest(case_id=self._filing.complaint_id, step=occasion, recipient=customer,
                                   channels=[Channel.SMS], subject=subject, text=text), f"text the customer: {occasion}")

    def _notify_staff(self, role: Role, unit: str, occasion: str, subject: str, text: str, *,
                      level_above: bool = False, quiet_hours: tuple[str, Callable[[], str | None]] | None = None) -> None:
        """Tell the holders of `role` in `unit` (or, `level_above`, in the unit above it; a unit with
        nobody in the role passes the notice up the chart). `quiet_hours`: the notice's kind, which
        the policy may hold to the addressed unit's working hours, and what makes it moot meanwhile."""
        extra = {"level_above": True} if level_above else {}
        request = NotifyRequest(case_id=self._filing.complaint_id, step=occasion, role=role, unit=unit,
                                subject=f"[{self._filing.complaint_id}] {subject}", text=text, **extra)
        summary = f"notify {role.value} {'above' if level_above else 'of'} {unit}: {occasion}"
        if quiet_hours is not None and self._patches.has(QUIET_HOURS):
            self._keep_notice(asyncio.create_task(self._after_quiet_hours(*quiet_hours, request, summary)))
            return
        self._notify(request, summary)

    async def _after_quiet_hours(self, kind: str, moot: Callable[[], str | None], request: NotifyRequest,
                                 summary: str) -> None:
        cls = self._filing.classification
        assert request.role is not None and request.unit is not None, "a staff notice names its role and unit"
        hold = NoticeHoldRequest(kind=kind, unit=request.unit, at=workflow.now(), urgent=cls.urgency is Urgency.URGENT,
                                 level=cls.level, level_above=request.level_above)

        async def record(action: str, detail: dict[str, Any]) -> None:
            await self._commit(self._change(ComplaintAction(action), SYSTEM_ACTOR, detail))

        self._held_notices += 1
        try:
            await send_after_quiet_hours(hold, request, summary, self._send, moot=moot, record=record,
                                         to={"notify": Role(request.role).value, "unit": request.unit})
        finally:
            self._held_notices -= 1

    def _end_of_notices(self) -> str | None:
        """Why a held notice of this complaint is moot whatever it is about: the complaint closed or merged."""
        return None if self._status in OPEN_STATUSES else f"complaint {self._status.value}"

    def _notify(self, request: NotifyRequest, summary: str) -> None:
        self._keep_notice(self._send(request, summary))

    @property
    def _send(self) -> Send:
        return notify_in_task if COMPLAINT_NOTICES_IN_TASK in self._filing.built_with else notify_beside

    def _keep_notice(self, task: asyncio.Task[Any]) -> None:
        """A notice (or a miss a step found) in flight: the workflow ends (or continues as new) only once it is done."""
        self._notices = [n for n in self._notices if not n.done()]
        self._notices.append(task)

    def _notices_done(self) -> bool:
        return all(n.done() for n in self._notices)

    async def _open_judgement(self) -> None:
        """结案 → 判责单: the judgement runs on its own (ABANDON), outliving this workflow by weeks."""
        if self._merged_into is not None:
            return  # closed with its target, whose judgement weighs this one's answers too
        answered = [v for v in self._finished_dispatches if v.status is DispatchStatus.ANSWERED]
        if not any(v.kind is DispatchKind.TICKET for v in answered):
            return
        if not built_in(JUDGEMENT_AT_CLOSING, self._filing.built_with):
            return
        opening = JudgementOpening(
            complaint_id=self._filing.complaint_id, lead_unit=self._filing.lead_unit,
            category=self._filing.classification.category, opened_at=self._closed_at or workflow.now(),
            findings=[DispatchFinding(dispatch_id=v.dispatch_id, kind=v.kind, unit=v.unit, finding=v.finding,
                                      failing_link=v.failing_link) for v in answered],
            built_with=list(JUDGEMENT_PATCHES),  # started on today's code
        )
        await workflow.start_child_workflow(
            JudgementWorkflow.run, opening, id=judgement_workflow_id(opening.complaint_id),
            parent_close_policy=ParentClosePolicy.ABANDON, static_summary=judgement_summary(opening),
            search_attributes=case_of(opening.complaint_id),
        )

    # -- a fresh history for a long case -------------------------------------------------------

    def _fresh_history_due(self) -> bool:
        # Only between dispatches (children do not carry over), and only for this version's cases.
        return (
            self._customer_clocks is True
            and not self._open_dispatches
            and not self._held_notices  # its timer would stop the clocks' watch until it fires
            and workflow.info().get_current_history_length()
            >= (self._filing.continue_as_new_after_events or CONTINUE_AS_NEW_AFTER_EVENTS)
        )

    def _carry_over(self) -> ComplaintCarryOver:
        return ComplaintCarryOver(
            status=self._status, seq=self._seq, handling_round=self._handling_round,
            one_time_resolution=self._one_time_resolution, clocks=self._clock_list(),
            missed_clocks=self._missed_clocks, progress_updates=self._progress_updates,
            dispatches_raised=self._dispatches_raised, finished_dispatches=self._finished_dispatches,
            complex_case=self._complex, meeting_recorded=self._meeting_recorded, plan=self._plan,
            callback_surveys=list(self._surveys.values()),
            linked_duplicates=self._linked_duplicates, runs=self._runs + 1, owner=self._owner,
            merged_into=self._merged_into, status_before_merge=self._status_before_merge,
            held_clocks=self._held_clocks, merged_cases=self._merged_cases, clock_pause=self._clock_pause,
            answered_dispatches=[*self._answered_of_earlier_runs,
                                 *(d for d, child in self._dispatch_handles.items() if not child.done())],
        )

    def _resume(self, carried: ComplaintCarryOver) -> None:
        self._status, self._seq = carried.status, carried.seq
        self._handling_round, self._one_time_resolution = carried.handling_round, carried.one_time_resolution
        self._clocks = {c.name: c for c in carried.clocks}
        self._watcher.reset()
        self._missed_clocks, self._progress_updates = carried.missed_clocks, carried.progress_updates
        self._dispatches_raised = carried.dispatches_raised
        self._finished_dispatches = list(carried.finished_dispatches)
        self._complex, self._meeting_recorded = carried.complex_case, carried.meeting_recorded
        self._plan = list(carried.plan)
        self._linked_duplicates = list(carried.linked_duplicates)
        self._surveys = {s.link_id: s for s in carried.callback_surveys}
        self._runs = carried.runs
        self._merged_into, self._status_before_merge = carried.merged_into, carried.status_before_merge
        self._held_clocks, self._merged_cases = list(carried.held_clocks), dict(carried.merged_cases)
        self._owner = carried.owner
        self._clock_pause = carried.clock_pause
        self._answered_of_earlier_runs = list(carried.answered_dispatches)
        self._written_seq = carried.seq  # everything before the new run was written by the last one
        self._customer_clocks = True  # only cases on this version continue as new

    def _refresh_details(self) -> None:
        clocks = "\n".join(
            f"- {c.label}: due {c.due_local}"
            + (" · met" if c.met_at else " · OVERDUE" if c.overdue_at else " · paused" if c.paused_at else " · running")
            for c in self._clocks.values()
        )
        flags = (" · complex case" if self._complex else "") + (f" · run {self._runs + 1}" if self._runs else "")
        if self._surveys:  # the call-back asked for by text (DOMAIN §5)
            flags += " · survey link awaiting the customer's answer until " + ", ".join(
                f"{link.expires_at:%Y-%m-%d %H:%M} UTC" for link in self._surveys.values())
        if self._merged_into is not None:
            flags += f" · merged into {self._merged_into} (clocks stopped)"
        if self._merged_cases:
            flags += f" · merged into it: {', '.join(self._merged_cases)}"
        if self._owner is not None:  # the seat's id, never a customer's data (交接班)
            flags += f" · owned by seat {self._owner.id} of {self._owner.unit}"
        if (pause := self._clock_pause) is not None:  # waiting on the customer or a third party
            flags += f" · customer clocks paused ({pause.reason}) until {pause.ends_by_local or 'its end is looked up'}"
        workflow.set_current_details(
            f"**Status: {self._status.value}** · handling round {self._handling_round}"
            f" · one-time resolution {'yes' if self._one_time_resolution else 'no'} · {self._seq} changes"
            f" · {self._missed_clocks} customer clocks missed{flags}\n\n{clocks}"
        )


def _with_detail(change: ComplaintChange, extra: dict[str, Any], clocks: list[Clock]) -> ComplaintChange:
    entry = change.entry.model_copy(update={"detail": {**change.entry.detail, **extra}})
    return change.model_copy(update={"entry": entry, "clocks": clocks})


def _callback_action(req: RecordCallback) -> ComplaintAction:
    if req.satisfied:
        return ComplaintAction.RECORD_SATISFIED_CALLBACK
    return ComplaintAction.RECORD_DISSATISFIED_CALLBACK
