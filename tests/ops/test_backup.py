"""Backup and restore of the read model (ops/backup.py), as an operator runs them, on SQLite (the
online backup API) and PostgreSQL (Debian's pg_dump / pg_restore / psql)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from readmodel.store import ReadModel
from settings import ROOT
from tests.factories import complaint_body
from tests.readmodel.conftest import database_url, postgres_cluster  # noqa: F401  (fixtures)
from tests.readmodel.postgres import find_bin_dir
from tests.readmodel.test_postgres import a_filing
from workflows.complaint_messages import intake_changes


def backup_command(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    if database_url.startswith("postgresql"):
        env["PG_BIN"] = str(find_bin_dir())  # Debian's tools of the server the tests run
    return subprocess.run([sys.executable, "-m", "ops.backup", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def timeline_ids(read_model: ReadModel, complaint_id: str) -> list[str]:
    found = read_model.complaints.get(complaint_id)
    assert found is not None, complaint_id
    return [event.id for event in found[1]]


def test_a_backup_taken_while_the_read_model_is_in_use_restores_exactly_what_it_held(
        database_url: str, tmp_path: Path) -> None:  # noqa: F811
    read_model = ReadModel(database_url)
    read_model.create_schema()
    read_model.complaints.record(intake_changes(a_filing("C-kept", body=complaint_body(
        complainant={"name": "Li Na", "phone": "13800138000"}))))
    kept_timeline = timeline_ids(read_model, "C-kept")
    backup = tmp_path / "backups" / "readmodel.backup"

    # Taken with the read model's engine open: on SQLite the complaint is still in the WAL.
    made = backup_command(database_url, "create", str(backup))
    assert made.returncode == 0, made.stderr
    assert backup.is_file() and not list(backup.parent.glob("*.partial"))
    assert backup.stat().st_mode & 0o777 == 0o600  # it holds customer data: the operator's account alone

    # After the backup: the complaint is lost (a bad edit), and another one is filed.
    with read_model.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM timeline_event WHERE complaint_id = 'C-kept'")
        conn.exec_driver_sql("DELETE FROM complaint WHERE id = 'C-kept'")
    read_model.complaints.record(intake_changes(a_filing("C-later")))
    read_model.dispose()  # the API and the workers are stopped for a restore

    restored = backup_command(database_url, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "python -m readmodel.migrate" in restored.stdout

    after = ReadModel(database_url)
    try:
        after.require_schema()  # the backup's schema revision came back with it: head, here
        assert timeline_ids(after, "C-kept") == kept_timeline
        assert after.complaints.find("C-later") is None  # the database is the backup's moment
        row = after.complaints.find("C-kept")
        assert row is not None and (row.complainant_name, row.complainant_phone) == ("Li Na", "13800138000")
    finally:
        after.dispose()


def test_a_restore_of_a_missing_file_changes_nothing_and_says_so(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'readmodel.db'}"
    read_model = ReadModel(database_url)
    read_model.create_schema()
    read_model.complaints.record(intake_changes(a_filing("C-1")))
    read_model.dispose()

    refused = backup_command(database_url, "restore", str(tmp_path / "no-such.backup"))

    assert refused.returncode == 1 and "no backup file" in refused.stderr
    after = ReadModel(database_url)
    try:
        assert after.complaints.find("C-1") is not None
    finally:
        after.dispose()
