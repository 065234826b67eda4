"""The audit log of customer data: rows are appended with who, role, unit, what, case and why, listed
newest first, filtered, and read by the auditor alone (policy `permissions.read_audit`)."""

from __future__ import annotations

from readmodel.audit import AuditAction
from rules.actors import Actor, Role
from tests.conftest import Stack, auth

WANG = Actor(id="agent-wang", name="Wang Fang", role=Role.FRONT_SEAT, unit="call-centre")
MA = Actor(id="sup-ma", name="Ma Rui", role=Role.SUPERVISOR, unit="call-centre")


async def test_the_auditor_reads_every_use_of_customer_data_newest_first(stack: Stack) -> None:
    audit = stack.read_model.audit
    audit.record(WANG, AuditAction.REVEAL, "complainant.phone", case_id="C-1", reason="calling back")
    audit.record(MA, AuditAction.EXPORT, "complaints.csv (2 rows)")
    audit.record(WANG, AuditAction.REVEAL, "recipient.phone", case_id="C-2", reason="delivery appointment")

    resp = await stack.http.get("/audit", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    listed = resp.json()
    assert listed["total"] == 3
    # Newest first: the order they were written in, reversed.
    assert [(e["action"], e["what"], e["case_id"]) for e in listed["items"]] == [
        ("reveal", "recipient.phone", "C-2"), ("export", "complaints.csv (2 rows)", None),
        ("reveal", "complainant.phone", "C-1")]
    first = listed["items"][-1]
    assert (first["actor_id"], first["role"], first["unit"], first["reason"]) == (
        "agent-wang", "front_seat", "call-centre", "calling back")

    only_reveals = (await stack.http.get("/audit", params={"action": "reveal", "case_id": "C-1"},
                                         headers=auth("auditor"))).json()
    assert [e["what"] for e in only_reveals["items"]] == ["complainant.phone"]


async def test_nobody_but_the_auditor_reads_the_audit_log(stack: Stack) -> None:
    # permissions.read_audit is [auditor]: the supervisor, who exports, may not read who exported.
    for role in ("supervisor", "operations", "head_office_cs", "front_seat"):
        resp = await stack.http.get("/audit", headers=auth(role))
        assert resp.status_code == 403, (role, resp.text)
    assert (await stack.http.get("/audit")).status_code == 401
