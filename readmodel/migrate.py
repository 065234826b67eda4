"""The read model's schema, versioned with Alembic (revisions in migrations/versions/, the first
being the last release's schema).

- `upgrade(engine)` brings a database to head: an empty one, one at any revision, or one made by
  `create_schema` before migrations existed (tables, no alembic_version: the baseline revision
  completes it rather than creating it). All revisions run in one transaction under the
  database's write lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock), so processes
  that start together wait for the first one and then find nothing to do.
- `require_head(engine)` is what the API and the workers call at start: they never change the
  schema, they refuse to run on one that is not theirs, naming the command that upgrades it.
- `differences(engine)` is autogenerate's comparison of the database with readmodel/tables.py.

Run `python -m readmodel.migrate` (upgrade; `make run` and compose's readmodel-schema step run it),
`... check`, `... current`, or `... revision -m "what changed"` (`make migration`) to write the
revision a change to readmodel/tables.py needs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

import migrations
import readmodel.tables  # noqa: F401  (every table joins SQLModel.metadata)
from readmodel.engine import make_engine
from readmodel.tables import UTCDateTime

__all__ = ["SchemaNotAtHead", "UPGRADE_COMMAND", "differences", "head", "require_head", "upgrade"]

UPGRADE_COMMAND = "python -m readmodel.migrate"
MIGRATIONS = Path(migrations.__file__).parent
# pg_advisory_xact_lock's key for "the read model's schema is being changed" (any fixed bigint).
SCHEMA_LOCK = 0x636F6D706C61696E  # "complain"
# Not SQLModel tables, made by the baseline revision: SQLite's FTS5 table (and the shadow tables
# FTS5 keeps beside it) and PostgreSQL's GIN index for the knowledge base's full-text search.
SEARCH_INDEX_OBJECTS = re.compile(r"knowledge_fts(_\w+)?|ix_knowledge_entry_terms")
_ALEMBIC_LOG = logging.getLogger("alembic.runtime.migration")


class SchemaNotAtHead(RuntimeError):
    """The database's schema is not the one this version of the code was written for."""


def config(connection: Connection | None = None, scripts: Path = MIGRATIONS) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The database's revision; None for an empty database or one made before migrations."""
    quiet = _ALEMBIC_LOG.level
    _ALEMBIC_LOG.setLevel(logging.WARNING)  # not "Context impl SQLiteImpl." at every start-up
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        _ALEMBIC_LOG.setLevel(quiet)


def upgrade(engine: Engine, scripts: Path = MIGRATIONS) -> None:
    with _schema_locked(engine) as conn:
        command.upgrade(config(conn, scripts), "head")


def require_head(engine: Engine) -> None:
    found, needed = current(engine), head()
    if found == needed:
        return
    if found is None:
        state = "has no schema revision (an empty database, or one made before migrations)"
    elif found in {s.revision for s in ScriptDirectory.from_config(config()).walk_revisions()}:
        state = f"is at revision {found}"
    else:
        raise SchemaNotAtHead(f"the read model's schema is at revision {found}, which this version does not know"
                              f" (it needs {needed}): the database was upgraded by a newer version; run that one")
    raise SchemaNotAtHead(f"the read model's schema {state}; this version needs revision {needed}:"
                          f" run `{UPGRADE_COMMAND}` first (`make run` and compose's readmodel-schema step do)")


def differences(engine: Engine) -> list[Any]:
    """What the database's schema and readmodel/tables.py disagree on (empty when they agree)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": compared})
        return list(compare_metadata(context, SQLModel.metadata))


def compared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Which database objects autogenerate compares with the models: not the full-text index."""
    return not (name and SEARCH_INDEX_OBJECTS.fullmatch(name))


def render_column_type(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Revisions spell the models' column types in plain SQLAlchemy, so they never import the models."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type(obj).__name__ == "AutoString":  # sqlmodel's str column
        return "sa.String()"
    return False


@contextlib.contextmanager
def _schema_locked(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that holds the database's write lock until it commits."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                yield conn
            return
        # pysqlite begins transactions only before DML and commits before DDL: take that over, so
        # the DDL runs in the transaction and BEGIN IMMEDIATE takes the write lock at once.
        driver = conn.connection.dbapi_connection
        isolation = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            driver.isolation_level = isolation  # type: ignore[union-attr]


def write_revision(message: str) -> Path:
    """A new revision for what readmodel/tables.py has and head lacks, autogenerated against a
    scratch SQLite database at head: review it (SQLite and PostgreSQL both run it), then commit it."""
    scripts = ScriptDirectory.from_config(config())
    number = max((int(s.revision) for s in scripts.walk_revisions() if s.revision.isdigit()), default=0) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/head.db")
        try:
            upgrade(engine)
            with engine.connect() as conn:
                script = command.revision(config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}")
        finally:
            engine.dispose()
    return Path(script.path)  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=UPGRADE_COMMAND, description="The read model's schema migrations.")
    parser.add_argument("action", nargs="?", default="upgrade", choices=["upgrade", "check", "current", "revision"])
    parser.add_argument("-m", "--message", help="revision: what changed, e.g. 'complaint.deidentified_at'")
    args = parser.parse_args(argv)
    if args.action == "revision":
        if not args.message:
            parser.error("revision needs -m 'what changed'")
        print(f"wrote {write_revision(args.message)}: review it, then commit it")
        return 0

    from settings import get_settings  # noqa: PLC0415 (settings only where the command runs)

    engine = make_engine(get_settings().database_url)
    try:
        if args.action == "upgrade":
            before = current(engine)
            upgrade(engine)
            print(f"read model schema: {before or 'none'} -> {current(engine)} (head)")
        elif args.action == "current":
            print(f"read model schema: {current(engine) or 'none'}; head {head()}")
        else:
            require_head(engine)
            if found := differences(engine):
                print(f"the database differs from readmodel/tables.py: {found}", file=sys.stderr)
                return 1
            print(f"read model schema at head {head()}, as readmodel/tables.py declares")
    except SchemaNotAtHead as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
