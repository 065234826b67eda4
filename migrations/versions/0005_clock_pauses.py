"""#16 item 1: clock pauses (rules/pauses.py). complaint.paused_since (its customer clocks paused since,
indexed for the dashboard's count of paused cases) and dispatch.paused_at / pause_reason /
pause_ends_by / pause_ends_by_local (a dispatch's pause in force). Nullable: no case written before
was paused."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("complaint", sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_complaint_paused_since", "complaint", ["paused_since"])
    op.add_column("dispatch", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("dispatch", sa.Column("pause_reason", sa.String(), nullable=True))
    op.add_column("dispatch", sa.Column("pause_ends_by", sa.DateTime(timezone=True), nullable=True))
    op.add_column("dispatch", sa.Column("pause_ends_by_local", sa.String(), nullable=True))
    op.create_index("ix_dispatch_paused_at", "dispatch", ["paused_at"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_paused_at", table_name="dispatch")
    with op.batch_alter_table("dispatch") as batch_op:
        for column in ("pause_ends_by_local", "pause_ends_by", "pause_reason", "paused_at"):
            batch_op.drop_column(column)
    op.drop_index("ix_complaint_paused_since", table_name="complaint")
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_column("paused_since")
