"""A next version of ComplaintWorkflow for tests/workflows/test_deploy_new_version.py: the customer is
texted when the complaint is taken into handling. The change is guarded by workflow.patched, as a
real one would be: a case that was taken into handling by the version before replays without it.

Its own module (no test imports), since the workflow sandbox imports a workflow's module afresh.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from rules.actors import Actor
    from rules.lifecycle import ComplaintAction
    from workflows.complaint import ComplaintWorkflow
    from workflows.complaint_messages import ComplaintFiling, ComplaintOutcome, ComplaintState

TOLD_WHEN_TAKEN = "customer-told-when-taken"
TAKEN_TEXT = "Your complaint is being handled; we will tell you how it stands."


@workflow.defn(name="ComplaintWorkflow")
class ComplaintWorkflowNext(ComplaintWorkflow):
    @workflow.run
    async def run(self, filing: ComplaintFiling) -> ComplaintOutcome:
        return await super().run(filing)

    async def _transition(self, action: ComplaintAction, actor: Actor, detail: dict[str, Any]) -> ComplaintState:
        state = await super()._transition(action, actor, detail)
        if action is ComplaintAction.TAKE_INTO_HANDLING and self._told_when_taken():
            self._notify_customer("taken-into-handling", "Your complaint", TAKEN_TEXT)
        return state

    def _told_when_taken(self) -> bool:
        return workflow.patched(TOLD_WHEN_TAKEN)


@workflow.defn(name="ComplaintWorkflow")
class ComplaintWorkflowNextUnguarded(ComplaintWorkflowNext):
    """The same change without the guard: what replaying an older case on it shows."""

    @workflow.run
    async def run(self, filing: ComplaintFiling) -> ComplaintOutcome:
        return await super().run(filing)

    def _told_when_taken(self) -> bool:
        return True
