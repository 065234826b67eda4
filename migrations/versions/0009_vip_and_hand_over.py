"""#16 items 6-7: VIP service and shift hand-over. complaint.queue (the VIP queue a VIP customer's
case is routed to) and the case's owner (owner_id, owner_name, owner_unit: the seat that took it into
handling or was handed it). Nullable: a case written before has no queue and no owner yet."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations import add_missing_columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (("queue", True), ("owner_id", True), ("owner_name", False), ("owner_unit", True))  # (name, indexed)


def upgrade() -> None:
    add_missing_columns("complaint", [sa.Column(name, sa.String(), nullable=True) for name, _ in COLUMNS],
                        indexed=tuple(name for name, indexed in COLUMNS if indexed))


def downgrade() -> None:
    for name, indexed in reversed(COLUMNS):
        if indexed:
            op.drop_index(f"ix_complaint_{name}", table_name="complaint")
    with op.batch_alter_table("complaint") as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
