"""#16 item 1: clock pauses (rules/pauses.py). complaint.paused_since (its customer clocks paused since,
indexed for the dashboard's count of paused cases) and dispatch.paused_at / pause_reason /
pause_ends_by / pause_ends_by_local (a dispatch's pause in force). Nullable: no case written before
was paused. A database made by create_schema with them already keeps them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations import add_missing_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# table → the columns this revision adds, and the indexes on them.
COLUMNS = {
    "complaint": [sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True)],
    "dispatch": [sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
                 sa.Column("pause_reason", sa.String(), nullable=True),
                 sa.Column("pause_ends_by", sa.DateTime(timezone=True), nullable=True),
                 sa.Column("pause_ends_by_local", sa.String(), nullable=True)],
}
INDEXES = {"complaint": ("ix_complaint_paused_since", "paused_since"), "dispatch": ("ix_dispatch_paused_at", "paused_at")}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        add_missing_columns(table, columns, indexed=(INDEXES[table][1],))


def downgrade() -> None:
    op.drop_index("ix_dispatch_paused_at", table_name="dispatch")
    with op.batch_alter_table("dispatch") as batch_op:
        for column in ("pause_ends_by_local", "pause_ends_by", "pause_reason", "paused_at"):
            batch_op.drop_column(column)
    op.drop_index("ix_complaint_paused_since", table_name="complaint")
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_column("paused_since")
