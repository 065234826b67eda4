"""Reconciliation of the read model with the workflows: `python -m ops.reconcile [--repair]`.

Every open case (each running complaint, dispatch, judgement and contact workflow on the task queue)
is asked for its state through its queries; the case's store turns that state into its row's
columns with the mapping its activity writes with (`forward`), and a column that differs from the
row is drift. So is a missing row, and a row that says open while its workflow is not running.

`--repair` writes the workflow's columns over the row, in one statement that leaves a row which
moved on since it was read alone (a write of the workflow's that landed meanwhile wins). What the
queries do not hold is reported, not repaired: a missing row (its filing is in the workflow's input,
not its state), timeline events, a row whose workflow is gone. Text columns that may carry what a
customer said are named, never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle

from readmodel.judgements import OPEN_STATUSES as OPEN_JUDGEMENTS
from readmodel.store import ReadModel
from readmodel.writes import ForwardStore
from settings import get_settings
from temporal_client import connect
from workflows.case import SYSTEM_ACTOR
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import ComplaintChange, TimelineEntry
from workflows.contact import ConsultationWorkflow
from workflows.contact_messages import ContactChange, ContactEvent
from workflows.dispatch import DispatchWorkflow
from workflows.dispatch_messages import DispatchChange, DispatchEvent
from workflows.judgement import JudgementWorkflow
from workflows.judgement_messages import JudgementChange, JudgementEvent

ACTION = "reconcile"  # the action of the change that carries the state; its event is never written
NOT_COMPARED = {"updated_at"}  # when the row was written, not what it says
TEXT = {"instruction", "finding", "proposal_reason", "appeal_reason"}  # free text: may quote the customer


@dataclass(frozen=True)
class Drift:
    kind: str  # complaint | dispatch | judgement | contact
    row_id: str
    workflow_id: str
    columns: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # column: (row's value, workflow's value)
    problem: str | None = None  # what drifted that a repair cannot mend
    repaired: bool = False

    def __str__(self) -> str:
        what = self.problem or "; ".join(
            f"{c}: row {'<text>' if c in TEXT else repr(r)}, workflow {'<text>' if c in TEXT else repr(w)}"
            for c, (r, w) in sorted(self.columns.items()))
        return f"{self.kind} {self.row_id} ({self.workflow_id}): {what}{' [repaired]' if self.repaired else ''}"


@dataclass
class Report:
    checked: int = 0  # open cases whose workflow was asked
    drifts: list[Drift] = field(default_factory=list)


# What a kind's workflow says its row holds: (row id, the row's columns), given the row as read
# (None when there is none). `last_seq` comes from the workflow where a query tells it, else the row.
Expected = Callable[[ReadModel, WorkflowHandle, dict[str, Any] | None], Awaitable[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class CaseKind:
    name: str
    workflow_types: tuple[str, ...]
    store: Callable[[ReadModel], ForwardStore]
    expected: Expected
    workflow_id_column: str  # the row's column naming its workflow
    open_row: Callable[[Any], Any]  # the condition of a row that says its case is open
    unknown: frozenset[str] = frozenset()  # columns the mapping sets that the queries do not tell


def _now() -> datetime:
    return datetime.now(UTC)


async def _complaint(read_model: ReadModel, handle: WorkflowHandle, row: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    state = await handle.query(ComplaintWorkflow.state)
    clocks = await handle.query(ComplaintWorkflow.clocks)
    plan = await handle.query(ComplaintWorkflow.plan)
    entry = TimelineEntry.model_construct(seq=state.last_seq, at=_now(), actor=SYSTEM_ACTOR, action=ACTION,
                                          from_status=None, to_status=state.status, detail={})
    change = ComplaintChange(complaint_id=state.complaint_id, workflow_id=handle.id, entry=entry, status=state.status,
                             handling_round=state.handling_round, one_time_resolution=state.one_time_resolution,
                             clocks=clocks, plan=plan or None, owner=state.owner)
    return state.complaint_id, dict(read_model.complaints.forward(change).state)


async def _dispatch(read_model: ReadModel, handle: WorkflowHandle, row: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    view = await handle.query(DispatchWorkflow.view)
    event = DispatchEvent(seq=row["last_seq"] if row else 0, at=_now(), actor=SYSTEM_ACTOR, action=ACTION,
                          from_status=None, to_status=view.status)
    return view.dispatch_id, dict(read_model.dispatches.forward(DispatchChange(workflow_id=handle.id, event=event, view=view)).state)


async def _judgement(read_model: ReadModel, handle: WorkflowHandle, row: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    view = await handle.query(JudgementWorkflow.view)
    event = JudgementEvent(seq=row["last_seq"] if row else 0, at=_now(), actor=SYSTEM_ACTOR, action=ACTION,
                           from_status=None, to_status=view.status)
    change = JudgementChange(workflow_id=handle.id, event=event, view=view)
    return view.judgement_id, dict(read_model.judgements.forward(change).state)


async def _contact(read_model: ReadModel, handle: WorkflowHandle, row: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    state = await handle.query(ConsultationWorkflow.view)  # every contact desk answers the same query
    event = ContactEvent.model_construct(seq=state.last_seq, at=_now(), actor=SYSTEM_ACTOR, action=ACTION,
                                         from_status=None, to_status=state.status, detail={})
    change = ContactChange(workflow_id=handle.id, event=event, state=state)
    return state.contact_id, dict(read_model.contacts.forward(change).state)


KINDS = (
    CaseKind("complaint", ("ComplaintWorkflow",), lambda rm: rm.complaints, _complaint, "workflow_id",
             lambda t: t.c.status != "closed",
             unknown=frozenset({"closed_at"})),  # the closing instant is the closing entry's, not in the state
    CaseKind("dispatch", ("DispatchWorkflow",), lambda rm: rm.dispatches, _dispatch, "id",
             lambda t: t.c.status.in_(["open", "awaiting_review"])),
    CaseKind("judgement", ("JudgementWorkflow",), lambda rm: rm.judgements, _judgement, "id",
             lambda t: t.c.status.in_(OPEN_JUDGEMENTS)),
    CaseKind("contact", ("ConsultationWorkflow", "RescueRequestWorkflow", "NewFailureModeWorkflow"),
             lambda rm: rm.contacts, _contact, "workflow_id", lambda t: t.c.closed_at.is_(None)),
)
_KIND_OF = {workflow_type: kind for kind in KINDS for workflow_type in kind.workflow_types}


async def reconcile(client: Client, read_model: ReadModel, task_queue: str, *, repair: bool = False) -> Report:
    report = Report()
    running: set[str] = set()
    async for execution in client.list_workflows(f"ExecutionStatus = 'Running' AND TaskQueue = '{task_queue}'"):
        kind = _KIND_OF.get(execution.workflow_type)
        if kind is None:
            continue
        running.add(execution.id)
        report.checked += 1
        if drift := await _check(kind, read_model, client.get_workflow_handle(execution.id), repair):
            report.drifts.append(drift)
    for kind in KINDS:
        table = kind.store(read_model).rows.__table__
        with read_model.engine.connect() as conn:
            open_rows = conn.execute(select(table.c.id, table.c[kind.workflow_id_column]).where(kind.open_row(table))).all()
        report.drifts += [Drift(kind.name, row_id, workflow_id, problem="the row says open; its workflow is not running")
                          for row_id, workflow_id in open_rows if workflow_id not in running]
    return report


async def _check(kind: CaseKind, read_model: ReadModel, handle: WorkflowHandle, repair: bool) -> Drift | None:
    store = kind.store(read_model)
    table = store.rows.__table__
    row = _row(read_model, table, handle.id, kind)  # read before the query: a write in between shows as newer
    row_id, expected = await kind.expected(read_model, handle, row)
    if row is None:
        return Drift(kind.name, row_id, handle.id, problem="no row (its workflow runs)")
    differing = {c: (row[c], v) for c, v in expected.items()
                 if c not in NOT_COMPARED | kind.unknown and _plain(row[c]) != _plain(v)}
    if not differing:
        return None
    repaired = False
    if repair:
        written = {c: v for c, v in expected.items() if c not in kind.unknown}
        with store.transaction() as conn:
            repaired = conn.execute(table.update().where(table.c.id == row_id, table.c.last_seq <= expected["last_seq"])
                                    .values(written)).rowcount == 1
    return Drift(kind.name, row_id, handle.id, differing, repaired=repaired)


def _row(read_model: ReadModel, table: Any, workflow_id: str, kind: CaseKind) -> dict[str, Any] | None:
    with read_model.engine.connect() as conn:
        found = conn.execute(select(table).where(table.c[kind.workflow_id_column] == workflow_id)).mappings().first()
    return dict(found) if found is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


async def run(repair: bool) -> int:
    settings = get_settings()
    read_model = ReadModel(settings.database_url)
    try:
        read_model.require_schema()
        client = await connect(settings)
        report = await reconcile(client, read_model, settings.temporal_task_queue, repair=repair)
    finally:
        read_model.dispose()
    for drift in report.drifts:
        print(drift)
    unmended = [d for d in report.drifts if not d.repaired]
    print(f"{report.checked} open cases checked: {len(report.drifts)} drifted"
          + (f", {len(report.drifts) - len(unmended)} repaired" if repair else ""))
    return 1 if unmended else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.reconcile",
                                     description="Compare each open case's workflow with its read-model row.")
    parser.add_argument("--repair", action="store_true", help="write the workflow's state over a drifted row")
    return asyncio.run(run(parser.parse_args(argv).repair))


if __name__ == "__main__":
    sys.exit(main())
