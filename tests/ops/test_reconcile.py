"""Reconciliation (ops/reconcile.py): a read-model row edited by hand drifts from its case's workflow;
the drift is reported by column, repaired from the workflow's queries, and gone on the next run.
A row that says open without a running workflow is reported. On the Temporal dev server."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from ops.reconcile import Drift, Report, reconcile
from readmodel.tables import ComplaintRow, ContactRow, DispatchRow
from tests.api.test_contacts import contact_body
from tests.api.test_contacts import file as file_contact
from tests.conftest import Stack, auth
from tests.workflows.test_dispatches import complaint_in_handling, dispatch, raise_

COMPLAINT = ComplaintRow.__table__  # type: ignore[attr-defined]
DISPATCH = DispatchRow.__table__  # type: ignore[attr-defined]
CONTACT = ContactRow.__table__  # type: ignore[attr-defined]


async def reconciled(stack: Stack, *, repair: bool = False, cases: int = 2) -> Report:
    """Once the server's list of running workflows shows the test's cases (it is eventually consistent)."""
    for _ in range(100):
        report = await reconcile(stack.env.client, stack.read_model, stack.settings.temporal_task_queue, repair=repair)
        if report.checked >= cases:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server listed {report.checked} running cases, not {cases}")


def row(stack: Stack, table: Any, row_id: str) -> dict[str, Any]:
    with stack.read_model.engine.connect() as conn:
        return dict(conn.execute(select(table).where(table.c.id == row_id)).mappings().one())


async def test_a_row_edited_by_hand_is_reported_then_repaired_from_its_workflow(stack: Stack) -> None:
    cid = await complaint_in_handling(stack)
    did = await raise_(stack, cid, "gd-gz-tianhe")
    await dispatch(stack, did)  # its row has its clock
    clean = await reconciled(stack)
    assert (clean.checked, clean.drifts) == (2, [])  # the complaint and its dispatch, as their workflows say
    complaint_before, dispatch_before = row(stack, COMPLAINT, cid), row(stack, DISPATCH, did)

    # Someone "fixes" the rows by hand: the complaint shown resolved with no clock due and owned by
    # another seat, the dispatch moved to another unit and escalated.
    with stack.read_model.engine.begin() as conn:
        conn.execute(COMPLAINT.update().where(COMPLAINT.c.id == cid).values(status="resolved", next_due=None,
                                                                           owner_id="agent-li"))
        conn.execute(DISPATCH.update().where(DISPATCH.c.id == did).values(unit="gd-sz-futian", escalation_level=3))

    found = await reconciled(stack)
    drifts = {d.kind: d for d in found.drifts}
    assert sorted(drifts) == ["complaint", "dispatch"]
    # row's value, then the workflow's: the workflow's are what the rows held before the edit
    assert drifts["complaint"].columns == {"status": ("resolved", "in_handling"),
                                           "next_due": (None, complaint_before["next_due"]),
                                           "owner_id": ("agent-li", "agent-wang")}  # the seat that took it
    assert drifts["dispatch"].columns == {"unit": ("gd-sz-futian", "gd-gz-tianhe"), "escalation_level": (3, 0)}
    assert not any(d.repaired for d in found.drifts)
    assert row(stack, COMPLAINT, cid)["status"] == "resolved"  # reporting changes nothing

    repaired = await reconciled(stack, repair=True)
    assert sorted((d.kind, d.repaired) for d in repaired.drifts) == [("complaint", True), ("dispatch", True)]
    after_complaint, after_dispatch = row(stack, COMPLAINT, cid), row(stack, DISPATCH, did)
    for column in ("status", "next_due", "clocks", "last_seq", "handling_round", "owner_id"):
        assert after_complaint[column] == complaint_before[column], column
    for column in ("unit", "escalation_level", "status", "due", "last_seq"):
        assert after_dispatch[column] == dispatch_before[column], column
    assert (await reconciled(stack)).drifts == []
    shown = await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))
    assert shown.json()["status"] == "in_handling"  # what the API shows is the workflow's again


async def test_a_row_open_without_a_running_workflow_is_reported(stack: Stack) -> None:
    cid = await complaint_in_handling(stack)
    orphan = {**row(stack, COMPLAINT, cid), "id": "C-ORPHAN", "workflow_id": "complaint-C-ORPHAN"}
    with stack.read_model.engine.begin() as conn:
        conn.execute(COMPLAINT.insert().values(orphan))

    found = await reconciled(stack, repair=True, cases=1)

    assert found.drifts == [Drift("complaint", "C-ORPHAN", "complaint-C-ORPHAN",
                                  problem="the row says open; its workflow is not running")]
    shown = str(found.drifts[0])
    assert "C-ORPHAN" in shown and "Li Na" not in shown and "13800138000" not in shown  # no customer data


async def test_a_contact_row_edited_by_hand_is_repaired_from_its_desk_workflow(stack: Stack) -> None:
    created = await file_contact(stack, contact_body())
    contact_id = created["contact_id"]
    before = row(stack, CONTACT, contact_id)
    assert (await reconciled(stack, cases=1)).drifts == []

    with stack.read_model.engine.begin() as conn:
        conn.execute(CONTACT.update().where(CONTACT.c.id == contact_id).values(status="closed", missed_clocks=2))

    repaired = await reconciled(stack, repair=True, cases=1)

    # a consultation just filed is received, with no clock missed (its clocks run 30 min and 3 h)
    assert [(d.kind, d.columns, d.repaired) for d in repaired.drifts] == [
        ("contact", {"status": ("closed", "received"), "missed_clocks": (2, 0)}, True)]
    after = row(stack, CONTACT, contact_id)
    assert {c: after[c] for c in ("status", "missed_clocks", "clocks", "last_seq")} == {
        c: before[c] for c in ("status", "missed_clocks", "clocks", "last_seq")}
