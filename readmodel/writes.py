"""How every store writes the read model: the row moves forward, each event is inserted once.

A workflow's read-model writes are retried and replayed, and may arrive out of order. So a row is
written only if its stored `last_seq` is older than the write's (a replayed older change never
wins), and an event row is keyed by "<workflow id>:<seq>" and inserted once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, bindparam, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from rules.actors import Actor


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Store:
    """A store of one capability on the read model's engine, its writes under the read model's
    writer mutex (SQLite has one writer at a time; PostgreSQL needs none)."""

    def __init__(self, engine: Engine, write_lock: AbstractContextManager[Any] | None = None) -> None:
        self.engine = engine
        self._write_lock = write_lock or contextlib.nullcontext()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, under the writer mutex."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn


@dataclass(frozen=True)
class Forward:
    """One write of a row and its events. `state`: the columns that move forward, `last_seq` among
    them; `created`: the columns only a creation sets, or None for a change of a row made before
    (an unknown row stays unmade, its events are still written)."""

    row_id: str
    state: Mapping[str, Any]
    events: Sequence[Mapping[str, Any]]
    created: Mapping[str, Any] | None = None


Change = TypeVar("Change")


class ForwardStore(Store, Generic[Change]):
    """A store whose rows move forward and whose events are inserted once. The statements are
    built once per shape of columns: building them is most of a write's CPU."""

    rows: ClassVar[Any]  # the row table's model
    events: ClassVar[Any]  # the event table's model
    owner: ClassVar[str]  # the event column that holds the row's id

    def __init__(self, engine: Engine, write_lock: AbstractContextManager[Any] | None = None) -> None:
        super().__init__(engine, write_lock)
        self._insert = insert_for(engine.dialect.name)
        self._statements: dict[tuple[str, tuple[str, ...]], Any] = {}

    def record(self, changes: Sequence[Change]) -> None:
        """Write the changes in one transaction, each through `forward`. Idempotent: a retried or
        replayed write finds its event rows and never moves a row back.

        A write under a seq already written replaces it, row and event alike. The same seq may carry
        another event: a workflow task whose worker died after its local activity wrote here is
        run again, and may go another way (`workflow.now()` is the new attempt's, so a warning past
        its due instant is no longer told and the next event takes its seq). Only the later
        attempt's can reach the history; kept first-come, it lost a ticket's first rung."""
        with self.transaction() as conn:
            for change in changes:
                self.advance(conn, self.forward(change))

    def forward(self, change: Change) -> Forward:
        """What one change writes: the store's own mapping from its workflow's message."""
        raise NotImplementedError

    def advance(self, conn: Connection, write: Forward) -> None:
        """The row forward (only over an older `last_seq`, or the same one written again), then its
        events, each once (a second write of one replaces it)."""
        if write.created is not None:
            conn.execute(self._statement("create", tuple(write.state)), {**write.created, **write.state})
        else:
            conn.execute(self._statement("advance", tuple(write.state)), {**write.state, "row_id": write.row_id})
        if write.events:
            conn.execute(self._statement("events", ()), list(write.events))

    def with_events(self, row_id: str) -> tuple[Any, list[Any]] | None:
        """The row and its events in seq order, or None for an unknown row."""
        with Session(self.engine) as session:
            row = session.get(self.rows, row_id)
            if row is None:
                return None
            owner = getattr(self.events, self.owner)
            return row, list(session.exec(select(self.events).where(owner == row_id).order_by(self.events.seq)).all())

    def _statement(self, kind: str, columns: tuple[str, ...]) -> Any:
        key = (kind, columns)
        if (stmt := self._statements.get(key)) is not None:
            return stmt
        rows, events = self.rows.__table__, self.events.__table__
        if kind == "create":
            # Create the row; a replayed creation only moves it forward, never back.
            insert = self._insert(rows)
            set_ = {k: getattr(insert.excluded, k) for k in columns}
            if "updated_at" in set_:
                set_["updated_at"] = _when_moved(rows, insert.excluded.last_seq, insert.excluded.updated_at)
            stmt = insert.on_conflict_do_update(
                index_elements=[rows.c.id], set_=set_, where=rows.c.last_seq <= insert.excluded.last_seq,
            )
        elif kind == "advance":
            values = {k: bindparam(k) for k in columns}
            if "updated_at" in values:
                values["updated_at"] = _when_moved(rows, bindparam("last_seq"), bindparam("updated_at"))
            stmt = (
                rows.update()
                .where(rows.c.id == bindparam("row_id"), rows.c.last_seq <= bindparam("last_seq"))
                .values(values)
            )
        else:
            insert = self._insert(events)
            stmt = insert.on_conflict_do_update(
                index_elements=[events.c.id],
                set_={c.name: getattr(insert.excluded, c.name) for c in events.columns if c.name != "id"},
            )
        self._statements[key] = stmt
        return stmt


def _when_moved(rows: Any, last_seq: Any, updated_at: Any) -> Any:
    """The row's `updated_at`: kept when the same seq is written again (no change), else the new one."""
    return case((rows.c.last_seq == last_seq, rows.c.updated_at), else_=updated_at)


class Event(Protocol):
    """What every workflow's timeline entry has: complaints', contacts', dispatches', judgements'."""

    seq: int
    at: datetime
    actor: Actor
    action: Any  # the kind's action enum, or its value
    from_status: Any
    to_status: Any
    detail: dict[str, Any]


def event_columns(workflow_id: str, event: Event) -> dict[str, Any]:
    """The columns every event table shares; the id "<workflow id>:<seq>" lets a retried write find its row."""
    action = event.action
    return {
        "id": f"{workflow_id}:{event.seq}", "seq": event.seq, "at": event.at,
        "actor_id": event.actor.id, "actor_role": event.actor.role.value, "actor_unit": event.actor.unit,
        "action": action.value if isinstance(action, Enum) else action,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value, "detail": event.detail,
    }


def timeline_columns(workflow_id: str, case_id: str, event: Event) -> dict[str, Any]:
    """A row of `timeline_event`, the timeline complaints and contacts share (`complaint_id` holds the case's id)."""
    return {**event_columns(workflow_id, event), "complaint_id": case_id, "actor_name": event.actor.name}
