"""JudgementWorkflow (判责单): who is at fault for a closed complaint, appeal and arbitration.

Started by the complaint when a case with an answered ticket closes, id ``judgement-<complaint id>``,
with ParentClosePolicy.ABANDON: it outlives the complaint. Reads like DOMAIN §7: generated with a
proposal from the dispatch findings → the lead office edits and sends it → the responsible office
has 5 working days on its calendar (a reminder one working day before the end): accept, naming the
city branch, the failing link and the smallest unit, or appeal with all the evidence at once; no
answer makes it final as accepted → arbitration has 5 working days (late: head-office CS's head is
told): no fault cancels it; at fault makes the appeal invalid and the office gets a new 5 working
days to name the smallest unit. Every clock comes from the calendar activity, every policy answer
from the terms activity: the workflow never reads the policy.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from notifications.messages import NotifyRequest
    from rules.actors import Actor
    from rules.judgement import FINAL_STATUSES, AppealRights, JudgementNotice, JudgementStatus, missing_evidence
    from workflows.judgement_messages import (
        APPEAL_RIGHTS_ACTIVITY,
        APPEAL_RIGHTS_SUSPENDED,
        JUDGEMENT_TERMS_ACTIVITY,
        MISSING_EVIDENCE,
        RECORD_JUDGEMENT_CHANGES_ACTIVITY,
        UNKNOWN_FAULT_TYPE,
        UNKNOWN_PARTY,
        AppealJudgement,
        AppealRightsRequest,
        DecideAppeal,
        EditJudgementDraft,
        JudgementChange,
        JudgementEvent,
        JudgementOpening,
        JudgementTerms,
        JudgementView,
        NameFault,
        SendJudgement,
        judgement_workflow_id,
    )
    from workflows.options import CALENDAR_LOOKUP, READ_MODEL_WRITE
    from workflows.case import SYSTEM_ACTOR, CaseSearch, Patches, refuse
    from workflows.clocks import done_or_due
    from workflows.deadlines import Deadline, DeadlineRequest, look_up_deadline
    from workflows.notices import notify_beside, notify_in_task

S = JudgementStatus
ANSWERING = (S.AWAITING_RESPONSE, S.AWAITING_REFINEMENT)  # the responsible office's clock runs

# Patch: an appeal is judged at its arrival (workflow.now() before any await: its month, its
# arbitration clock), its right to appeal is looked up in an activity (not a local one), and one
# that arrived by the office's deadline holds the silence timer until it is done (before it, a
# slow look-up let the timer accept the judgement first, and the appeal got a 409).
APPEAL_AT_ARRIVAL = "appeal-at-arrival"
# Built in from birth only (read from built_with, no marker): the judgement's notices go out in the
# workflow task that decides them (workflows.notices.notify_in_task), as a dispatch's do: no
# activity task, and no workflow task of its own when it completes.
JUDGEMENT_NOTICES_IN_TASK = "judgement-notices-in-task"
# What a judgement opened today is built with (JudgementOpening.built_with).
JUDGEMENT_PATCHES = (APPEAL_AT_ARRIVAL, JUDGEMENT_NOTICES_IN_TASK)


@workflow.defn
class JudgementWorkflow:
    @workflow.init
    def __init__(self, opening: JudgementOpening) -> None:
        self._opening = opening
        self._view = JudgementView(
            judgement_id=judgement_workflow_id(opening.complaint_id), complaint_id=opening.complaint_id,
            status=S.DRAFT, lead_unit=opening.lead_unit, category=opening.category, opened_at=opening.opened_at,
            acting_unit=opening.lead_unit,
        )
        self._terms: JudgementTerms | None = None
        self._seq = 0
        self._clock_round = 0  # each office clock started: its reminder has a step of its own
        self._reminder_local: str | None = None
        self._searchable: dict[str, str] = {}
        self._notices: list[asyncio.Task[Any]] = []
        self._appeals_in_time = 0  # appeals that arrived by the deadline, their look-ups still running
        self._patches = Patches(opening.built_with)

    @workflow.run
    async def run(self, opening: JudgementOpening) -> JudgementView:
        terms = await workflow.execute_local_activity(
            JUDGEMENT_TERMS_ACTIVITY, opening, result_type=JudgementTerms,
            summary="propose the office and party from the findings", **CALENDAR_LOOKUP,
        )
        proposal = terms.proposal
        v = self._view
        v.responsible_office, v.party, v.at_fault_unit = proposal.responsible_office, proposal.party, proposal.at_fault_unit
        v.proposal_reason, v.fault_type = proposal.reason, proposal.fault_type
        await self._commit("generate", SYSTEM_ACTOR, None, {"proposal": proposal.model_dump(mode="json"),
                                                            "findings": len(opening.findings)})
        self._terms = terms  # from here on the agents may act
        while self._view.status not in FINAL_STATUSES:
            status = self._view.status
            if status is S.DRAFT:
                await workflow.wait_condition(lambda: self._view.status is not S.DRAFT)
            elif status in ANSWERING:
                await self._office_clock(status)
            else:
                await self._arbitration_clock()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(n.done() for n in self._notices))
        return self._view

    # -- the clocks ---------------------------------------------------------------------------

    async def _office_clock(self, status: S) -> None:
        """The responsible office answers by the end of its clock; a reminder goes out a working day before."""
        terms, v = self._require_terms(), self._view
        moved_on = lambda: self._view.status is not status  # noqa: E731
        office = v.responsible_office or "?"
        reminder_at, round_ = v.reminder_at, self._clock_round
        if reminder_at is not None and not await done_or_due(moved_on, reminder_at, f"remind {office} at {self._reminder_local}"):
            self._view.reminders += 1
            self._notify(terms.reminder, f"judgement-reminder-{round_}", "Responsibility judgement: one working day left",
                         f"Accept or appeal the judgement of complaint {v.complaint_id} by {v.due_local}.")
            await self._commit("remind", SYSTEM_ACTOR, status, {"due_local": v.due_local, "office": office})
        assert v.due is not None
        if await done_or_due(moved_on, v.due, f"{office} answers by {v.due_local}"):
            return
        if self._appeals_in_time:
            # An appeal lodged in time is still looking up its rights and clock: it decides first.
            await workflow.wait_condition(lambda: moved_on() or not self._appeals_in_time)
            if moved_on():
                return
        if terms.silence_becomes_accepted:
            # No answer in time: final as accepted, and recorded as accepted by silence.
            self._view.status = S.ACCEPTED_BY_SILENCE
            self._finish()
            await self._commit("accept_by_silence", SYSTEM_ACTOR, status, {"was_due": v.due_local})
            return
        self._view.response_overdue = True
        self._notify(terms.reminder, f"judgement-overdue-{round_}", "Responsibility judgement overdue",
                     f"The judgement of complaint {v.complaint_id} was due {v.due_local}: answer now.")
        await self._commit("response_overdue", SYSTEM_ACTOR, status, {"was_due": v.due_local})
        await workflow.wait_condition(moved_on)

    async def _arbitration_clock(self) -> None:
        terms, v = self._require_terms(), self._view
        moved_on = lambda: self._view.status is not S.IN_ARBITRATION  # noqa: E731
        assert v.due is not None
        if await done_or_due(moved_on, v.due, f"arbitration decides by {v.due_local}"):
            return
        self._view.arbitration_overdue = True
        self._notify(terms.late_arbitration, "arbitration-overdue", "Appeal not decided in time",
                     f"Arbitration of the judgement of complaint {v.complaint_id} was due {v.due_local}.")
        await self._commit("arbitration_overdue", SYSTEM_ACTOR, S.IN_ARBITRATION, {"was_due": v.due_local})
        await workflow.wait_condition(moved_on)

    async def _office_deadlines(self, start: datetime) -> tuple[Deadline, Deadline | None]:
        """The responsible office's clock (5 working days on its calendar) and its reminder."""
        office = self._view.responsible_office
        assert office is not None
        deadline = await self._deadline(office, start, "judgement_response")
        reminder = await self._deadline(office, start, "judgement_reminder") if self._require_terms().remind else None
        return deadline, reminder

    def _clock_runs(self, status: S, unit: str, deadline: Deadline, reminder: Deadline | None) -> dict[str, Any]:
        v = self._view
        v.status, v.acting_unit, v.due, v.due_local = status, unit, deadline.due, deadline.due_local
        reminded = reminder is not None and reminder.due < deadline.due
        v.reminder_at = reminder.due if reminder is not None and reminded else None
        self._reminder_local = reminder.due_local if reminder is not None and reminded else None
        self._clock_round += 1
        return {"due": deadline.due.isoformat(), "due_local": deadline.due_local, "unit": unit,
                "calendar_version": deadline.calendar_version,
                "reminder_at": v.reminder_at.isoformat() if v.reminder_at else None}

    # -- the lead office: edit and send --------------------------------------------------------

    @workflow.update
    async def edit_draft(self, req: EditJudgementDraft) -> JudgementView:
        self._check_edit(req)
        changes = {k: getattr(req, k) for k in ("responsible_office", "party", "at_fault_unit", "fault_type") if getattr(req, k)}
        for key, value in changes.items():
            setattr(self._view, key, value)
        await self._commit("edit_draft", req.actor, S.DRAFT, {**changes, "note": req.note})
        return self._view

    @edit_draft.validator
    def _validate_edit_draft(self, req: EditJudgementDraft) -> None:
        self._check_edit(req)

    def _check_edit(self, req: EditJudgementDraft) -> None:
        self._check_step(S.DRAFT, "edit the draft")
        terms = self._require_terms()
        parties = terms.parties
        if req.party is not None and req.party not in parties:
            raise ApplicationError(f"party {req.party!r} is not one of {', '.join(parties)}",
                                   {"field": "party", "allowed": parties}, type=UNKNOWN_PARTY, non_retryable=True)
        if req.fault_type is not None and req.fault_type not in terms.fault_types:
            raise ApplicationError(f"fault type {req.fault_type!r} is not one of {', '.join(terms.fault_types) or '(none)'}",
                                   {"field": "fault_type", "allowed": terms.fault_types}, type=UNKNOWN_FAULT_TYPE,
                                   non_retryable=True)

    @workflow.update
    async def send(self, req: SendJudgement) -> JudgementView:
        self._check_send()
        deadline, reminder = await self._office_deadlines(workflow.now())
        self._check_send()  # nothing moved it on meanwhile (a second send)
        clock = self._clock_runs(S.AWAITING_RESPONSE, self._view.responsible_office or "", deadline, reminder)
        self._view.sent_at = workflow.now()
        await self._commit("send", req.actor, S.DRAFT, {"note": req.note, "responsible_office": self._view.responsible_office,
                                                        "party": self._view.party, **clock})
        return self._view

    @send.validator
    def _validate_send(self, req: SendJudgement) -> None:
        self._check_send()

    def _check_send(self) -> None:
        self._check_step(S.DRAFT, "send it")
        if self._view.responsible_office is None or self._view.party is None:
            refuse("name the responsible office and the party before sending", self._view.status.value)

    # -- the responsible office: accept (or name the smallest unit) or appeal --------------------

    @workflow.update
    async def accept(self, req: NameFault) -> JudgementView:
        before = self._check_answering()
        now, v = workflow.now(), self._view
        v.city_branch, v.failing_link, v.smallest_unit = req.city_branch, req.failing_link, req.smallest_unit
        v.answered_at, v.in_time = now, v.due is not None and now <= v.due
        v.status = S.ACCEPTED
        self._finish()
        await self._commit("accept" if before is S.AWAITING_RESPONSE else "name_fault", req.actor, before,
                           {"city_branch": req.city_branch, "failing_link": req.failing_link,
                            "smallest_unit": req.smallest_unit, "in_time": v.in_time})
        return self._view

    @accept.validator
    def _validate_accept(self, req: NameFault) -> None:
        self._check_answering()

    def _check_answering(self) -> S:
        status = self._view.status
        if status not in ANSWERING:
            refuse(f"the judgement is {status.value}; the responsible office answers only while it awaits an answer",
                   status.value)
        return status

    @workflow.update
    async def appeal(self, req: AppealJudgement) -> JudgementView:
        arrived = workflow.now()  # before any await: an appeal is lodged when it arrives
        self._check_appeal(req)
        at_arrival = self._patches.has(APPEAL_AT_ARRIVAL)
        in_time = at_arrival and self._view.due is not None and arrived <= self._view.due
        self._appeals_in_time += int(in_time)
        try:
            return await self._lodge_appeal(req, arrived if at_arrival else None)
        finally:
            self._appeals_in_time -= int(in_time)

    async def _lodge_appeal(self, req: AppealJudgement, arrived: datetime | None) -> JudgementView:
        """The right to appeal of the branch held at fault, then arbitration's clock, both from the
        appeal's arrival (`arrived`; None: an execution from before, which read the clock as it went)."""
        office = self._view.responsible_office
        assert office is not None
        request = AppealRightsRequest(office=office, at=arrived or workflow.now(), unit=self._view.at_fault_unit)
        summary = f"{office}'s right to appeal"
        if arrived is not None:
            # An activity of its own: a slow read model holds neither the workflow task nor the clock.
            rights = await workflow.execute_activity(APPEAL_RIGHTS_ACTIVITY, request, result_type=AppealRights,
                                                     summary=summary, **READ_MODEL_WRITE)
        else:
            rights = await workflow.execute_local_activity(APPEAL_RIGHTS_ACTIVITY, request, result_type=AppealRights,
                                                           summary=summary, **READ_MODEL_WRITE)
        if not rights.allowed:
            raise ApplicationError(rights.reason, rights.model_dump(mode="json"), type=APPEAL_RIGHTS_SUSPENDED,
                                   non_retryable=True)
        terms = self._require_terms()
        deadline = await self._deadline(terms.arbitration_unit, arrived or workflow.now(), "judgement_arbitration")
        self._check_appeal(req)  # nothing moved it on meanwhile (an answer, or a late appeal's clock ended)
        clock = self._clock_runs(S.IN_ARBITRATION, terms.arbitration_unit, deadline, None)
        self._view.appealed_at, self._view.appeal_reason = arrived or workflow.now(), req.reason
        self._view.appeal_branch = rights.office
        await self._commit("appeal", req.actor, S.AWAITING_RESPONSE, {
            "reason": req.reason, "evidence": [e.model_dump(mode="json") for e in req.evidence],
            "branch": rights.office, "rate_last_month": rights.rate, **clock})
        return self._view

    @appeal.validator
    def _validate_appeal(self, req: AppealJudgement) -> None:
        self._check_appeal(req)

    def _check_appeal(self, req: AppealJudgement) -> None:
        self._check_step(S.AWAITING_RESPONSE, "appeal")
        terms, v = self._require_terms(), self._view
        # By the judgement's fault type; terms recorded before that carry the category's answer.
        required = terms.appeal_evidence.required(v.fault_type) if terms.appeal_evidence else terms.required_appeal_evidence
        missing = missing_evidence(required, [e.kind for e in req.evidence])
        if missing:
            what = f"a {v.fault_type} judgement" if terms.appeal_evidence else f"a {v.category} complaint's judgement"
            raise ApplicationError(
                f"an appeal against {what} needs the four-party signed statement: evidence of kind"
                f" {', '.join(missing)} is missing", {"missing": missing}, type=MISSING_EVIDENCE, non_retryable=True)

    # -- arbitration ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, req: DecideAppeal) -> JudgementView:
        self._check_step(S.IN_ARBITRATION, "decide")
        now, v = workflow.now(), self._view
        # The appeal was invalid: the office names the smallest unit, on a new clock.
        clock = await self._office_deadlines(now) if req.at_fault else None
        self._check_step(S.IN_ARBITRATION, "decide")  # nothing moved it on meanwhile (a second decision)
        detail: dict[str, Any] = {"at_fault": req.at_fault, "reason": req.reason, "in_time": v.due is not None and now <= v.due}
        v.decided_at, v.at_fault, v.invalid_appeal = now, req.at_fault, req.at_fault
        if clock is not None:
            detail |= self._clock_runs(S.AWAITING_REFINEMENT, v.responsible_office or "", *clock)
        else:
            v.status = S.CANCELLED
            self._finish()
        await self._commit("decide", req.actor, S.IN_ARBITRATION, detail)
        return self._view

    @decide.validator
    def _validate_decide(self, req: DecideAppeal) -> None:
        self._check_step(S.IN_ARBITRATION, "decide")

    @workflow.query
    def view(self) -> JudgementView:
        return self._view

    # -- mechanics ----------------------------------------------------------------------------

    def _require_terms(self) -> JudgementTerms:
        if self._terms is None:
            refuse("the judgement is being generated; try again in a moment", self._view.status.value)
        assert self._terms is not None
        return self._terms

    def _check_step(self, status: S, what: str) -> None:
        self._require_terms()
        if self._view.status is not status:
            refuse(f"the judgement is {self._view.status.value}; it must be {status.value} to {what}",
                   self._view.status.value)

    def _finish(self) -> None:
        self._view.final_at, self._view.acting_unit, self._view.reminder_at = workflow.now(), None, None

    async def _commit(self, action: str, actor: Actor, before: S | None, detail: dict[str, Any]) -> None:
        self._seq += 1
        v = self._view
        change = JudgementChange(
            workflow_id=v.judgement_id,
            event=JudgementEvent(seq=self._seq, at=workflow.now(), actor=actor, action=action, from_status=before,
                                 to_status=v.status, detail=detail),
            view=v.model_copy(),
        )
        self._mirror()
        await workflow.execute_local_activity(
            RECORD_JUDGEMENT_CHANGES_ACTIVITY, [change], summary=f"record {action}", **READ_MODEL_WRITE)

    def _mirror(self) -> None:
        """Search attributes (only what changed) and the Web UI's current details."""
        v = self._view
        wanted = {CaseSearch.COMPLAINT_ID.name: v.complaint_id, CaseSearch.JUDGEMENT_STATUS.name: v.status.value,
                  CaseSearch.RESPONSIBLE_OFFICE.name: v.responsible_office or ""}
        keys = {k.name: k for k in (CaseSearch.COMPLAINT_ID, CaseSearch.JUDGEMENT_STATUS,
                                    CaseSearch.RESPONSIBLE_OFFICE)}
        changed = [keys[name].value_set(value) for name, value in wanted.items() if self._searchable.get(name) != value]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._searchable = wanted
        levels = " / ".join(x for x in (v.city_branch, v.failing_link, v.smallest_unit) if x) or "not named yet"
        workflow.set_current_details(
            f"**{v.status.value}** · office {v.responsible_office or '?'} · party {v.party or '?'}"
            f" · acting {v.acting_unit or '—'} · due {v.due_local or '—'}\n\n"
            f"- proposal: {v.proposal_reason}\n- at fault: {levels}\n"
            f"- appeal: {'invalid' if v.invalid_appeal else 'granted' if v.at_fault is False else 'none' if v.appealed_at is None else 'pending'}"
        )

    async def _deadline(self, unit: str, start: datetime, clock: str) -> Deadline:
        return await look_up_deadline(DeadlineRequest(unit=unit, start=start, clock=clock), clock.replace("_", " "))

    def _notify(self, notice: JudgementNotice, occasion: str, subject: str, text: str) -> None:
        """Beside the clock, never in front of it: a gateway outage must not hold a deadline."""
        unit = self._view.responsible_office if notice.of_unit == "responsible_office" else notice.of_unit
        request = NotifyRequest(case_id=self._view.judgement_id, step=occasion, role=notice.notify, unit=unit,
                                subject=f"[{self._view.complaint_id}] {subject}", text=text)
        send = notify_in_task if JUDGEMENT_NOTICES_IN_TASK in self._opening.built_with else notify_beside
        self._notices.append(send(request, f"notify {notice.notify.value} of {unit}: {occasion}"))

