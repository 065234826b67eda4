"""Baseline: the read model as the last release ran it (git commit 820cc30), frozen here.

On an empty database it creates every table. On a database made by `ReadModel.create_schema` of an
earlier version (tables present, no alembic_version) it does what that create_schema did, so the
database reaches this baseline without losing a row: the tables missing are created, the nullable
columns and the indexes added since are added (a missing non-nullable column stops the upgrade,
as it did then), and the complaints written before `phone_key` get theirs. The full-text search
index (SQLite FTS5 table, PostgreSQL GIN index) is DDL beside the tables.

The tables below are a copy, not an import of readmodel/tables.py: later revisions change the
models, this revision must keep making what the release made.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rules.customer_data import normalised_phone

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BASELINE = sa.MetaData()
_INSTANT = sa.DateTime(timezone=True)  # readmodel.tables.UTCDateTime's column type

sa.Table(
    "complaint", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("workflow_id", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.Column("category", sa.String(), nullable=False, index=True),
    sa.Column("category_group", sa.String(), nullable=False),
    sa.Column("urgency", sa.String(), nullable=False, index=True),
    sa.Column("urgent_reasons", sa.JSON()),
    sa.Column("level", sa.Integer(), nullable=False, index=True),
    sa.Column("level_reasons", sa.JSON()),
    sa.Column("priority", sa.String(), nullable=False),
    sa.Column("priority_reasons", sa.JSON()),
    sa.Column("channel", sa.String(), nullable=False, index=True),
    sa.Column("channel_message_id", sa.String()),
    sa.Column("received_at", _INSTANT, nullable=False, index=True),
    sa.Column("filed_at", _INSTANT, nullable=False),
    sa.Column("filed_by", sa.String(), nullable=False),
    sa.Column("lead_unit", sa.String(), nullable=False, index=True),
    sa.Column("tracking_number", sa.String(), index=True),
    sa.Column("nature", sa.String(), nullable=False),
    sa.Column("complainant_name", sa.String(), nullable=False),
    sa.Column("complainant_phone", sa.String(), nullable=False, index=True),
    sa.Column("phone_key", sa.String(), index=True),
    sa.Column("complainant_tier", sa.String(), nullable=False),
    sa.Column("sender", sa.JSON()),
    sa.Column("recipient", sa.JSON()),
    sa.Column("contents", sa.JSON()),
    sa.Column("demand", sa.String()),
    sa.Column("description", sa.String(), nullable=False),
    sa.Column("evidence", sa.JSON()),
    sa.Column("handling_round", sa.Integer(), nullable=False),
    sa.Column("one_time_resolution", sa.Boolean(), nullable=False),
    sa.Column("closed_at", _INSTANT, index=True),
    sa.Column("clocks", sa.JSON()),
    sa.Column("next_due", _INSTANT, index=True),
    sa.Column("overdue_since", _INSTANT, index=True),
    sa.Column("missed_clocks", sa.Integer(), nullable=False),
    sa.Column("complex_case", sa.Boolean(), nullable=False),
    sa.Column("plan", sa.JSON()),
    sa.Column("is_repeat", sa.Boolean(), nullable=False, index=True),
    sa.Column("repeat_of", sa.JSON()),
    sa.Column("last_seq", sa.Integer(), nullable=False),
    sa.Column("updated_at", _INSTANT, nullable=False),
    sa.Index("ix_complaint_category_channel_received", "category", "channel", "received_at"),
    sa.Index("ix_complaint_category_received", "category", "received_at"),
    sa.Index("ix_complaint_channel_received", "channel", "received_at"),
    sa.Index("ix_complaint_closed_measures", "closed_at", "status", "one_time_resolution", "missed_clocks"),
    sa.Index("ix_complaint_lead_unit_received", "lead_unit", "received_at"),
    sa.Index("ix_complaint_priority_next_due", "priority", "next_due"),
    sa.Index("ix_complaint_received_repeat", "received_at", "is_repeat"),
    sa.Index("ix_complaint_status_received", "status", "received_at"),
)
sa.Table(
    "contact", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("workflow_id", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False, index=True),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("channel_message_id", sa.String()),
    sa.Column("received_at", _INSTANT, nullable=False, index=True),
    sa.Column("filed_at", _INSTANT, nullable=False),
    sa.Column("filed_by", sa.String(), nullable=False),
    sa.Column("desk_unit", sa.String(), nullable=False, index=True),
    sa.Column("customer_name", sa.String(), nullable=False),
    sa.Column("customer_phone", sa.String(), nullable=False),
    sa.Column("customer_tier", sa.String(), nullable=False),
    sa.Column("tracking_number", sa.String(), index=True),
    sa.Column("description", sa.String(), nullable=False),
    sa.Column("location", sa.String()),
    sa.Column("evidence", sa.JSON()),
    sa.Column("handed_to", sa.String(), index=True),
    sa.Column("clocks", sa.JSON()),
    sa.Column("missed_clocks", sa.Integer(), nullable=False),
    sa.Column("closed_at", _INSTANT),
    sa.Column("last_seq", sa.Integer(), nullable=False),
    sa.Column("updated_at", _INSTANT, nullable=False),
)
sa.Table(
    "dispatch", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("kind", sa.String(), nullable=False, index=True),
    sa.Column("priority", sa.String(), nullable=False),
    sa.Column("unit", sa.String(), nullable=False, index=True),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.Column("instruction", sa.String(), nullable=False),
    sa.Column("raised_by", sa.String(), nullable=False),
    sa.Column("raised_at", _INSTANT, nullable=False, index=True),
    sa.Column("due", _INSTANT, index=True),
    sa.Column("due_local", sa.String()),
    sa.Column("answered_at", _INSTANT),
    sa.Column("in_time", sa.Boolean()),
    sa.Column("late_working_minutes", sa.Integer()),
    sa.Column("returns", sa.Integer(), nullable=False),
    sa.Column("escalation_level", sa.Integer(), nullable=False, index=True),
    sa.Column("finding", sa.String()),
    sa.Column("failing_link", sa.String()),
    sa.Column("replaces", sa.String()),
    sa.Column("last_seq", sa.Integer(), nullable=False),
)
sa.Table(
    "dispatch_event", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("dispatch_id", sa.String(), nullable=False, index=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("at", _INSTANT, nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("actor_role", sa.String(), nullable=False),
    sa.Column("actor_unit", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("from_status", sa.String()),
    sa.Column("to_status", sa.String(), nullable=False),
    sa.Column("detail", sa.JSON()),
    sa.Index("ix_dispatch_event_action_at", "action", "at"),
)
sa.Table(
    "duplicate_claim", BASELINE,
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("complaint_id", sa.String(), nullable=False),
    sa.Column("received_at", _INSTANT, nullable=False),
    sa.Column("claimed_at", _INSTANT, nullable=False),
)
sa.Table(
    "idempotency_key", BASELINE,
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("caller", sa.String(), nullable=False),
    sa.Column("fingerprint", sa.String(), nullable=False),
    sa.Column("case_id", sa.String(), nullable=False),
    sa.Column("claimed_at", _INSTANT, nullable=False),
)
sa.Table(
    "judgement", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.Column("lead_unit", sa.String(), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("opened_at", _INSTANT, nullable=False),
    sa.Column("responsible_office", sa.String(), index=True),
    sa.Column("party", sa.String()),
    sa.Column("at_fault_unit", sa.String()),
    sa.Column("fault_type", sa.String()),
    sa.Column("proposal_reason", sa.String()),
    sa.Column("acting_unit", sa.String(), index=True),
    sa.Column("due", _INSTANT, index=True),
    sa.Column("due_local", sa.String()),
    sa.Column("reminder_at", _INSTANT),
    sa.Column("reminders", sa.Integer(), nullable=False),
    sa.Column("sent_at", _INSTANT, index=True),
    sa.Column("answered_at", _INSTANT),
    sa.Column("in_time", sa.Boolean()),
    sa.Column("city_branch", sa.String()),
    sa.Column("failing_link", sa.String()),
    sa.Column("smallest_unit", sa.String()),
    sa.Column("appealed_at", _INSTANT),
    sa.Column("appeal_reason", sa.String()),
    sa.Column("appeal_branch", sa.String()),
    sa.Column("decided_at", _INSTANT),
    sa.Column("at_fault", sa.Boolean()),
    sa.Column("invalid_appeal", sa.Boolean(), nullable=False),
    sa.Column("response_overdue", sa.Boolean(), nullable=False),
    sa.Column("arbitration_overdue", sa.Boolean(), nullable=False),
    sa.Column("final_at", _INSTANT, index=True),
    sa.Column("last_seq", sa.Integer(), nullable=False),
    sa.Column("updated_at", _INSTANT, nullable=False),
    sa.Index("ix_judgement_office_sent", "responsible_office", "sent_at"),
)
sa.Table(
    "judgement_event", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("judgement_id", sa.String(), nullable=False, index=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("at", _INSTANT, nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("actor_role", sa.String(), nullable=False),
    sa.Column("actor_unit", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("from_status", sa.String()),
    sa.Column("to_status", sa.String(), nullable=False),
    sa.Column("detail", sa.JSON()),
)
sa.Table(
    "knowledge_entry", BASELINE,
    sa.Column("complaint_id", sa.String(), primary_key=True),
    sa.Column("category", sa.String(), nullable=False, index=True),
    sa.Column("problem", sa.String(), nullable=False),
    sa.Column("demand", sa.String()),
    sa.Column("solution", sa.String(), nullable=False),
    sa.Column("outcome", sa.String(), nullable=False, index=True),
    sa.Column("handling_round", sa.Integer(), nullable=False),
    sa.Column("one_time_resolution", sa.Boolean(), nullable=False),
    sa.Column("closed_at", _INSTANT, nullable=False, index=True),
    sa.Column("terms", sa.String(), nullable=False),
)
sa.Table(
    "outbox_message", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("case_id", sa.String(), nullable=False, index=True),
    sa.Column("step", sa.String(), nullable=False),
    sa.Column("recipient_id", sa.String(), nullable=False),
    sa.Column("recipient_role", sa.String(), nullable=False),
    sa.Column("recipient_unit", sa.String(), nullable=False),
    sa.Column("passed_up_from", sa.String()),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("address", sa.String(), nullable=False),
    sa.Column("subject", sa.String(), nullable=False),
    sa.Column("body", sa.String(), nullable=False),
    sa.Column("created_at", _INSTANT, nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.String()),
    sa.Column("delivered_at", _INSTANT),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.UniqueConstraint("case_id", "step", "recipient_id", "channel", name="uq_outbox_message_target"),
)
sa.Table(
    "requirement", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("category", sa.String(), nullable=False, index=True),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("suggestion", sa.String(), nullable=False),
    sa.Column("demand", sa.String()),
    sa.Column("received_at", _INSTANT, nullable=False, index=True),
    sa.Column("forwarded_at", _INSTANT, nullable=False),
)
sa.Table(
    "timeline_event", BASELINE,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("complaint_id", sa.String(), nullable=False, index=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("at", _INSTANT, nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("actor_name", sa.String(), nullable=False),
    sa.Column("actor_role", sa.String(), nullable=False),
    sa.Column("actor_unit", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("from_status", sa.String()),
    sa.Column("to_status", sa.String(), nullable=False),
    sa.Column("detail", sa.JSON()),
    sa.Index("ix_timeline_event_action_at", "action", "at"),
)

# Not SQLModel tables: SQLite's FTS5 table over knowledge_entry.terms, PostgreSQL's GIN index on it.
SEARCH_INDEX = {
    "sqlite": [
        "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts"
        " USING fts5(terms, complaint_id UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')",
    ],
    "postgresql": [
        "CREATE INDEX IF NOT EXISTS ix_knowledge_entry_terms ON knowledge_entry"
        " USING GIN (to_tsvector('english'::regconfig, terms))",
    ],
}
DROP_SEARCH_INDEX = {"sqlite": ["DROP TABLE IF EXISTS knowledge_fts"], "postgresql": ["DROP INDEX IF EXISTS ix_knowledge_entry_terms"]}


def upgrade() -> None:
    conn = op.get_bind()
    BASELINE.create_all(conn, checkfirst=True)  # all of them on an empty database, else the ones it lacks
    _complete_older_tables(conn)
    for ddl in SEARCH_INDEX.get(conn.dialect.name, []):
        conn.exec_driver_sql(ddl)
    _fill_phone_keys(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for ddl in DROP_SEARCH_INDEX.get(conn.dialect.name, []):
        conn.exec_driver_sql(ddl)
    BASELINE.drop_all(conn)


def _complete_older_tables(conn: sa.Connection) -> None:
    """A table an older create_schema made: the nullable columns and the indexes added since."""
    inspector = sa.inspect(conn)
    for table in BASELINE.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is missing and not nullable: this database is"
                                   " older than any version create_schema could bring forward")
            op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexed = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(conn)


def _fill_phone_keys(conn: sa.Connection) -> None:
    """Complaints written before `phone_key` existed get it, so intake finds their customer."""
    complaint = BASELINE.tables["complaint"]
    missing = conn.execute(sa.select(complaint.c.id, complaint.c.complainant_phone)
                           .where(complaint.c.phone_key.is_(None))).all()
    if missing:
        conn.execute(complaint.update().where(complaint.c.id == sa.bindparam("row_id"))
                     .values(phone_key=sa.bindparam("key")),
                     [{"row_id": row_id, "key": normalised_phone(phone)} for row_id, phone in missing])
