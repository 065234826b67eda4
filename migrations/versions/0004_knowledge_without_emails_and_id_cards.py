"""Knowledge entries and requirements written before their texts were cleaned of e-mail addresses and
ID-card numbers (DOMAIN §9) are cleaned now, with today's rules/knowledge.py `redact`, and an entry's
search words are cut again from its cleaned texts (SQLite's FTS5 copy too), so no search finds what
was taken out. Data only; no column changes. What is taken out cannot come back: downgrade keeps it out."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from readmodel.knowledge import words
from rules.knowledge import redact

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ENTRY = sa.table("knowledge_entry", sa.column("complaint_id"), sa.column("problem"), sa.column("demand"),
                  sa.column("solution"), sa.column("terms"))
_REQUIREMENT = sa.table("requirement", sa.column("id"), sa.column("suggestion"), sa.column("demand"))


def _clean(value: str | None) -> str | None:
    return redact(value, names=(), phones=()) if value else value


def upgrade() -> None:
    conn = op.get_bind()
    e = _ENTRY.c
    for row in conn.execute(sa.select(e.complaint_id, e.problem, e.demand, e.solution)).all():
        problem, demand, solution = _clean(row.problem) or "", _clean(row.demand), _clean(row.solution) or ""
        if (problem, demand, solution) == (row.problem, row.demand, row.solution):
            continue
        terms = " ".join(words(" ".join(filter(None, (problem, demand, solution)))))
        conn.execute(_ENTRY.update().where(e.complaint_id == row.complaint_id)
                     .values(problem=problem, demand=demand, solution=solution, terms=terms))
        if conn.dialect.name == "sqlite":  # FTS5 keeps its own copy of the words; PostgreSQL indexes the column
            conn.execute(sa.text("UPDATE knowledge_fts SET terms = :terms WHERE complaint_id = :id"),
                         {"terms": terms, "id": row.complaint_id})
    r = _REQUIREMENT.c
    for row in conn.execute(sa.select(r.id, r.suggestion, r.demand)).all():
        suggestion, demand = _clean(row.suggestion) or "", _clean(row.demand)
        if (suggestion, demand) != (row.suggestion, row.demand):
            conn.execute(_REQUIREMENT.update().where(r.id == row.id).values(suggestion=suggestion, demand=demand))


def downgrade() -> None:
    pass  # the addresses and numbers taken out are not kept anywhere to put back
