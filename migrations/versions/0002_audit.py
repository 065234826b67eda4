"""The audit log of customer data (readmodel/audit.py): one append-only row per reveal, export,
decode or erasure. A database made by create_schema after the audit log existed (before migrations)
has the table already and keeps it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("audit"):
        return
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("case_id", sa.String()),
        sa.Column("reason", sa.String()),
    )
    for column in ("at", "actor_id", "action", "case_id"):
        op.create_index(f"ix_audit_{column}", "audit", [column])


def downgrade() -> None:
    op.drop_table("audit")
