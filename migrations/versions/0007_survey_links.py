"""#16 item 4: the satisfaction survey links texted to customers (readmodel/surveys.py): one row per
link, its token's digest unique, taken once by a compare-and-set on `used_at`, so a link answers
once whichever API replica its requests reach."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("survey_link"):
        return  # a database made by create_schema before migrations has it already, and keeps it
    op.create_table(
        "survey_link",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("token_digest", sa.String(), nullable=False, unique=True),
        sa.Column("complaint_id", sa.String(), nullable=False),
        sa.Column("handling_round", sa.Integer()),
        sa.Column("issued_by", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("rating", sa.Integer()),
        sa.Column("satisfied", sa.Boolean()),
        sa.Column("outcome", sa.String()),
    )
    op.create_index("ix_survey_link_complaint_id", "survey_link", ["complaint_id"])
    op.create_index("ix_survey_link_issued_at", "survey_link", ["issued_at"])


def downgrade() -> None:
    op.drop_table("survey_link")
