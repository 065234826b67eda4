"""The knowledge base in the read model: one entry per closed complaint, searchable in Chinese and English.

Written at closing, in the transaction that records the close (`capture`, called by
ComplaintStore.record): insert-once by complaint id, so a replayed write changes nothing.

Chinese has no spaces between words, and the words agents search for most (丢失, 延误, 破损) are
two characters long: too short for a trigram index. So the text is cut into words with jieba
(search mode: 身份证 → 身份 身份证) and stored space-separated in `terms`; a query is cut the
same way. Each backend then indexes the words with its own full-text search:
- SQLite: an FTS5 table (`knowledge_fts`, tokenizer `porter unicode61`), ranked by bm25;
- PostgreSQL: a GIN index on `to_tsvector('english', terms)`, ranked by ts_rank.
English words are stemmed by both (delayed → delay). Neither index is a SQLModel table: the
baseline migration (migrations/versions/0001_baseline.py) makes them with DDL.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jieba
from pydantic import BaseModel
from sqlalchemy import Connection, and_, column, func, literal_column, select, table, text

from readmodel.tables import ComplaintRow, KnowledgeEntryRow, TimelineEventRow
from readmodel.writes import Store, insert_for
from rules.knowledge import SOLVED, Outcome, closing_outcome, redact, solution_at_closing
from rules.lifecycle import ComplaintAction
from workflows.complaint_messages import ComplaintChange

jieba.setLogLevel(logging.WARNING)  # it reports loading its dictionary at INFO


class KnowledgeHit(BaseModel):
    """One entry found, best first: `score` is the backend's relevance (higher is better)."""

    complaint_id: str
    category: str
    problem: str
    demand: str | None
    solution: str
    outcome: Outcome
    handling_round: int
    one_time_resolution: bool
    closed_at: datetime
    score: float
    snippet: str  # the best passage, the query's words in [brackets]


_ENTRY = KnowledgeEntryRow.__table__  # type: ignore[attr-defined]
_FTS = table("knowledge_fts", column("complaint_id"), column("terms"))  # SQLite only; not in the metadata
_CONFIG = literal_column("'english'::regconfig")  # inline, so the planner matches the GIN index's expression

def load_dictionary() -> None:
    """Load jieba's dictionary (about a second) at start-up rather than in the first closing's write."""
    threading.Thread(target=jieba.initialize, name="jieba-initialize", daemon=True).start()


# -- words ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# Words too common to tell cases apart; dropped from queries so both backends require the same words.
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 着 过 和 与 及 或 在 是 我 你 他 她 它 们 我们 这 那 就 也 都 很 把 被 给 有 请 "
    "a an the of to in on at for and or is are was were be been it its my me i you your this that with by from "
    "has have had not no".split()
)
QUERY_WORDS_LIMIT = 64


def words(text: str) -> list[str]:
    """jieba's search-mode words, lower-cased, each a run of letters or digits: 身份证 → 身份, 身份证."""
    return [w.lower() for token in jieba.cut_for_search(text) for w in _WORD.findall(token)]


def query_words(text: str) -> list[str]:
    """The words a query asks for, each once, without stop words."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))[:QUERY_WORDS_LIMIT]


# -- writes --------------------------------------------------------------------------------------


def capture(conn: Connection, change: ComplaintChange) -> None:
    """At closing: the complaint's entry, once. Reads the complaint row and its last `resolve` in
    the same transaction, so a close written together with its resolution finds it."""
    outcome = closing_outcome(change.entry.action)
    if outcome is None:
        return
    c, t = ComplaintRow.__table__, TimelineEventRow.__table__  # type: ignore[attr-defined]
    complaint = conn.execute(
        select(c.c.category, c.c.description, c.c.demand, c.c.complainant_name, c.c.complainant_phone,
               c.c.sender, c.c.recipient).where(c.c.id == change.complaint_id)
    ).one_or_none()
    if complaint is None:
        return
    latest_resolution = conn.execute(
        select(t.c.detail)
        .where(t.c.complaint_id == change.complaint_id, t.c.action == ComplaintAction.RESOLVE.value)
        .order_by(t.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    parties = [complaint.sender or {}, complaint.recipient or {}]
    names = [complaint.complainant_name, *(p.get("name") or "" for p in parties)]
    phones = [complaint.complainant_phone, *(p.get("phone") or "" for p in parties)]

    def clean(value: str | None) -> str | None:
        return redact(value, names=names, phones=phones) if value else value

    problem, demand = clean(complaint.description) or "", clean(complaint.demand)
    solution = clean(solution_at_closing(outcome, change.entry.detail, latest_resolution)) or ""
    entry = {
        "complaint_id": change.complaint_id,
        "category": complaint.category,
        "problem": problem,
        "demand": demand,
        "solution": solution,
        "outcome": outcome.value,
        "handling_round": change.handling_round,
        "one_time_resolution": change.one_time_resolution,
        "closed_at": change.entry.at,
        "terms": " ".join(words(" ".join(filter(None, (problem, demand, solution))))),
    }
    inserted = conn.execute(insert_for(conn.dialect.name)(_ENTRY).values(entry).on_conflict_do_nothing(index_elements=[_ENTRY.c.complaint_id]))
    if inserted.rowcount and conn.dialect.name == "sqlite":
        conn.execute(_FTS.insert().values(complaint_id=entry["complaint_id"], terms=entry["terms"]))


# -- reads ---------------------------------------------------------------------------------------


class KnowledgeBase(Store):
    """Ranked full-text search over the entries, on the read model's engine (written by `capture`)."""

    def search(self, query: str, *, category: str | None = None, limit: int = 10) -> list[KnowledgeHit]:
        """Entries holding every word of the query (any outcome), best match first."""
        return self._find(query_words(query), match_all=True, category=category, limit=limit)

    def similar_solved(self, text: str, *, category: str | None = None, limit: int = 5) -> list[KnowledgeHit]:
        """Solved cases sharing the most (and the rarest) words with what an agent typed at intake;
        those of the same category first."""
        return self._find(query_words(text), match_all=False, category=category, limit=limit,
                          outcomes=SOLVED, category_first=True)

    def _find(self, terms: Sequence[str], *, match_all: bool, category: str | None, limit: int,
              outcomes: frozenset[Outcome] | None = None, category_first: bool = False) -> list[KnowledgeHit]:
        if not terms:
            return []
        stmt = self.statement(terms, match_all=match_all, category=category, limit=limit, outcomes=outcomes,
                              category_first=category_first)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [KnowledgeHit(**{k: v for k, v in row.items() if k != "terms"},
                             snippet=snippet(row["problem"], row["demand"], row["solution"], terms=terms))
                for row in rows]

    def statement(self, terms: Sequence[str], *, match_all: bool, category: str | None, limit: int,
                  outcomes: frozenset[Outcome] | None = None, category_first: bool = False) -> Any:
        """One ranked statement on the backend's full-text index."""
        e = _ENTRY
        if self.engine.dialect.name == "postgresql":
            queries = [func.plainto_tsquery(_CONFIG, term) for term in terms]
            tsquery = queries[0]
            for q in queries[1:]:
                tsquery = tsquery.op("&&" if match_all else "||")(q)
            document = func.to_tsvector(_CONFIG, e.c.terms)
            score = func.ts_rank(document, tsquery, 1)  # 1: divided by 1 + log(length), like bm25's length
            stmt = select(e, score.label("score")).where(document.op("@@")(tsquery))
        else:
            match = (" " if match_all else " OR ").join(f'"{term}"' for term in terms)
            score = -func.bm25(literal_column("knowledge_fts"))  # bm25 is lower-is-better
            stmt = (select(e, score.label("score")).select_from(_FTS.join(e, e.c.complaint_id == _FTS.c.complaint_id))
                    .where(text("knowledge_fts MATCH :match").bindparams(match=match)))
        conditions = []
        if category is not None and not category_first:
            conditions.append(e.c.category == category)
        if outcomes is not None:
            conditions.append(e.c.outcome.in_(sorted(o.value for o in outcomes)))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        order = [literal_column("score").desc(), e.c.closed_at.desc(), e.c.complaint_id]
        if category is not None and category_first:
            order.insert(0, (e.c.category == category).desc())
        return stmt.order_by(*order).limit(limit)


SNIPPET_CHARS = 80


def _pattern(term: str) -> str:
    """How a query word shows in the original text: Chinese as written, English by its stem."""
    if term.isascii() and term.isalpha() and len(term) > 4:
        stem = re.sub(r"(ing|ed|es|s)$", "", term)
        return r"\b" + re.escape(stem) + r"\w*"
    return re.escape(term)


def snippet(*texts: str | None, terms: Sequence[str]) -> str:
    """The passage of the first text that holds a query word, words in [brackets]; else its start.
    Built from the original text: the indexed one is cut into words."""
    found = re.compile("|".join(_pattern(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    present = [t for t in texts if t]
    source = next((t for t in present if found.search(t)), present[0] if present else "")
    first = found.search(source)
    start = max(0, first.start() - SNIPPET_CHARS // 4) if first else 0
    passage = source[start:start + SNIPPET_CHARS]
    return ("…" if start else "") + found.sub(lambda m: f"[{m.group()}]", passage) + (
        "…" if start + SNIPPET_CHARS < len(source) else "")
