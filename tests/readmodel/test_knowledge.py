"""The knowledge base on SQLite (FTS5) and PostgreSQL (tsvector + GIN): captured at closing,
found by Chinese and English keywords, best match first.

Complaints are written through the store as the workflow writes them: filed, taken into
handling, resolved (with a solution), confirmed, and closed by a satisfied call-back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select, text

from readmodel.knowledge import KnowledgeBase, words
from readmodel.store import ReadModel
from readmodel.tables import KnowledgeEntryRow
from rules.knowledge import Outcome
from rules.lifecycle import ComplaintAction, ComplaintStatus
from tests.readmodel.test_postgres import a_change, a_filing
from workflows.complaint_messages import ComplaintChange, ComplaintFiling, intake_changes

S, A = ComplaintStatus, ComplaintAction


def step(filing: ComplaintFiling, seq: int, action: ComplaintAction, from_status: ComplaintStatus,
         to_status: ComplaintStatus, detail: dict[str, Any], handling_round: int = 0) -> ComplaintChange:
    change = a_change(filing, seq, action, from_status, to_status, handling_round=handling_round)
    return change.model_copy(update={"entry": change.entry.model_copy(update={"detail": detail})})


def solved(store: ReadModel, cid: str, *, description: str, solution: str, category: str = "delay",
           demand: str | None = None, earlier_solution: str | None = None, **intake: Any) -> list[ComplaintChange]:
    """Filed, resolved and closed satisfied; with `earlier_solution`, a first round that did not satisfy."""
    filing = a_filing(cid, description=description, demand=demand, category=category, **intake)
    store.complaints.record(intake_changes(filing))
    changes = [step(filing, 3, A.TAKE_INTO_HANDLING, S.CLASSIFIED, S.IN_HANDLING, {})]
    seq, rounds = 4, ([earlier_solution] if earlier_solution else []) + [solution]
    for n, text_ in enumerate(rounds):
        changes += [
            step(filing, seq, A.RESOLVE, S.IN_HANDLING, S.RESOLVED, {"solution": text_}, n),
            step(filing, seq + 1, A.CONFIRM_WITH_CUSTOMER, S.RESOLVED, S.CONFIRMED, {"message": "done"}, n),
        ]
        seq += 2
        if n < len(rounds) - 1:
            changes.append(step(filing, seq, A.RECORD_DISSATISFIED_CALLBACK, S.CONFIRMED, S.IN_HANDLING, {}, n + 1))
            seq += 1
    changes.append(step(filing, seq, A.RECORD_SATISFIED_CALLBACK, S.CONFIRMED, S.CLOSED,
                        {"customer_words": "thanks"}, len(rounds) - 1))
    for change in changes:  # one write per step, as the workflow records them
        store.complaints.record([change])
    return changes


def ids(hits: list[Any]) -> list[str]:
    return [h.complaint_id for h in hits]


def entries(store: ReadModel) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(KnowledgeEntryRow.__table__)).mappings()]


def a_desk(store: ReadModel) -> KnowledgeBase:
    solved(store, "K-LOST", category="loss_or_damage", description="包裹在杭州转运中心丢失，客户很着急",
           demand="赔偿", solution="查到丢失记录，按保价金额赔偿500元")
    solved(store, "K-LATE", description="快递延误三天还没到，物流信息一直不更新",
           solution="联系网点加急派送，次日送达")
    solved(store, "K-ID", description="寄的身份证一直没收到", solution="专人派送身份证")
    solved(store, "K-EN", description="The parcel was delayed in customs for a week",
           solution="Customs broker called; parcel released and delivered")
    return store.knowledge


def test_the_schema_has_the_entries_and_the_full_text_index_and_can_be_made_again(read_model: ReadModel) -> None:
    read_model.create_schema()

    inspector = inspect(read_model.engine)
    assert "knowledge_entry" in inspector.get_table_names()
    with read_model.engine.connect() as conn:
        if read_model.engine.dialect.name == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'knowledge_fts'")).scalar() == 1
        else:
            index = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_knowledge_entry_terms'")).scalar()
            assert "USING gin (to_tsvector('english'::regconfig" in index


def test_a_search_reads_the_full_text_index(read_model: ReadModel) -> None:
    kb = a_desk(read_model)
    stmt = kb.statement(["丢失", "赔偿"], match_all=True, category=None, limit=10)
    sql = str(stmt.compile(read_model.engine, compile_kwargs={"literal_binds": True}))
    with read_model.engine.connect() as conn:
        if read_model.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "knowledge_fts VIRTUAL TABLE INDEX" in plan
        else:
            conn.execute(text("SET enable_seqscan = off"))  # four rows: let the planner show what it can use
            plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
            assert "ix_knowledge_entry_terms" in plan


def test_closing_after_a_satisfied_callback_captures_problem_category_solution_and_outcome(read_model: ReadModel) -> None:
    solved(read_model, "K-1", category="loss_or_damage", description="包裹破损，里面的杯子碎了", demand="赔偿杯子",
           earlier_solution="道歉并补发", solution="按保价赔偿200元", tracking_number="EX5555555555CN")

    [entry] = entries(read_model)
    assert entry["complaint_id"] == "K-1"
    assert (entry["category"], entry["problem"], entry["demand"]) == ("loss_or_damage", "包裹破损，里面的杯子碎了", "赔偿杯子")
    assert entry["solution"] == "按保价赔偿200元"  # the round that satisfied, not the first one
    assert (entry["outcome"], entry["handling_round"]) == (Outcome.SATISFIED, 1)
    assert "EX5555555555CN" not in str(entry)


def test_an_answer_at_first_contact_and_an_unresolvable_reason_are_the_solutions(read_model: ReadModel) -> None:
    answered = a_filing("K-ANS", category="fee_dispute", description="运费为什么多收了十元")
    unresolvable = a_filing("K-UNR", description="包裹延误，客户要求赔偿")
    read_model.complaints.record(intake_changes(answered) + intake_changes(unresolvable))
    read_model.complaints.record([
        step(answered, 3, A.ANSWER_AT_FIRST_CONTACT, S.CLASSIFIED, S.CLOSED, {"answer": "偏远地区附加费十元"}),
        step(unresolvable, 3, A.CLOSE_UNRESOLVABLE, S.CLASSIFIED, S.CLOSED, {"reason": "客户五天联系不上"}),
    ])

    got = {e["complaint_id"]: (e["solution"], e["outcome"]) for e in entries(read_model)}
    assert got == {"K-ANS": ("偏远地区附加费十元", Outcome.ANSWERED_AT_FIRST_CONTACT),
                   "K-UNR": ("客户五天联系不上", Outcome.CLOSED_UNRESOLVABLE)}


def test_a_still_open_complaint_has_no_entry(read_model: ReadModel) -> None:
    filing = a_filing("K-OPEN", description="包裹丢失")
    read_model.complaints.record(intake_changes(filing))
    read_model.complaints.record([step(filing, 3, A.TAKE_INTO_HANDLING, S.CLASSIFIED, S.IN_HANDLING, {}),
                       step(filing, 4, A.RESOLVE, S.IN_HANDLING, S.RESOLVED, {"solution": "赔偿"})])

    assert entries(read_model) == []
    assert read_model.knowledge.search("丢失") == []


def test_recording_the_closing_again_changes_nothing(read_model: ReadModel) -> None:
    """A retried activity replays the close: still one entry, one index row, the same content."""
    changes = solved(read_model, "K-1", description="快递延误", solution="加急派送")
    before = entries(read_model)

    read_model.complaints.record(changes[-1:])
    read_model.complaints.record(changes)

    assert entries(read_model) == before
    assert ids(read_model.knowledge.search("延误")) == ["K-1"]
    if read_model.engine.dialect.name == "sqlite":
        with read_model.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM knowledge_fts")).scalar() == 1


def test_two_character_chinese_words_are_found(read_model: ReadModel) -> None:
    kb = a_desk(read_model)

    assert ids(kb.search("丢失")) == ["K-LOST"]
    assert ids(kb.search("延误")) == ["K-LATE"]
    assert ids(kb.search("赔偿")) == ["K-LOST"]  # in the demand and the solution


def test_longer_chinese_words_and_phrases_typed_without_spaces_are_found(read_model: ReadModel) -> None:
    kb = a_desk(read_model)

    assert ids(kb.search("身份证")) == ["K-ID"]
    assert ids(kb.search("转运中心")) == ["K-LOST"]
    assert ids(kb.search("快递延误")) == ["K-LATE"]  # cut into 快递 + 延误: both must be there
    assert ids(kb.search("杭州丢失了")) == ["K-LOST"]  # the particle 了 is not required
    assert kb.search("延误丢失") == []  # no case has both


def test_english_keywords_are_found_stemmed_and_in_any_case(read_model: ReadModel) -> None:
    kb = a_desk(read_model)

    assert ids(kb.search("customs")) == ["K-EN"]
    assert ids(kb.search("Delay")) == ["K-EN"]  # delayed → delay
    assert ids(kb.search("parcels released")) == ["K-EN"]
    assert kb.search("customs lost") == []


def test_the_better_match_comes_first_with_a_snippet(read_model: ReadModel) -> None:
    solved(read_model, "K-WEAK", description="客户投诉快递员态度不好，说话很冲，还提到包裹有一点破损，整体来说主要是服务态度问题",
           category="staff_attitude", solution="快递员当面道歉")
    solved(read_model, "K-STRONG", description="包裹破损严重", category="loss_or_damage",
           solution="破损物品按价赔偿，破损照片存档")
    kb = read_model.knowledge

    hits = kb.search("破损")

    assert ids(hits) == ["K-STRONG", "K-WEAK"]
    assert hits[0].score > hits[1].score
    assert hits[0].snippet == "包裹[破损]严重"
    assert "[破损]" in hits[1].snippet and hits[1].snippet.startswith("…")


def test_the_category_filter_keeps_one_category(read_model: ReadModel) -> None:
    solved(read_model, "K-A", description="包裹破损", category="loss_or_damage", solution="赔偿")
    solved(read_model, "K-B", description="包装破损", category="packaging", solution="加固包装")
    kb = read_model.knowledge

    assert sorted(ids(kb.search("破损"))) == ["K-A", "K-B"]
    assert ids(kb.search("破损", category="packaging")) == ["K-B"]
    assert len(kb.search("破损", limit=1)) == 1


def test_no_customer_name_or_phone_is_kept_or_found(read_model: ReadModel) -> None:
    """DOMAIN §9: the complainant's name and phone typed into the text are cleaned at capture."""
    solved(read_model, "K-PII", description="Li Na (13800138000) says the parcel is late; 李娜 also gave 139-1234-5678",
           demand="call Li Na back on 138 0013 8000", solution="Called Li Na at 13800138000, delivered next day",
           complainant={"name": "Li Na", "phone": "13800138000", "tier": "standard"},
           recipient={"name": "李娜", "phone": "13800138000"})

    [entry] = entries(read_model)
    kept = " ".join(str(v) for v in entry.values())
    for personal in ("Li Na", "李娜", "13800138000", "138 0013 8000", "139-1234-5678"):
        assert personal not in kept
    assert entry["problem"] == "[name] ([phone]) says the parcel is late; [name] also gave [phone]"
    kb = read_model.knowledge
    assert kb.search("13800138000") == []
    assert kb.search("李娜") == []
    [hit] = kb.search("late")
    assert "13800138000" not in hit.model_dump_json() and "Li Na" not in hit.model_dump_json()


def test_similar_solved_cases_rank_by_shared_words_and_put_the_same_category_first(read_model: ReadModel) -> None:
    kb = a_desk(read_model)
    unresolvable = a_filing("K-UNR", category="loss_or_damage", description="包裹丢失，客户要求赔偿")
    read_model.complaints.record(intake_changes(unresolvable))
    read_model.complaints.record([step(unresolvable, 3, A.CLOSE_UNRESOLVABLE, S.CLASSIFIED, S.CLOSED, {"reason": "联系不上"})])

    typed = "客户说包裹在转运中心丢失了，希望赔偿"
    hits = kb.similar_solved(typed)
    assert ids(hits)[0] == "K-LOST"
    assert "K-UNR" not in ids(hits)  # not solved
    assert hits[0].solution == "查到丢失记录，按保价金额赔偿500元"

    late = kb.similar_solved("包裹延误了", category="delay")
    assert ids(late)[0] == "K-LATE"
    assert [h.category for h in late] == sorted((h.category for h in late), key=lambda c: c != "delay")
    assert kb.similar_solved("的了吗") == []



def test_no_email_address_or_id_card_number_is_kept_or_found(read_model: ReadModel) -> None:
    """DOMAIN §9: what agents type beside the customer's name (zsf@example.com, 110101199003071234,
    a phone written into Chinese text) is cut out at capture, and no search finds it."""
    solved(read_model, "K-IDS", description="客户张三丰邮箱zsf@example.com，身份证110101199003071234，电话13912345678，包裹延误",
           demand="send the receipt to Zhang.SF+parcel@mail.example.cn", solution="已补寄，身份证号 11010119900307123X 已核对")

    [entry] = entries(read_model)
    assert entry["problem"] == "客户张三丰邮箱[email]，身份证[id-card]，电话[phone]，包裹延误"
    assert entry["demand"] == "send the receipt to [email]"
    assert entry["solution"] == "已补寄，身份证号 [id-card] 已核对"
    kept = " ".join(str(v) for v in entry.values())
    for personal in ("zsf", "example.com", "110101199003071234", "11010119900307123X", "13912345678", "mail.example"):
        assert personal not in kept.lower(), personal
    kb = read_model.knowledge
    for query in ("zsf@example.com", "zsf", "110101199003071234", "example"):
        assert kb.search(query) == [], query
    assert [h.complaint_id for h in kb.search("延误")] == ["K-IDS"]


def test_entries_written_before_the_cleaning_are_cleaned_by_the_upgrade(database_url: str) -> None:
    """Migration 0004: an entry and a requirement holding an e-mail address and an ID-card number
    (as the previous version wrote them) are cleaned, and the search finds the words no more."""
    from alembic import command

    from readmodel import migrate
    from readmodel.store import make_engine

    engine = make_engine(database_url)
    with engine.begin() as conn:  # the schema as the previous version left it
        command.upgrade(migrate.config(conn), "0003")
    problem = "客户邮箱zsf@example.com，身份证110101199003071234，包裹延误"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO knowledge_entry (complaint_id, category, problem, demand, solution, outcome, handling_round,"
            " one_time_resolution, closed_at, terms) VALUES ('K-OLD', 'delay', :problem, NULL, 'resent', 'satisfied',"
            " 1, true, :at, :terms)"), {"problem": problem, "at": datetime(2026, 3, 2, tzinfo=UTC),
                                        "terms": " ".join(words(problem + " resent"))})
        if engine.dialect.name == "sqlite":
            conn.execute(text("INSERT INTO knowledge_fts (complaint_id, terms) VALUES ('K-OLD', :terms)"),
                         {"terms": " ".join(words(problem + " resent"))})
        conn.execute(text(
            "INSERT INTO requirement (id, complaint_id, category, channel, suggestion, received_at, forwarded_at)"
            " VALUES ('requirement-C-OLD', 'C-OLD', 'delay', 'hotline', 'write to zsf@example.com', :at, :at)"),
            {"at": datetime(2026, 3, 2, tzinfo=UTC)})
    engine.dispose()

    upgraded = ReadModel(database_url)
    upgraded.create_schema()  # upgrades to head
    try:
        assert upgraded.knowledge.search("zsf") == [] and upgraded.knowledge.search("110101199003071234") == []
        [hit] = upgraded.knowledge.search("延误")
        assert hit.problem == "客户邮箱[email]，身份证[id-card]，包裹延误"
        [req], _ = upgraded.requirements.page(category=None, received_from=None, offset=0, limit=10)
        assert req.suggestion == "write to [email]"
    finally:
        upgraded.dispose()
