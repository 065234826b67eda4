"""#16 items 6-7: VIP service and shift hand-over (filled in by that change; no schema change yet)."""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
