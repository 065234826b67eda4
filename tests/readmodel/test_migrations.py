"""Schema migrations (readmodel/migrate.py, migrations/): an upgrade never costs a row, an empty
database gets the whole schema, head is what readmodel/tables.py declares, and the API and the
workers refuse a schema that is not at head. SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from readmodel import migrate
from readmodel.store import ReadModel, make_engine
from rules.knowledge import Outcome
from settings import ROOT

RELEASED = Path(__file__).parent / "released"  # the DDL release 820cc30's create_schema ran
AT = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


def released_database(url: str) -> sa.Engine:
    """A database exactly as the last release left it: its tables, indexes and full-text index, and
    no alembic_version (that release had no migrations)."""
    engine = make_engine(url)
    ddl = "\n".join(line for line in (RELEASED / f"820cc30.{engine.dialect.name}.sql").read_text().splitlines()
                    if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";\n")):
            conn.exec_driver_sql(statement)
    return engine


def released_tables(engine: sa.Engine) -> sa.MetaData:
    names = [line.split()[2] for line in (RELEASED / f"820cc30.{engine.dialect.name}.sql").read_text().splitlines()
             if line.startswith("CREATE TABLE ")]
    metadata = sa.MetaData()
    metadata.reflect(engine, only=names)
    return metadata


def a_row(table: sa.Table, sqlite: bool) -> dict[str, Any]:
    """A value in every column, told apart by table and column; instants as the app stores them."""
    values: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        if kind is datetime:
            values[column.name] = AT.replace(tzinfo=None) if sqlite else AT
        elif kind is bool:
            values[column.name] = True
        elif kind is int:
            values[column.name] = 7
        elif kind is dict:
            values[column.name] = {"column": column.name, "list": [1, "二"]}
        else:
            values[column.name] = f"{table.name}.{column.name} 值"
    if table.name == "knowledge_entry":  # searchable, as a closing writes it
        values |= {"outcome": Outcome.SATISFIED.value, "terms": "parcel delayed 延误"}
    return values


def test_the_released_schema_with_a_row_in_every_table_upgrades_to_head_and_every_row_is_found(database_url: str) -> None:
    engine = released_database(database_url)
    sqlite = engine.dialect.name == "sqlite"
    tables = released_tables(engine)
    written = {name: a_row(table, sqlite) for name, table in tables.tables.items()}
    with engine.begin() as conn:
        for name, row in written.items():
            conn.execute(tables.tables[name].insert().values(row))
        if sqlite:  # the release's closing wrote the entry's words to the FTS5 table too
            conn.exec_driver_sql("INSERT INTO knowledge_fts (complaint_id, terms) VALUES (?, ?)",
                                 (written["knowledge_entry"]["complaint_id"], written["knowledge_entry"]["terms"]))
    engine.dispose()
    assert len(written) == 12  # every table of that release (readmodel/tables.py at 820cc30 declares 12)

    upgraded = ReadModel(database_url)
    upgraded.create_schema()
    try:
        assert migrate.current(upgraded.engine) == migrate.head()
        assert migrate.differences(upgraded.engine) == []
        with upgraded.engine.connect() as conn:
            for name, row in written.items():
                table = SQLModel.metadata.tables[name]  # read as the app reads: aware instants, JSON decoded
                (found,) = conn.execute(sa.select(*(table.c[c] for c in row))).mappings().all()
                expected = {c: (AT if isinstance(v, datetime) else v) for c, v in row.items()}
                assert dict(found) == expected, name
        # the knowledge base's full-text index came through and still finds the entry
        hits = upgraded.knowledge.search("delayed")
        assert [h.complaint_id for h in hits] == [written["knowledge_entry"]["complaint_id"]]
        upgraded.require_schema()  # the API and the workers now start on it
    finally:
        upgraded.dispose()


def test_an_empty_database_upgrades_to_every_table_of_the_models(database_url: str) -> None:
    read_model = ReadModel(database_url)
    try:
        with pytest.raises(migrate.SchemaNotAtHead, match="has no schema revision"):
            read_model.require_schema()
        read_model.create_schema()
        found = set(sa.inspect(read_model.engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= found
        assert "alembic_version" in found
        assert migrate.current(read_model.engine) == migrate.head()
        read_model.create_schema()  # every test and bench calls it again on the same database: nothing to do
        read_model.require_schema()
    finally:
        read_model.dispose()


def test_head_is_exactly_what_readmodel_tables_declares(database_url: str) -> None:
    read_model = ReadModel(database_url)
    read_model.create_schema()
    try:
        found = migrate.differences(read_model.engine)
    finally:
        read_model.dispose()
    assert found == [], (
        f"readmodel/tables.py and the migrations' head differ on {read_model.engine.dialect.name}: {found}\n"
        "add a revision: `make migration m='what changed'` writes it to migrations/versions/; review and commit it")


def test_the_comparison_finds_what_a_revision_left_out(database_url: str) -> None:
    """What the previous test relies on: a column or index the models have and the database lacks is a difference."""
    read_model = ReadModel(database_url)
    read_model.create_schema()
    try:
        with read_model.engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_requirement_category")
            conn.exec_driver_sql("ALTER TABLE requirement DROP COLUMN demand")
        found = migrate.differences(read_model.engine)
    finally:
        read_model.dispose()
    assert sorted((d[0], _name(d)) for d in found) == [("add_column", "demand"), ("add_index", "ix_requirement_category")]


def _name(difference: Any) -> str:
    kind, *rest = difference
    return rest[-1].name if kind == "add_column" else rest[0].name


def test_a_database_upgraded_by_a_newer_version_is_refused_by_name(database_url: str) -> None:
    read_model = ReadModel(database_url)
    read_model.create_schema()
    try:
        with read_model.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        with pytest.raises(migrate.SchemaNotAtHead, match="9999, which this version does not know"):
            read_model.require_schema()
    finally:
        read_model.dispose()


def test_the_upgrade_command_and_the_check_an_operator_runs(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'readmodel.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "readmodel.migrate", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    before = run("check")
    assert before.returncode == 1 and "python -m readmodel.migrate" in before.stderr
    upgraded = run()
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"none -> {migrate.head()} (head)" in upgraded.stdout
    assert run("check").returncode == 0


def test_an_upgrade_that_fails_part_way_leaves_the_database_as_it_was(database_url: str, tmp_path: Path) -> None:
    """All revisions run in one transaction: a revision that fails after the others ran (and after
    its own DDL) rolls back every one of them, on SQLite as on PostgreSQL."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_fails.py").write_text(
        f'import sqlalchemy as sa\nfrom alembic import op\nrevision = "9999"\ndown_revision = "{migrate.head()}"\n'
        "def upgrade():\n"
        '    op.create_table("half_made", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    raise RuntimeError("a revision that fails")\n')
    engine = make_engine(database_url)
    try:
        with pytest.raises(RuntimeError, match="a revision that fails"):
            migrate.upgrade(engine, scripts)
        assert sa.inspect(engine).get_table_names() == []  # not the baseline's tables, nor half_made, nor alembic_version
        migrate.upgrade(engine)  # the real revisions then run as on any empty database
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()
