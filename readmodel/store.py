"""The read model's database (SQLite file by default, PostgreSQL by URL), its schema, and its
stores, one per capability: `read_model.complaints`, `.dispatches`, `.contacts`, `.judgements`,
`.outbox`, `.knowledge`, `.requirements`, `.claims` (intake's keys), `.audit`, each on the one engine and writer mutex."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from readmodel import knowledge
from readmodel.audit import AuditLog
from readmodel.complaints import ComplaintStore, fill_phone_keys
from readmodel.contacts import ContactStore
from readmodel.dispatches import DispatchStore
from readmodel.intake import IntakeClaims
from readmodel.judgements import JudgementStore
from readmodel.knowledge import KnowledgeBase
from readmodel.outbox import Outbox
from readmodel.requirements import RequirementStore
import readmodel.tables  # noqa: F401  (every table joins SQLModel.metadata for create_schema)

__all__ = ["ReadModel", "make_engine"]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if path in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            # WAL lets the API read while the worker writes; the busy timeout rides out writer overlap.
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class ReadModel:
    """The database and its stores, one per capability, all on one engine and one writer mutex."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        # SQLite has one writer at a time and its busy handler waits by sleeping (up to 100 ms a
        # try): queue this process's writers on a mutex instead. PostgreSQL needs none.
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self.complaints = ComplaintStore(self.engine, self._write_lock)
        self.dispatches = DispatchStore(self.engine, self._write_lock)
        self.contacts = ContactStore(self.engine, self._write_lock)
        self.judgements = JudgementStore(self.engine, self._write_lock)
        self.outbox = Outbox(self.engine, self._write_lock)
        self.knowledge = KnowledgeBase(self.engine, self._write_lock)
        self.requirements = RequirementStore(self.engine, self._write_lock)
        self.claims = IntakeClaims(self.engine, self._write_lock)
        self.audit = AuditLog(self.engine, self._write_lock)

    @property
    def write_lock(self) -> Any:
        """Held around every write of this process to the read model's database."""
        return self._write_lock

    def create_schema(self) -> None:
        """Safe when the API and several workers start at once on an empty database: whoever
        loses the race to create a table tries again and finds it made. A database made by an
        older version gets the nullable columns and the indexes added since (and the complaints
        their phone keys); anything more is a migration."""
        for attempt in range(5):
            try:
                SQLModel.metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    _add_columns_and_indexes(conn)
                    knowledge.create_search_index(conn)  # FTS5 table / GIN index: DDL, not SQLModel tables
                    fill_phone_keys(conn)
                return
            except DBAPIError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def dispose(self) -> None:
        self.engine.dispose()


def _add_columns_and_indexes(conn: Connection) -> None:
    """What create_all leaves out on a table that exists: its new nullable columns and new indexes."""
    inspector = inspect(conn)
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is not nullable: the database needs a migration")
            conn.exec_driver_sql(
                f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(conn.dialect)}")
        indexed = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(conn)
