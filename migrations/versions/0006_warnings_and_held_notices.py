"""#16 items 2-3: warnings before a breach, notices held to quiet hours (filled in by that change; no schema change yet)."""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
