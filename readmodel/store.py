"""The read model's database (SQLite file by default, PostgreSQL by URL), its schema, and its
stores, one per capability: `read_model.complaints`, `.dispatches`, `.contacts`, `.judgements`,
`.outbox`, `.knowledge`, `.requirements`, `.claims` (intake's keys), `.audit`, `.surveys`, each on the one engine and writer mutex."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from readmodel import knowledge, migrate
from readmodel.audit import AuditLog
from readmodel.complaints import ComplaintStore
from readmodel.contacts import ContactStore
from readmodel.dispatches import DispatchStore
from readmodel.engine import make_engine
from readmodel.intake import IntakeClaims
from readmodel.judgements import JudgementStore
from readmodel.knowledge import KnowledgeBase
from readmodel.outbox import Outbox
from readmodel.requirements import RequirementStore
from readmodel.surveys import SurveyLinks

__all__ = ["ReadModel", "make_engine"]


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
        self.surveys = SurveyLinks(self.engine, self._write_lock)

    @property
    def write_lock(self) -> Any:
        """Held around every write of this process to the read model's database."""
        return self._write_lock

    def create_schema(self) -> None:
        """Bring the database's schema to head (readmodel/migrate.py): an empty database, one at an
        earlier revision, or one made before migrations existed. Safe when several processes start
        at once: they take turns, and the later ones find nothing to do. Deployments run it once,
        before the API and the workers (`python -m readmodel.migrate`); tests and benches call it."""
        migrate.upgrade(self.engine)

    def require_schema(self) -> None:
        """What the API and the workers call at start: refuse a schema that is not at head, naming the
        command that upgrades it, rather than fail at the first query that meets a missing column."""
        migrate.require_head(self.engine)
        knowledge.load_dictionary()

    def dispose(self) -> None:
        self.engine.dispose()

