"""complaint.deidentified_at and contact.deidentified_at (readmodel/retention.py): when a closed case's
names, phones and addresses were replaced. Nullable: every case written before has none. A database
made by create_schema after the column existed (before migrations) has it already and keeps it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("complaint", "contact")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        if "deidentified_at" not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("deidentified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("deidentified_at")
