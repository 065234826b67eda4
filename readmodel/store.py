"""The read model's database (SQLite file by default, PostgreSQL by URL), its schema, and its
stores, one per capability: `read_model.complaints`, `.dispatches`, `.contacts`, `.judgements`,
`.outbox`, `.knowledge`, each on the one engine and writer mutex."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

from readmodel import knowledge
from readmodel.complaints import SORTABLE, ComplaintFilter, ComplaintStore
from readmodel.contacts import ContactStore
from readmodel.dispatches import DispatchStore
from readmodel.judgements import JudgementStore
from readmodel.knowledge import KnowledgeBase
from readmodel.outbox import Outbox
from readmodel.tables import ComplaintRow, DispatchEventRow, DispatchRow, TimelineEventRow  # every table, for create_schema
from rules.repeats import EarlierComplaint
from workflows.complaint_messages import ComplaintChange
from workflows.dispatch_messages import DispatchChange

__all__ = ["SORTABLE", "ComplaintFilter", "ReadModel", "make_engine"]  # the first two: still imported from here by the API


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

    # -- delegations to the stores, while the API still calls them here (they go with its rework) --

    def record(self, changes: Sequence[ComplaintChange]) -> None:
        self.complaints.record(changes)

    def get(self, complaint_id: str) -> tuple[ComplaintRow, list[TimelineEventRow]] | None:
        return self.complaints.get(complaint_id)

    def find(self, complaint_id: str) -> ComplaintRow | None:
        return self.complaints.find(complaint_id)

    def search(self, flt: ComplaintFilter, *, offset: int, limit: int, sort: str,
               descending: bool) -> tuple[list[ComplaintRow], int]:
        return self.complaints.search(flt, offset=offset, limit=limit, sort=sort, descending=descending)

    def earlier_complaints(self, *, phone: str, tracking_number: str | None, since: datetime, exclude_id: str) -> int:
        return self.complaints.earlier_complaints(phone=phone, tracking_number=tracking_number, since=since,
                                                  exclude_id=exclude_id)

    def intake_context(self, complaint_id: str, *, phone: str, tracking_number: str | None,
                       since: datetime) -> tuple[ComplaintRow | None, list[EarlierComplaint]]:
        return self.complaints.intake_context(complaint_id, phone=phone, tracking_number=tracking_number, since=since)

    def record_dispatch(self, changes: Sequence[DispatchChange]) -> None:
        self.dispatches.record(changes)

    def dispatch(self, dispatch_id: str) -> tuple[DispatchRow, list[DispatchEventRow]] | None:
        return self.dispatches.get(dispatch_id)
