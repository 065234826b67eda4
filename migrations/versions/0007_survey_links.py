"""#16 item 4: satisfaction survey links (filled in by that change; no schema change yet)."""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
