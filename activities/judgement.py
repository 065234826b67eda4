"""Local activities of JudgementWorkflow: the policy's terms for a judgement, its read-model writes,
and an office's right to appeal (its invalid-appeal rate of the previous month, from the read model)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from temporalio import activity

from readmodel.judgements import JudgementStore
from readmodel.store import ReadModel
from rules.judgement import AppealRights, appeal_branch, appeal_evidence, appeal_rights, month_before, propose
from rules.policy import Policy, PolicyFile
from workflows.judgement_messages import (
    APPEAL_RIGHTS_ACTIVITY,
    JUDGEMENT_TERMS_ACTIVITY,
    RECORD_JUDGEMENT_CHANGES_ACTIVITY,
    AppealRightsRequest,
    JudgementChange,
    JudgementOpening,
    JudgementTerms,
)


class JudgementActivities:
    def __init__(self, read_model: ReadModel, policy: PolicyFile) -> None:
        self._store = read_model.judgements
        self._policy = policy

    @activity.defn(name=JUDGEMENT_TERMS_ACTIVITY)
    def judgement_terms(self, opening: JudgementOpening) -> JudgementTerms:
        return terms_for(self._policy.current(), opening)

    @activity.defn(name=RECORD_JUDGEMENT_CHANGES_ACTIVITY)
    def record_judgement_changes(self, changes: list[JudgementChange]) -> None:
        self._store.record(changes)  # idempotent: a retried attempt finds its rows

    @activity.defn(name=APPEAL_RIGHTS_ACTIVITY)
    def appeal_rights(self, request: AppealRightsRequest) -> AppealRights:
        return rights_of(self._store, self._policy.current(), request)


def terms_for(policy: Policy, opening: JudgementOpening) -> JudgementTerms:
    rules = policy.judgement
    return JudgementTerms(
        proposal=propose(opening.findings, rules, policy.org_chart),
        parties=list(rules.at_fault_parties),
        required_appeal_evidence=[],  # by the fault type now: appeal_evidence
        fault_types=list(rules.fault_types),
        appeal_evidence=appeal_evidence(rules),
        silence_becomes_accepted=rules.silence_becomes_accepted,
        remind=rules.reminder_working_days_before > 0,
        arbitration_unit=rules.arbitration_unit,
        reminder=rules.reminder,
        late_arbitration=rules.late_arbitration,
    )


def rights_of(store: JudgementStore, policy: Policy, request: AppealRightsRequest) -> AppealRights:
    """The city branch held at fault appeals through its office: the branch's invalid-appeal rate of
    the month before the appeal, on the office's own clock, decides."""
    zone = ZoneInfo(policy.calendar_of(request.office)[1].time_zone) if request.office in policy.units else ZoneInfo("UTC")
    month = month_before(request.at, zone)
    start, end = month.bounds(zone)
    branch = appeal_branch(policy.org_chart, request.unit or request.office)
    invalid, judged = store.appeal_counts(start, end, policy.org_chart, branch).get(branch, (0, 0))
    return appeal_rights(branch, month.label, invalid, judged, policy.judgement.invalid_appeal_rate_bound)
