"""#16 item 5: merge and split. complaint.merged_into, indexed: the complaint a merged one is handled
under (rules/merging.py); the target's merged complaints and the measures' exclusion read it.
Nullable: a complaint written before was never merged. A database made by create_schema with the
column (before migrations, as tests/readmodel/test_older_database.py makes one) keeps it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations import add_missing_columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing_columns("complaint", [sa.Column("merged_into", sa.String(), nullable=True)], indexed=("merged_into",))


def downgrade() -> None:
    op.drop_index("ix_complaint_merged_into", table_name="complaint")
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_column("merged_into")
