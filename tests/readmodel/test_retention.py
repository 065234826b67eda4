"""De-identification in the read model (readmodel/retention.py), on SQLite and PostgreSQL: a closed
case past the cutoff loses its customer's names, phones and addresses from every table that holds
them, keeps what the measures read, gets one audit row; a newer closed case and an open case are
left exactly as they were; a second run finds nothing to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from readmodel.audit import AuditAction
from readmodel.retention import CasesStillOpen, Retention
from readmodel.store import ReadModel
from readmodel.tables import (
    ComplaintRow,
    ContactRow,
    DispatchEventRow,
    DispatchRow,
    DuplicateClaimRow,
    JudgementEventRow,
    JudgementRow,
    KnowledgeEntryRow,
    OutboxRow,
    RequirementRow,
    TimelineEventRow,
)
from rules.actors import Actor, Role
from tests.factories import stored

NOW = datetime(2027, 6, 1, 3, 30, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=365)
SCHEDULE = Actor(id="retention-schedule", name="Retention schedule", role=Role.OPERATIONS, unit="hq")
SUPERVISOR = Actor(id="sup-ma", name="Ma Rui", role=Role.SUPERVISOR, unit="call-centre")

# The customer's data as it was typed, in every form a reader could find it again.
PERSONAL = ["李娜", "13800138000", "138-0013-8000", "张三", "13900139000", "体育西路100号", "Xihu, Hangzhou",
            "rec://2026/03/02/0001", "西湖区文三路90号", "王小明", "13700137000"]
MEASURED = ("status", "category", "lead_unit", "level", "received_at", "closed_at", "clocks", "missed_clocks",
            "one_time_resolution", "handling_round", "is_repeat", "tracking_number")


def complaint(cid: str, *, closed_at: datetime | None, received_at: datetime) -> ComplaintRow:
    return ComplaintRow(
        id=cid, workflow_id=f"complaint-{cid}", status="closed" if closed_at else "in_handling", category="delay",
        category_group="service_quality", urgency="general", urgent_reasons=[], level=2, level_reasons=[],
        priority="normal", priority_reasons=[], channel="hotline", received_at=received_at, filed_at=received_at,
        filed_by="agent-wang", lead_unit="call-centre", tracking_number=f"EX{cid[-3:]}0000001CN", nature="complaint",
        complainant_name="李娜", complainant_phone="13800138000", phone_key="13800138000", complainant_tier="standard",
        sender={"name": "张三", "phone": "13900139000", "address": "广州市天河区体育西路100号"},
        recipient={"name": "Li Na", "phone": "+86 138 0013 8000", "address": "Xihu, Hangzhou"},
        contents={"description": "documents"}, demand="请联系李娜 138-0013-8000",
        description="李娜的包裹寄往广州市天河区体育西路100号，三天没动",
        evidence=[{"kind": "call_recording", "reference": "rec://2026/03/02/0001", "note": "李娜来电"}],
        closed_at=closed_at, clocks=[{"name": "solution", "due": received_at.isoformat(), "met_at": None}],
        missed_clocks=1, one_time_resolution=True, last_seq=9, updated_at=received_at)


def rows_beside(cid: str, closed_at: datetime) -> list[Any]:
    """What the workflows write beside a closed complaint: timeline, dispatch, judgement, texts."""
    dispatch, judgement = f"dispatch-{cid}-1", f"judgement-{cid}"
    return [
        TimelineEventRow(id=f"complaint-{cid}:9", complaint_id=cid, seq=9, at=closed_at, actor_id="agent-wang",
                         actor_name="Wang Fang", actor_role="front_seat", actor_unit="call-centre",
                         action="record_satisfied_callback", from_status="confirmed", to_status="closed",
                         detail={"satisfied": True, "customer_words": "李娜说谢谢，回电13800138000", "n": 3}),
        DispatchRow(id=dispatch, complaint_id=cid, kind="direct", priority="normal", unit="gd-gz-tianhe",
                    status="answered", instruction="联系寄件人张三 13900139000", raised_by="agent-wang",
                    raised_at=closed_at - timedelta(days=2), finding="送到体育西路100号时无人", last_seq=3),
        DispatchEventRow(id=f"{dispatch}:3", dispatch_id=dispatch, complaint_id=cid, seq=3, at=closed_at,
                         actor_id="tianhe", actor_role="production_unit", actor_unit="gd-gz-tianhe", action="answer",
                         to_status="answered", detail={"answer": "已致电张三，13900139000"}),
        JudgementRow(id=judgement, complaint_id=cid, status="final", lead_unit="call-centre", category="delay",
                     opened_at=closed_at, proposal_reason="张三未在家", last_seq=2, updated_at=closed_at),
        JudgementEventRow(id=f"{judgement}:2", judgement_id=judgement, complaint_id=cid, seq=2, at=closed_at,
                          actor_id="gd", actor_role="regional_cs", actor_unit="gd", action="accept",
                          to_status="final", detail={"note": "Li Na confirmed"}),
        KnowledgeEntryRow(complaint_id=cid, category="delay", problem="[name]的包裹寄往广州市天河区体育西路100号，三天没动",
                          demand="请联系[name] [phone]", solution="专人派送", outcome="satisfied", handling_round=0,
                          one_time_resolution=True, closed_at=closed_at,
                          terms="name 包裹 寄往 广州 广州市 天河 天河区 体育 西路 100 号 三天 没动 专人 派送"),
        RequirementRow(id=f"requirement-{cid}", complaint_id=cid, category="delay", channel="hotline",
                       suggestion="[name]建议送到西湖区文三路90号", received_at=closed_at, forwarded_at=closed_at),
        OutboxRow(id=f"text-{cid}", case_id=cid, step="progress-1", recipient_id=f"customer-{cid}",
                  recipient_role="customer", recipient_unit="call-centre", channel="sms", address="13800138000",
                  subject="Progress", body="李娜您好，您的投诉正在处理", created_at=closed_at, status="delivered"),
        OutboxRow(id=f"notice-{cid}", case_id=dispatch, step="overdue", recipient_id="gz-director-he",
                  recipient_role="director", recipient_unit="gd-gz", channel="email", address="he.jing@example.com",
                  subject=f"[{cid}] overdue", body="寄件人张三的调度逾期", created_at=closed_at, status="delivered"),
        DuplicateClaimRow(key=f"hash-{cid}", complaint_id=cid, received_at=closed_at, claimed_at=closed_at),
    ]


def contact(kid: str, *, closed_at: datetime | None) -> ContactRow:
    at = (closed_at or NOW) - timedelta(hours=1)
    return ContactRow(id=kid, workflow_id=f"contact-{kid}", kind="rescue_request", status="closed" if closed_at else "received",
                      channel="hotline", received_at=at, filed_at=at, filed_by="agent-wang", desk_unit="call-centre",
                      customer_name="王小明", customer_phone="137-0013-7000", customer_tier="standard",
                      description="王小明被困在西湖区文三路90号", location="西湖区文三路90号", evidence=[],
                      clocks=[], closed_at=closed_at, last_seq=4, updated_at=at)


def dump(read_model: ReadModel, *case_ids: str) -> str:
    """Every row of every table that belongs to one of these cases, as text."""
    found = []
    with read_model.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                line = json.dumps({k: v for k, v in row.items()}, ensure_ascii=False, default=str)
                if any(f'"{c}"' in line or f"-{c}" in line for c in case_ids):
                    found.append(line)
    return "\n".join(found)


def fill(read_model: ReadModel) -> None:
    old_close, new_close = NOW - timedelta(days=400), NOW - timedelta(days=100)
    stored(read_model, [
        complaint("C-OLD", closed_at=old_close, received_at=old_close - timedelta(days=3)),
        complaint("C-NEW", closed_at=new_close, received_at=new_close - timedelta(days=3)),
        # Received long before the cutoff, still open: never touched, however old.
        complaint("C-OPEN", closed_at=None, received_at=NOW - timedelta(days=500)),
        contact("K-OLD", closed_at=old_close), contact("K-NEW", closed_at=new_close),
        *rows_beside("C-OLD", old_close), *rows_beside("C-NEW", new_close),
    ])
    if read_model.engine.dialect.name == "sqlite":  # the FTS5 copy capture() writes at closing
        with read_model.engine.begin() as conn:
            for cid in ("C-OLD", "C-NEW"):
                terms = conn.execute(text("SELECT terms FROM knowledge_entry WHERE complaint_id = :c"), {"c": cid}).scalar()
                conn.execute(text("INSERT INTO knowledge_fts (complaint_id, terms) VALUES (:c, :t)"), {"c": cid, "t": terms})


def retention(read_model: ReadModel) -> Retention:
    return Retention(read_model.engine, read_model.write_lock)


def test_a_case_closed_before_the_cutoff_loses_every_name_phone_and_address(read_model: ReadModel) -> None:
    fill(read_model)
    before_old = read_model.complaints.find("C-OLD")
    untouched = dump(read_model, "C-NEW"), dump(read_model, "C-OPEN"), dump(read_model, "K-NEW")
    for value in PERSONAL[:7]:
        assert value in dump(read_model, "C-OLD"), value  # the check below can fail

    done = retention(read_model).deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW, limit=100)

    assert (done.complaints, done.contacts) == (("C-OLD",), ("K-OLD",))
    left = dump(read_model, "C-OLD", "K-OLD")
    assert [value for value in PERSONAL if value in left] == []
    after = read_model.complaints.find("C-OLD")
    assert after is not None and before_old is not None
    assert (after.complainant_name, after.complainant_phone, after.phone_key) == ("[name]", "[phone]", None)
    assert after.sender == {"name": "[name]", "phone": "[phone]", "address": "[address]"}
    assert after.description == "[name]的包裹寄往[address]，三天没动"
    assert after.evidence == [{"kind": "call_recording", "reference": "[removed]", "note": "[name]来电"}]
    assert after.deidentified_at == NOW
    # What the measures read is as it was: counts and clocks measure the same.
    assert {k: getattr(after, k) for k in MEASURED} == {k: getattr(before_old, k) for k in MEASURED}
    text_to_customer = read_model.outbox.get("text-C-OLD")
    assert text_to_customer is not None
    assert (text_to_customer.address, text_to_customer.body, text_to_customer.status) == (
        "[phone]", "[name]您好，您的投诉正在处理", "delivered")
    with read_model.engine.connect() as conn:
        assert conn.execute(select(DuplicateClaimRow.__table__.c.key)).scalars().all() == ["hash-C-NEW"]  # type: ignore[attr-defined]
    # The newer closed case, the open one and the newer contact: byte for byte as before.
    assert (dump(read_model, "C-NEW"), dump(read_model, "C-OPEN"), dump(read_model, "K-NEW")) == untouched


def test_the_knowledge_entry_stays_findable_by_its_problem_not_by_the_address(read_model: ReadModel) -> None:
    fill(read_model)
    assert {h.complaint_id for h in read_model.knowledge.search("体育西路")} == {"C-OLD", "C-NEW"}

    retention(read_model).deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW, limit=100)

    assert {h.complaint_id for h in read_model.knowledge.search("体育西路")} == {"C-NEW"}
    assert {h.complaint_id for h in read_model.knowledge.search("专人派送")} == {"C-OLD", "C-NEW"}


def test_each_case_gets_one_audit_row_and_a_second_run_changes_nothing(read_model: ReadModel) -> None:
    fill(read_model)
    store = retention(read_model)
    store.deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW, limit=100)
    again = store.deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW + timedelta(days=1), limit=100)

    assert len(again) == 0
    rows, total = read_model.audit.page(action=AuditAction.DEIDENTIFY)
    assert total == 2
    assert {(r.case_id, r.actor_id, r.role, r.unit) for r in rows} == {
        ("C-OLD", "retention-schedule", "operations", "hq"), ("K-OLD", "retention-schedule", "operations", "hq")}
    assert all(r.reason == f"closed before {CUTOFF.isoformat()}: past the retention period" for r in rows)


def test_a_batch_takes_the_oldest_closings_first(read_model: ReadModel) -> None:
    stored(read_model, [complaint(f"C-{n:03d}", closed_at=NOW - timedelta(days=400 + n), received_at=NOW - timedelta(days=410 + n))
                        for n in range(5)])
    store = retention(read_model)

    first = store.deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW, limit=2)
    rest = store.deidentify_closed_before(CUTOFF, actor=SCHEDULE, at=NOW, limit=10)

    # Closed 404 and 403 days ago come first (the oldest), the other three in the next batch.
    assert first.complaints == ("C-004", "C-003")
    assert rest.complaints == ("C-002", "C-001", "C-000")


def test_an_erasure_with_a_case_open_changes_nothing_and_names_it(read_model: ReadModel) -> None:
    fill(read_model)
    everything = dump(read_model, "C-OLD", "C-NEW", "C-OPEN")

    with pytest.raises(CasesStillOpen) as refused:
        retention(read_model).erase_customer("+86 138-0013-8000", actor=SUPERVISOR, reason="customer asked", at=NOW)

    assert refused.value.open_cases == ("C-OPEN",)
    assert dump(read_model, "C-OLD", "C-NEW", "C-OPEN") == everything
    assert read_model.audit.page()[1] == 0


def test_an_erasure_takes_every_closed_case_of_the_phone_however_written(read_model: ReadModel) -> None:
    fill(read_model)
    with read_model.engine.begin() as conn:  # the open case closes first, as the centre would do
        conn.execute(ComplaintRow.__table__.update().where(ComplaintRow.__table__.c.id == "C-OPEN")  # type: ignore[attr-defined]
                     .values(status="closed", closed_at=NOW))

    done = retention(read_model).erase_customer("+86 138-0013-8000", actor=SUPERVISOR, reason="customer asked", at=NOW)
    by_contact = retention(read_model).erase_customer("0086 137 0013 7000", actor=SUPERVISOR, reason="asked", at=NOW)

    # All three complaints are 李娜's (phone key 13800138000), closed however recently; the contacts are 王小明's.
    assert sorted(done.complaints) == ["C-NEW", "C-OLD", "C-OPEN"] and done.contacts == ()
    assert sorted(by_contact.contacts) == ["K-NEW", "K-OLD"] and by_contact.complaints == ()
    left = dump(read_model, "C-OLD", "C-NEW", "C-OPEN", "K-OLD", "K-NEW")
    assert [value for value in PERSONAL if value in left] == []
    rows, total = read_model.audit.page(action=AuditAction.ERASE)
    assert total == 5 and {r.actor_id for r in rows} == {"sup-ma"}
