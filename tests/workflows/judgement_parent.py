"""A stand-in for a closing complaint: starts its judgement as an abandoned child, then completes."""

from __future__ import annotations

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.judgement import JudgementWorkflow
    from workflows.judgement_messages import JudgementOpening, judgement_summary, judgement_workflow_id


@workflow.defn
class ClosingComplaintWorkflow:
    @workflow.run
    async def run(self, opening: JudgementOpening, judgement_task_queue: str) -> str:
        child = await workflow.start_child_workflow(
            JudgementWorkflow.run, opening, id=judgement_workflow_id(opening.complaint_id),
            task_queue=judgement_task_queue, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=judgement_summary(opening),
        )
        return child.id  # closed: the judgement runs on
