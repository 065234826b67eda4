"""DispatchWorkflow (调度 / 工单): one order to one unit, with its own clock and escalation ladder.

A child of ComplaintWorkflow with id ``dispatch-<complaint id>-<n>``. Reads like DOMAIN §4/§6:
(urgent ticket: the urgent-item group reviews it first) → the clock runs on the acting unit's
calendar → replies are checked (returned ones keep the clock running) → an accepted reply or a
redispatch request stops the clock and the complaint hears of it at once, by signal → unanswered at
the due instant, the ladder is climbed step by step, and an answer at any step stops it. An accepted
answer stays open to the reviewing office's return by hand (退回) until the complaint ends; a
return puts the dispatch back to work on the clock it had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from notifications.messages import NotifyRequest
    from rules.actors import Actor
    from rules.calendar import WorkingHoursRule
    from rules.dispatch import DispatchKind, DispatchStatus, TicketPriority
    from rules.escalation import LadderStep
    from rules.reply_checks import check_reply, ReplyOutcome
    from workflows.notices import notify_beside, notify_in_task, send_after_quiet_hours
    from workflows.pauses import (ClockPause, PauseClocks, ResumeClocks, pause_end, paused_detail, resumed_deadlines,
                                  resumed_detail)
    from rules.pauses import dispatch_pause_refusal
    from workflows.options import CALENDAR_LOOKUP, READ_MODEL_WRITE
    from workflows.case import SYSTEM_ACTOR, CaseSearch, Patches, built_in, refuse
    from workflows.clocks import ClockWarning, done_or_due
    from workflows.deadlines import (
        COMPUTE_DEADLINE_CHAIN_ACTIVITY,
        WORKING_MINUTES_ACTIVITY,
        Deadline,
        DeadlineChainRequest,
        DeadlineRequest,
        FollowingDeadline,
        NoticeHoldRequest,
        PausedInstant,
        WorkingTimeRequest,
        look_up_deadline,
    )
    from workflows.dispatch_messages import (
        RECORD_DISPATCH_CHANGES_ACTIVITY,
        DispatchChange,
        DispatchEvent,
        DispatchOrder,
        DispatchResult,
        DispatchView,
        ReplyAnswer,
        ReplyToDispatch,
        ReturnReply,
        ReviewUrgentTicket,
        opening_change,
    )

S = DispatchStatus

# Patch: the due instant and the ladder's answer-by instants come from one calendar look-up when
# the clock starts, each step owed from the instant the one before ran out; the overdue path (the
# 10:00 check-window peak) then runs no look-up in front of its notices.
LADDER_AT_CLOCK_START = "ladder-at-clock-start"
# Patch: notices go out in the workflow task that decides them (workflows.notices.notify_in_task).
NOTICES_IN_TASK = "notices-in-task"
# Patch: an answer or a redispatch request reaches the complaint at once, before the notices are
# awaited; an accepted answer stays open to a return by hand until the complaint ends (its
# cancellation keeps the answer); a reply waits for the clock it is measured against.
REVIEWABLE_ANSWERS = "reviewable-answers"
# Patch: the last rung's answer-by instant passing is recorded (`ladder_exhausted`).
LADDER_END_RECORDED = "ladder-end-recorded"
# Patch: before the due instant, at each of the policy's warning fractions of the clock, the unit
# that must act is told once (issue #16).
DISPATCH_WARNINGS = "dispatch-warnings"
# Patch: a warning, a rung or an overdue notice outside the addressed unit's working hours is held
# to its next opening (a durable timer) unless the case is urgent or level 1, and dropped, recorded,
# if the dispatch was answered meanwhile (issue #16).
QUIET_HOURS = "quiet-hours"
# What a dispatch raised today is built with (DispatchOrder.built_with).
# Patch: the addressed unit pauses the clock before it is due while it waits on the customer or a
# third party (rules/pauses.py); resumed, the due instant, its warnings and its ladder move on.
CLOCK_PAUSE = "clock-pause"
DISPATCH_PATCHES = (LADDER_AT_CLOCK_START, NOTICES_IN_TASK, REVIEWABLE_ANSWERS, LADDER_END_RECORDED,
                    DISPATCH_WARNINGS, QUIET_HOURS, CLOCK_PAUSE)
ANSWERED = (S.ANSWERED, S.REDISPATCHED)


@workflow.defn
class DispatchWorkflow:
    @workflow.init
    def __init__(self, order: DispatchOrder) -> None:
        self._order = order
        self._view = opening_change(order, order.raised_at).view
        self._ladder = order.ladder  # a downgraded urgent ticket climbs the normal ladder instead
        self._seq = 0
        self._opened = False
        self._redispatch = False
        self._notices: list[asyncio.Task[Any]] = []
        self._ladder_due: list[Deadline] | None = None  # the ladder's answer-by instants, if known ahead
        self._ladder_exhausted = False
        self._warnings: list[ClockWarning] = []  # the clock's warning instants (DISPATCH_WARNINGS)
        self._pause: ClockPause | None = None  # the clock's pause in force (rules/pauses.py)
        self._resuming = False  # a resumption is moving the clock
        self._patches = Patches(order.built_with)
        self._told: list[asyncio.Task[None]] = []  # signals to the complaint, in flight or sent
        self._told_status: S | None = None  # the status the complaint last heard of

    @workflow.run
    async def run(self, order: DispatchOrder) -> DispatchResult:
        self._seq = 1  # the opening change, the one the complaint wrote before handing out the id
        await self._record(opening_change(order, workflow.now()))
        self._opened = True
        try:
            if self._view.status is S.AWAITING_REVIEW:
                await self._urgent_review()
            await self._start_clock()
            await self._wait_for_answer()
            if self._patches.has(REVIEWABLE_ANSWERS):
                await self._answered_and_reviewable()
        except asyncio.CancelledError:
            if self._view.status in ANSWERED and self._patches.has(REVIEWABLE_ANSWERS):
                pass  # the complaint ended after the answer: the answer stands, and is the result
            else:
                # The complaint was closed or cancelled: this dispatch ends with it.
                before = self._view.status
                self._view.status = S.CANCELLED
                await self._record(self._event("cancel", SYSTEM_ACTOR, before, {}))
                raise
        if not self._patches.has(REVIEWABLE_ANSWERS):  # started before it: notices first, then the complaint
            await workflow.wait_condition(workflow.all_handlers_finished)
            await asyncio.gather(*self._notices, return_exceptions=True)
            result = DispatchResult(dispatch=self._view, redispatch=self._redispatch)
            await workflow.get_external_workflow_handle(order.parent_workflow_id).signal("dispatch_finished", result)
            return result
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._told_status is not self._view.status:
            self._tell_complaint()  # cancelled before the complaint heard of the answer
        # Notices and signals are waited for, never cancelled with the wait (wait_condition).
        await workflow.wait_condition(lambda: all(t.done() for t in [*self._notices, *self._told]))
        return DispatchResult(dispatch=self._view, redispatch=self._redispatch)

    async def _answered_and_reviewable(self) -> None:
        """The complaint hears of the answer at once (notices go on beside it). An accepted answer
        waits for a return by hand; returned, the dispatch works again on the clock it had."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)  # the answer recorded in full
            self._tell_complaint()
            if self._view.status is S.REDISPATCHED:
                return
            await workflow.wait_condition(lambda: self._view.status is S.OPEN)  # returned by hand
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._tell_complaint(reopened=True)
            await self._wait_for_answer()

    def _tell_complaint(self, reopened: bool = False) -> None:
        """Signal the complaint as a task of its own, so a cancellation cannot take the signal with it."""
        result = DispatchResult(dispatch=self._view.model_copy(), redispatch=self._redispatch, reopened=reopened)
        self._told_status = self._view.status
        parent = workflow.get_external_workflow_handle(self._order.parent_workflow_id)

        async def signal() -> None:
            try:
                await parent.signal("dispatch_finished", result)
            except FailureError as err:  # the complaint has ended; its closing read our result
                workflow.logger.warning("complaint not told of %s: %s", self._order.dispatch_id, err)

        self._told.append(asyncio.create_task(signal()))

    # -- urgent review ------------------------------------------------------------------------

    async def _urgent_review(self) -> None:
        order = self._order
        review = await look_up_deadline(DeadlineRequest(unit=order.review_unit or order.unit, start=order.raised_at,
                                                         clock="urgent_review"))
        reviewed = lambda: self._view.status is not S.AWAITING_REVIEW  # noqa: E731
        if not await done_or_due(reviewed, review.due, f"urgent review due {review.due_local}"):
            if order.review_overdue_notice is not None:
                self._notify(order.review_overdue_notice, "urgent-review-overdue",
                             "Urgent ticket not reviewed in time", f"review was due {review.due_local}")
            await workflow.wait_condition(reviewed)

    @workflow.update
    async def review(self, req: ReviewUrgentTicket) -> DispatchView:
        self._check_review()
        before = self._view.status
        self._view.status = S.OPEN
        if req.confirm:
            action = "confirm_urgent"
            if self._order.confirm_notice is not None:
                self._notify(self._order.confirm_notice, "urgent-confirmed", "Urgent ticket dispatched to you",
                             self._order.instruction)
        else:
            action = "downgrade"
            self._view.priority = TicketPriority.NORMAL
            if self._order.downgrade_ladder is not None:  # a normal ticket in every respect, ladder included
                self._ladder = self._order.downgrade_ladder
        await self._commit(self._event(action, req.actor, before, {"reason": req.reason}))
        return self._view

    @review.validator
    def _validate_review(self, req: ReviewUrgentTicket) -> None:
        self._check_review()

    def _check_review(self) -> None:
        if self._view.status is not S.AWAITING_REVIEW:
            refuse(f"the ticket is {self._view.status.value}, not awaiting review", self._view.status.value)

    # -- the clock and the ladder --------------------------------------------------------------

    async def _start_clock(self) -> None:
        order = self._order
        first = DeadlineRequest(unit=order.unit, start=workflow.now(), clock=order.kind.value)
        if built_in(LADDER_AT_CLOCK_START, self._order.built_with):
            chain = DeadlineChainRequest(first=first, then=self._rungs())
            deadline, *self._ladder_due = await workflow.execute_local_activity(
                COMPUTE_DEADLINE_CHAIN_ACTIVITY, chain, result_type=list[Deadline],
                summary=f"due and escalation instants on {order.unit}'s calendar", **CALENDAR_LOOKUP,
            )
        else:
            deadline = await look_up_deadline(first)
        self._view.due, self._view.due_local = deadline.due, deadline.due_local
        if deadline.warnings and self._patches.has(DISPATCH_WARNINGS):
            self._warnings = [w.model_copy() for w in deadline.warnings]
            self._view.warn_at, self._view.warn_at_local = self._warnings[0].at, self._warnings[0].at_local
        detail: dict[str, Any] = {"due": deadline.due.isoformat(), "due_local": deadline.due_local,
                                  "calendar_version": deadline.calendar_version}
        if self._ladder_due is not None:
            detail["escalations"] = self._escalations()
        await self._commit(self._event("start_clock", SYSTEM_ACTOR, self._view.status, detail))

    async def _wait_for_answer(self) -> None:
        """Wait for the answer on the clock, climbing the ladder once it is due. A dispatch whose
        answer was returned by hand comes back here on the clock it had: the rungs already climbed
        are not climbed again, the one it was on runs to its own answer-by."""
        ended = lambda: self._view.status is not S.OPEN  # noqa: E731
        label = "reply" if self._order.kind is not DispatchKind.TICKET else "ticket reply"
        assert self._view.due is not None
        reached = self._view.escalation_level  # 0 unless an answer was returned after escalating
        interrupted = lambda: ended() or self._pause is not None  # noqa: E731
        while reached == 0:
            if not (await self._warn(interrupted)
                    or await done_or_due(interrupted, self._view.due, f"{label} due {self._view.due_local}")):
                break  # due: the ladder
            if ended():
                return
            await self._paused_until_resumed(ended)  # then on the moved clock
            if ended():
                return
        for level, step in enumerate(self._ladder, start=1):
            if level < reached or self._ladder_exhausted:
                continue
            if level > reached:
                self._view.escalation_level = level
                workflow.upsert_search_attributes([CaseSearch.ESCALATION_LEVEL.value_set(level)])
                self._notify(step, f"escalation-{level}-{step.role}",
                             f"Overdue {self._order.kind.value.replace('_', ' ')}: answer needed",
                             f"{self._order.instruction} (was due {self._view.due_local}, escalation level {level})",
                             kind="escalation" if self._order.kind is DispatchKind.TICKET else "overdue")
            if self._ladder_due is not None:
                step_deadline = self._ladder_due[level - 1]
            else:  # a dispatch started before LADDER_AT_CLOCK_START: from the step's own instant
                step_deadline = await look_up_deadline(DeadlineRequest(
                    unit=step.unit, start=workflow.now(), rule=WorkingHoursRule(hours=_hours(step))))
            if level > reached:
                await self._commit(self._event("escalate", SYSTEM_ACTOR, self._view.status,
                                               {"level": level, "notify": step.role, "unit": step.unit,
                                                "answer_by": step_deadline.due_local}))
            summary = f"escalate to {_next_role(self._ladder, level)} at {step_deadline.due_local}"
            if await done_or_due(ended, step_deadline.due, summary):
                return
            if level == len(self._ladder) and self._patches.has(LADDER_END_RECORDED):
                # The last rung's answer-by has passed too (head office's hour, the director's 2 h).
                self._ladder_exhausted = True
                await self._commit(self._event("ladder_exhausted", SYSTEM_ACTOR, self._view.status,
                                               {"level": level, "notify": step.role, "unit": step.unit,
                                                "answer_by": step_deadline.due_local}))
        await workflow.wait_condition(ended)  # the ladder is exhausted: still waiting for the answer

    async def _warn(self, ended: Callable[[], bool]) -> bool:
        """Each warning instant before the due instant (issue #16): the unit that must act is told
        once. True if the dispatch was answered meanwhile."""
        for warning in self._warnings:
            if warning.warned_at is not None:
                continue  # a returned answer came back here: told already
            if await done_or_due(ended, warning.at, f"warn {self._order.unit} at {warning.at_local}"):
                return True
            assert self._view.due is not None
            warning.warned_at = workflow.now()
            warning.told = self._view.due > warning.warned_at
            if not warning.told:
                continue
            percent = round(warning.fraction * 100)
            self._notify(LadderStep(role=warning.notify, unit=self._order.unit), f"warning-{percent}",
                         f"Due soon: {self._order.kind.value.replace('_', ' ')}",
                         f"{self._order.instruction} ({percent} % of its time has run: due {self._view.due_local})",
                         kind="warning")
            await self._commit(self._event("warning", SYSTEM_ACTOR, self._view.status,
                                           {"fraction": warning.fraction, "notify": warning.notify,
                                            "unit": self._order.unit, "due_local": self._view.due_local}))
        return False

    # -- replies -------------------------------------------------------------------------------

    @workflow.update
    async def reply(self, req: ReplyToDispatch) -> ReplyAnswer:
        self._check_open()
        if self._patches.has(REVIEWABLE_ANSWERS) and self._view.due is None:
            # Answered the moment its id was handed out: measured against the clock it starts with.
            await workflow.wait_condition(lambda: self._view.due is not None)
            self._check_open()
        verdict = check_reply(req.reply, self._order.reply_checks)
        if verdict.outcome is not ReplyOutcome.RETURNED and self._pause is not None:
            # An answer ends the pause: the clock moves on first, so the answer is measured (in time,
            # late minutes, the measures) against the due instant the pause moved.
            await self._end_pause(req.actor, by_itself=False, note="ended by the answer")
            self._check_open()
        before = self._view.status
        now = workflow.now()
        detail: dict[str, Any] = {"finding": req.reply.finding, "failing_link": req.reply.failing_link,
                                  "evidence": [e.model_dump(mode="json") for e in req.reply.evidence],
                                  "outcome": verdict.outcome.value, "reason": verdict.reason}
        if verdict.outcome is ReplyOutcome.RETURNED:
            self._view.returns += 1  # counted; the clock keeps running
            await self._commit(self._event("return_reply", req.actor, before, detail))
            return ReplyAnswer(outcome=verdict.outcome, reason=verdict.reason, dispatch=self._view)
        # Accepted or redispatch: the dispatch ends now; measure how late, in working minutes.
        self._view.status = S.ANSWERED if verdict.outcome is ReplyOutcome.ACCEPTED else S.REDISPATCHED
        self._redispatch = verdict.outcome is ReplyOutcome.REDISPATCH
        self._view.answered_at = now
        self._view.finding, self._view.failing_link = req.reply.finding, req.reply.failing_link
        due = self._view.due
        self._view.in_time = due is not None and now <= due
        self._view.late_working_minutes = 0 if self._view.in_time or due is None else await self._working_minutes(due, now)
        action = "answer" if not self._redispatch else "request_redispatch"
        await self._commit(self._event(action, req.actor, before, detail))
        return ReplyAnswer(outcome=verdict.outcome, reason=verdict.reason, dispatch=self._view)

    @reply.validator
    def _validate_reply(self, req: ReplyToDispatch) -> None:
        self._check_open()

    def _check_open(self) -> None:
        if self._view.status is not S.OPEN:
            refuse(f"the dispatch is {self._view.status.value}; it takes replies only while open", self._view.status.value)

    @workflow.update
    async def return_reply(self, req: ReturnReply) -> DispatchView:
        """The reviewing office returns an accepted answer by hand (退回, DOMAIN §4): it counts as a
        return, the clock it had runs on, and the dispatch takes replies again."""
        self._check_returnable()
        before = self._view.status
        detail = {"by_hand": True, "reason": req.reason, "outcome": ReplyOutcome.RETURNED.value,
                  "finding": self._view.finding, "failing_link": self._view.failing_link}
        self._view.status = S.OPEN
        self._view.returns += 1
        self._view.answered_at = self._view.in_time = self._view.late_working_minutes = None
        self._view.finding = self._view.failing_link = None
        await self._commit(self._event("return_reply", req.actor, before, detail))
        return self._view

    @return_reply.validator
    def _validate_return_reply(self, req: ReturnReply) -> None:
        self._check_returnable()

    def _check_returnable(self) -> None:
        if self._view.status is not S.ANSWERED or not self._patches.known(REVIEWABLE_ANSWERS):
            refuse(f"the dispatch is {self._view.status.value}; only an accepted answer can be returned",
                   self._view.status.value)

    # -- clock pause (rules/pauses.py) ---------------------------------------------------------

    @workflow.update
    async def pause_clock(self, req: PauseClocks) -> DispatchView:
        """The unit waits on the customer or a third party: the clock stops (no timer, no warning,
        no rung) until resumed by hand, or by itself at the reason's maximum."""
        self._check_pausable()
        self._patches.has(CLOCK_PAUSE)
        self._pause = pause = ClockPause(reason=req.reason, note=req.note, paused_by=req.actor,
                                         paused_at=workflow.now(), max_working_hours=req.max_working_hours)
        ends = await pause_end(pause, self._order.unit)
        pause.ends_by, pause.ends_by_local = ends.due, ends.due_local
        self._view.paused_at, self._view.pause_reason = pause.paused_at, pause.reason
        self._view.pause_ends_by, self._view.pause_ends_by_local = ends.due, ends.due_local
        await self._commit(self._event("pause_clock", req.actor, self._view.status,
                                       paused_detail(pause, due_local=self._view.due_local)))
        return self._view

    @pause_clock.validator
    def _validate_pause_clock(self, req: PauseClocks) -> None:
        self._check_pausable()

    @workflow.update
    async def resume_clock(self, req: ResumeClocks) -> DispatchView:
        self._check_resumable()
        await self._end_pause(req.actor, by_itself=False, note=req.note)
        return self._view

    @resume_clock.validator
    def _validate_resume_clock(self, req: ResumeClocks) -> None:
        self._check_resumable()

    def _check_pausable(self) -> None:
        if reason := dispatch_pause_refusal(self._view.status.value, self._view.due, workflow.now(),
                                            self._view.escalation_level, self._pause is not None or self._resuming):
            refuse(reason, self._view.status.value)

    def _check_resumable(self) -> None:
        if self._pause is None:
            refuse("the dispatch's clock is not paused", self._view.status.value)

    async def _paused_until_resumed(self, ended: Callable[[], bool]) -> None:
        """While paused: one timer at the pause's maximum, where it ends by itself; then the
        resumption's look-up has moved the clock."""
        pause = self._pause
        resumed = lambda: ended() or self._pause is not pause  # noqa: E731
        await workflow.wait_condition(lambda: resumed() or (pause is not None and pause.ends_by is not None))
        if pause is not None and pause.ends_by is not None and not resumed():
            summary = f"pause ({pause.reason}) ends by {pause.ends_by_local}"
            if not await done_or_due(resumed, pause.ends_by, summary):
                await self._end_pause(SYSTEM_ACTOR, by_itself=True, note=None)
        await workflow.wait_condition(lambda: ended() or not self._resuming)

    async def _end_pause(self, actor: Actor, *, by_itself: bool, note: str | None) -> None:
        """The due instant owes the working time it had left, from now, on the unit's calendar; the
        warnings not reached and every rung of the ladder move with it (each counted from the one
        before, as at the clock's start). Ended by itself: whoever paused is told."""
        pause, self._pause, self._resuming = self._pause, None, True  # at once: a second resume is refused
        assert pause is not None and self._view.due is not None
        warnings = [w for w in self._warnings if w.warned_at is None]
        instants = [PausedInstant(unit=self._order.unit, at=self._view.due),
                    *(PausedInstant(unit=self._order.unit, at=w.at) for w in warnings)]
        was_due = self._view.due_local
        moved = await resumed_deadlines(pause, instants, self._rungs() if self._ladder_due is not None else [])
        self._view.due, self._view.due_local = moved[0].due, moved[0].due_local
        for warning, deadline in zip(warnings, moved[1:]):
            warning.at, warning.at_local = deadline.due, deadline.due_local
        if warnings:
            self._view.warn_at, self._view.warn_at_local = warnings[0].at, warnings[0].at_local
        if self._ladder_due is not None:
            self._ladder_due = moved[1 + len(warnings):]
        self._view.paused_at = self._view.pause_reason = self._view.pause_ends_by = None
        self._view.pause_ends_by_local = None
        self._resuming = False
        if by_itself:
            self._notify(LadderStep(role=pause.paused_by.role, unit=pause.paused_by.unit),
                         f"pause-{pause.paused_at:%Y%m%dT%H%M%S}-ended", "Clock pause ended by itself",
                         f"The pause ({pause.reason}) of {self._order.dispatch_id}'s clock reached its maximum of"
                         f" {pause.max_working_hours:g} working hours at {pause.ends_by_local}; it runs again:"
                         f" due {self._view.due_local}.")
        detail = resumed_detail(pause, by_itself, note, was_due_local=was_due, due=self._view.due.isoformat(),
                                due_local=self._view.due_local)
        if self._ladder_due is not None:
            detail["escalations"] = self._escalations()
        await self._commit(self._event("resume_clock", actor, self._view.status, detail))

    def _rungs(self) -> list[FollowingDeadline]:
        """The ladder's rungs as a deadline chain: each counted from the one before, on its unit's calendar."""
        return [FollowingDeadline(unit=step.unit, rule=WorkingHoursRule(hours=_hours(step))) for step in self._ladder]

    def _escalations(self) -> list[dict[str, Any]]:
        """The ladder's plan, as the timeline shows it (at the clock's start, and moved by a pause)."""
        assert self._ladder_due is not None
        return [{"level": level, "notify": step.role, "unit": step.unit, "answer_by": due.due_local}
                for level, (step, due) in enumerate(zip(self._ladder, self._ladder_due), start=1)]

    @workflow.query
    def view(self) -> DispatchView:
        return self._view

    # -- mechanics ----------------------------------------------------------------------------

    def _event(self, action: str, actor: Actor, before: S | None, detail: dict[str, Any]) -> DispatchChange:
        self._seq += 1
        return DispatchChange(
            workflow_id=self._order.dispatch_id,
            event=DispatchEvent(seq=self._seq, at=workflow.now(), actor=actor, action=action,
                                from_status=before, to_status=self._view.status, detail=detail),
            view=self._view.model_copy(),
        )

    async def _commit(self, change: DispatchChange) -> None:
        await workflow.wait_condition(lambda: self._opened)
        await self._record(change)

    async def _record(self, change: DispatchChange) -> None:
        await workflow.execute_local_activity(
            RECORD_DISPATCH_CHANGES_ACTIVITY, [change], summary=f"record {change.event.action}", **READ_MODEL_WRITE
        )

    async def _working_minutes(self, start: datetime, end: datetime) -> int:
        return await workflow.execute_local_activity(
            WORKING_MINUTES_ACTIVITY, WorkingTimeRequest(unit=self._order.unit, start=start, end=end),
            result_type=int, summary="lateness in working minutes", **CALENDAR_LOOKUP,
        )

    def _notify(self, step: LadderStep, occasion: str, subject: str, text: str, kind: str | None = None) -> None:
        """Send beside the clock: in this workflow task (a local activity), handed over to the notify
        activity's long retries if the gateway stays down, so an outage holds the ladder for only a
        few quick attempts and never loses a notice. A notice of a `kind` quiet hours may hold is
        sent once they end (issue #16)."""
        request = NotifyRequest(
            case_id=self._order.dispatch_id, step=occasion, role=step.role, unit=step.unit,
            subject=f"[{self._order.complaint_id}] {subject}", text=text,
        )
        summary = f"notify {step.role} of {step.unit}: {occasion}"
        # A dispatch started before NOTICES_IN_TASK schedules the notify activity, as it did then.
        send = notify_in_task if built_in(NOTICES_IN_TASK, self._order.built_with) else notify_beside
        if kind is not None and self._patches.has(QUIET_HOURS):
            self._notices.append(asyncio.create_task(self._after_quiet_hours(kind, step, request, summary, send)))
            return
        self._notices.append(send(request, summary))

    async def _after_quiet_hours(self, kind: str, step: LadderStep, request: NotifyRequest, summary: str,
                                 send: Callable[[NotifyRequest, str], asyncio.Task[None]]) -> None:
        """Held to the addressed unit's working hours (workflows/notices.py); an answer (or the
        complaint ending) meanwhile makes it moot."""
        hold = NoticeHoldRequest(kind=kind, unit=step.unit, at=workflow.now(),
                                 urgent=self._view.priority is TicketPriority.URGENT, level=self._order.level)

        async def record(action: str, detail: dict[str, Any]) -> None:
            await self._commit(self._event(action, SYSTEM_ACTOR, self._view.status, detail))

        await send_after_quiet_hours(
            hold, request, summary, send, to={"notify": step.role, "unit": step.unit}, record=record,
            moot=lambda: None if self._view.status is S.OPEN else f"dispatch {self._view.status.value}")


def _hours(step: LadderStep) -> float:
    assert step.wait_hours is not None, "a climbed ladder's steps have hours (rules/policy.py _ladder_hours)"
    return step.wait_hours


def _next_role(ladder: list[LadderStep], level: int) -> str:
    return ladder[level].role.replace("_", " ") if level < len(ladder) else "nobody further (ladder exhausted)"
