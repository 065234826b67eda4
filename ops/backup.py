"""Backup and restore of the read model: the system of record once Temporal's retention has removed
a closed case's history (and the home of the outbox, the judgements and the knowledge base).

    python -m ops.backup create [FILE]   # default data/backups/readmodel-<UTC time>.sqlite3 | .dump
    python -m ops.backup restore FILE    # stop the API and the workers first

DATABASE_URL says which database, as for the API and the workers.
- SQLite: SQLite's online backup API (`sqlite3.Connection.backup`), a consistent copy taken while
  the API and the workers keep writing (what is in the WAL included), as one self-contained file;
  restore copies it back the same way, page by page under the database's write lock.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot, online); restore replays it with
  `psql --single-transaction` after dropping the tables there: the database is the backup's or,
  if anything fails, stays as it was. The client tools are found on PATH, in $PG_BIN, or
  Debian's /usr/lib/postgresql/<newest>/bin; the password is passed in PGPASSWORD, never argv.

A backup holds the schema revision it was taken at: after a restore, `python -m readmodel.migrate`
brings it to this version's head (nothing to do when it is there already). It holds customer data
too (DOMAIN §9): the file is made 0600, and what retention removed after it was taken comes back
with a restore until retention runs again.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from settings import get_settings

DEBIAN_BIN = "/usr/lib/postgresql/*/bin"
# Restore drops what the database holds before replaying the dump: every table of the schema.
DROP_TABLES = """DO $$ DECLARE t text; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE public.%I CASCADE', t);
  END LOOP;
END $$;"""


class BackupFailed(RuntimeError):
    """A backup or restore did not complete; the message says why (never a password)."""


def create(database_url: str, target: Path | None = None) -> Path:
    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    target = target or default_target(sqlite)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")  # a crash never leaves a file that looks whole
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # customer data: readable by the operator's account alone (both writers keep the mode)
    if sqlite:
        _sqlite_copy(_sqlite_path(url), partial)
        with sqlite3.connect(partial) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal beside it
            if (verdict := copy.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                raise BackupFailed(f"the copy failed SQLite's integrity check: {verdict}")
        copy.close()
    else:
        _run(url, "pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}")
    partial.replace(target)
    return target


def restore(database_url: str, backup: Path) -> None:
    if not backup.is_file():
        raise BackupFailed(f"no backup file {backup}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(backup, _sqlite_path(url))
        return
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "restore.sql"
        _run(url, "pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(backup))  # to SQL
        _run(url, "psql", "--quiet", "--no-psqlrc", "--single-transaction", "--set=ON_ERROR_STOP=1",
             f"--command={DROP_TABLES}", f"--file={script}")


def default_target(sqlite: bool) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return get_settings().data_dir / "backups" / f"readmodel-{stamp}.{'sqlite3' if sqlite else 'dump'}"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("an in-memory SQLite database has nothing to back up or restore")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupFailed(f"no SQLite database at {source}")
    with sqlite3.connect(source, timeout=30) as src, sqlite3.connect(target, timeout=30) as dst:
        src.backup(dst)  # page by page; restarts by itself if a writer changes a page it copied
    src.close()
    dst.close()


def pg_tool(name: str) -> str:
    if bin_dir := os.environ.get("PG_BIN"):
        return str(Path(bin_dir) / name)
    if found := shutil.which(name):
        return found

    def major(path: str) -> int:
        return int(m[0]) if (m := re.findall(r"\d+", Path(path).parent.name)) else 0

    installed = sorted((d for d in glob.glob(DEBIAN_BIN) if (Path(d) / name).exists()), key=major)
    if not installed:
        raise BackupFailed(f"{name} not found on PATH, in $PG_BIN or under {DEBIAN_BIN}: install PostgreSQL's client tools")
    return str(Path(installed[-1]) / name)


def _run(url: URL, tool: str, *args: str) -> None:
    env = {**os.environ, "PGHOST": url.host or "", "PGPORT": str(url.port or 5432), "PGUSER": url.username or "",
           "PGPASSWORD": url.password or "", "PGDATABASE": url.database or ""}
    result = subprocess.run([pg_tool(tool), *args], env={k: v for k, v in env.items() if v}, capture_output=True, text=True,
                            timeout=3600, check=False)
    if result.returncode != 0:
        raise BackupFailed(f"{tool} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.backup", description="Back up or restore the read model.")
    actions = parser.add_subparsers(dest="action", required=True)
    made = actions.add_parser("create", help="a consistent copy, while the API and workers run")
    made.add_argument("file", nargs="?", type=Path, help="where (default: data/backups/readmodel-<UTC time>.*)")
    back = actions.add_parser("restore", help="replace the read model with a backup (stop the API and workers first)")
    back.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    database_url = get_settings().database_url
    try:
        if args.action == "create":
            print(f"backup written: {create(database_url, args.file)}")
        else:
            restore(database_url, args.file)
            print(f"restored {args.file}; now run `python -m readmodel.migrate`, then start the API and the workers")
    except BackupFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
