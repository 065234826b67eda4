"""The read model's schema migrations (Alembic): env.py and one revision per schema change in
versions/, run by readmodel/migrate.py (`python -m readmodel.migrate`)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def add_missing_columns(table: str, columns: list[sa.Column], indexed: tuple[str, ...] = ()) -> None:
    """Add the columns (and `ix_<table>_<column>` indexes) a table lacks: a database made by
    create_schema before migrations (tests/readmodel/test_older_database.py makes one) may hold
    them already, and keeps them."""
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns(table)}
    for column in columns:
        if column.name not in present:
            op.add_column(table, column)
    indexes = {i["name"] for i in inspector.get_indexes(table)}
    for name in indexed:
        if f"ix_{table}_{name}" not in indexes:
            op.create_index(f"ix_{table}_{name}", table, [name])
