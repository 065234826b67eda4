"""A read model made by an older version, before migrations existed (its create_schema made the
tables, and no alembic_version), keeps working (SQLite and PostgreSQL): the upgrade finds its tables,
brings them to the baseline (the nullable columns and indexes added since, the complaints' phone
keys, so intake finds an earlier customer however the phone was written), then runs the revisions
after it. tests/readmodel/test_migrations.py upgrades the last release's schema itself."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from readmodel import migrate
from readmodel.store import ReadModel
from tests.factories import complaint_body
from tests.readmodel.test_postgres import a_filing
from workflows.complaint_messages import intake_changes


def test_a_database_made_before_migrations_gets_the_new_columns_indexes_and_tables(database_url: str) -> None:
    older = ReadModel(database_url)
    older.create_schema()
    filing = a_filing("C-old", body=complaint_body(complainant={"name": "Li Na", "phone": "+86 138 0013 8000"}))
    older.complaints.record(intake_changes(filing))
    with older.engine.begin() as conn:  # back to the schema before #13, made before migrations
        for index in ("ix_complaint_phone_key", "ix_complaint_priority_next_due"):
            conn.exec_driver_sql(f"DROP INDEX {index}")
        conn.exec_driver_sql("ALTER TABLE complaint DROP COLUMN phone_key")
        for table in ("idempotency_key", "duplicate_claim", "requirement", "audit", "alembic_version"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
    older.dispose()

    upgraded = ReadModel(database_url)
    upgraded.create_schema()
    try:
        found = inspect(upgraded.engine)
        assert "phone_key" in {c["name"] for c in found.get_columns("complaint")}
        assert {"ix_complaint_phone_key", "ix_complaint_priority_next_due"} <= {
            i["name"] for i in found.get_indexes("complaint")}
        assert {"idempotency_key", "duplicate_claim", "requirement", "audit"} <= set(found.get_table_names())
        assert migrate.current(upgraded.engine) == migrate.head()
        assert migrate.differences(upgraded.engine) == []
        # the older row's customer is found by the phone written another way
        _, earlier = upgraded.complaints.intake_context(
            "C-new", phone="13800138000", tracking_number=None, since=filing.intake.received_at - timedelta(days=1))
        assert [e.complaint_id for e in earlier] == ["C-old"]
    finally:
        upgraded.dispose()
