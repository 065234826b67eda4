"""The read model's database (SQLite file by default, PostgreSQL by URL), its schema, and its
stores, one per capability: `read_model.complaints`, `.dispatches`, `.contacts`, `.judgements`,
`.outbox`, `.knowledge`, each on the one engine and writer mutex."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from readmodel import knowledge
from readmodel.complaints import ComplaintStore
from readmodel.contacts import ContactStore
from readmodel.dispatches import DispatchStore
from readmodel.judgements import JudgementStore
from readmodel.knowledge import KnowledgeBase
from readmodel.outbox import Outbox
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

    @property
    def write_lock(self) -> Any:
        """Held around every write of this process to the read model's database."""
        return self._write_lock

    def create_schema(self) -> None:
        """Safe when the API and several workers start at once on an empty database: whoever
        loses the race to create a table tries again and finds it made."""
        for attempt in range(5):
            try:
                SQLModel.metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    knowledge.create_search_index(conn)  # FTS5 table / GIN index: DDL, not SQLModel tables
                return
            except DBAPIError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def dispose(self) -> None:
        self.engine.dispose()
