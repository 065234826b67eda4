"""Alembic's environment for the read model: run by readmodel/migrate.py on the connection it
holds (in one transaction, under the database's write lock); compares against every table of
readmodel/tables.py."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import readmodel.tables  # noqa: F401  (every table joins SQLModel.metadata)
from readmodel.migrate import compared, render_column_type

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=compared,
    compare_type=True,
    render_item=render_column_type,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    transactional_ddl=True,  # migrate.py holds one transaction for the whole upgrade, SQLite's too
)
with context.begin_transaction():
    context.run_migrations()
