"""#16 items 2-3: warnings before a breach. complaint.due_soon_from (a running clock's earliest warning
instant, what the dashboard's "due soon" reads through its index) and dispatch.warn_at / warn_at_local
(a dispatch's first warning before its due instant). Nullable: rows written before have none, and
are not due soon until their workflow writes them again. Held notices need no column: they are
dispatch timeline events."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations import add_missing_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing_columns("complaint", [sa.Column("due_soon_from", sa.DateTime(timezone=True), nullable=True)],
                        indexed=("due_soon_from",))
    add_missing_columns("dispatch", [sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
                                     sa.Column("warn_at_local", sa.String(), nullable=True)], indexed=("warn_at",))


def downgrade() -> None:
    op.drop_index("ix_dispatch_warn_at", table_name="dispatch")
    with op.batch_alter_table("dispatch") as batch_op:
        batch_op.drop_column("warn_at_local")
        batch_op.drop_column("warn_at")
    op.drop_index("ix_complaint_due_soon_from", table_name="complaint")
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_column("due_soon_from")
