"""Intake's keys in the read model, taken in one statement each so that API replicas racing on the
same request or the same complaint agree (SQLite's one writer; PostgreSQL's unique keys):

- an `Idempotency-Key` (or a channel's message id) is bound to the first request's caller, body and
  case; a request that finds it bound answers with that case, or is refused for another caller or body;
- a duplicate key (the customer's normalised phone, the parcel, the category) is claimed by the case
  that files first; the same complaint filed at the same moment through another channel finds the
  claim and joins that case instead of starting one (DOMAIN §2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from readmodel.tables import ComplaintRow, DuplicateClaimRow, IdempotencyKeyRow
from readmodel.writes import Store, insert_for
from rules.customer_data import normalised_phone

KEYS = IdempotencyKeyRow.__table__.c  # type: ignore[attr-defined]
CLAIMS = DuplicateClaimRow.__table__.c  # type: ignore[attr-defined]
COMPLAINTS = ComplaintRow.__table__.c  # type: ignore[attr-defined]


def duplicate_key(phone: str, tracking_number: str | None, category: str) -> str:
    """The same complaint's key (rules/repeats.py `duplicate_of` compares the same three), hashed:
    the claim table holds no phone number."""
    return hashlib.sha256(f"{normalised_phone(phone)}|{tracking_number or ''}|{category}".encode()).hexdigest()


@dataclass(frozen=True)
class Binding:
    """Who first used an idempotency key, with what body, and which case it answered with."""

    case_id: str
    caller: str
    fingerprint: str
    claimed_at: datetime
    taken: bool  # this request bound it (False: an earlier request had)


@dataclass(frozen=True)
class Holder:
    """The case holding a duplicate claim, and its status in the read model (None: still being filed)."""

    complaint_id: str
    received_at: datetime
    claimed_at: datetime
    status: str | None


class IntakeClaims(Store):
    def bind_key(self, key: str, *, caller: str, fingerprint: str, case_id: str, now: datetime) -> Binding:
        """Bind the key to this request unless an earlier one has; the binding as it stands."""
        row = {"key": key, "caller": caller, "fingerprint": fingerprint, "case_id": case_id, "claimed_at": now}
        with self.transaction() as conn:
            taken = _insert_once(conn, IdempotencyKeyRow, row, KEYS.key)
            return _binding(conn, key, taken)

    def binding(self, key: str) -> Binding | None:
        with self.engine.connect() as conn:
            return _binding(conn, key, taken=False)

    def rebind(self, key: str, *, claimed_at: datetime, now: datetime) -> bool:
        """Take over a binding whose request never filed its case (it died): true for the one
        request that moved `claimed_at` on from what it read."""
        with self.transaction() as conn:
            moved = conn.execute(IdempotencyKeyRow.__table__.update()  # type: ignore[attr-defined]
                                 .where(KEYS.key == key, KEYS.claimed_at == claimed_at).values(claimed_at=now))
            return moved.rowcount == 1

    def answered_with(self, key: str, case_id: str) -> None:
        """The request joined another, open case (a duplicate): a replay answers with that one."""
        with self.transaction() as conn:
            conn.execute(IdempotencyKeyRow.__table__.update().where(KEYS.key == key)  # type: ignore[attr-defined]
                         .values(case_id=case_id))

    def claim_duplicate(self, key: str, *, complaint_id: str, received_at: datetime, now: datetime) -> Holder:
        """Claim the duplicate key for this case unless a case holds it; the holder as it stands
        (this case when the claim was free or already its own)."""
        row = {"key": key, "complaint_id": complaint_id, "received_at": received_at, "claimed_at": now}
        with self.transaction() as conn:
            _insert_once(conn, DuplicateClaimRow, row, CLAIMS.key)
            return _holder(conn, key)

    def take_over(self, key: str, *, holder: str, complaint_id: str, received_at: datetime, now: datetime) -> bool:
        """Move the claim from a holder that no longer takes duplicates (closed, outside the window,
        never filed) to this case: true for the one request that moved it."""
        with self.transaction() as conn:
            moved = conn.execute(DuplicateClaimRow.__table__.update()  # type: ignore[attr-defined]
                                 .where(CLAIMS.key == key, CLAIMS.complaint_id == holder)
                                 .values(complaint_id=complaint_id, received_at=received_at, claimed_at=now))
            return moved.rowcount == 1

    def release(self, key: str, complaint_id: str) -> None:
        """Give the claim up when this case could not be started."""
        with self.transaction() as conn:
            conn.execute(DuplicateClaimRow.__table__.delete()  # type: ignore[attr-defined]
                         .where(CLAIMS.key == key, CLAIMS.complaint_id == complaint_id))


def _insert_once(conn: Connection, model: type, row: dict[str, object], key_column: object) -> bool:
    insert = insert_for(conn.dialect.name)(model.__table__)  # type: ignore[attr-defined]
    # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT … ON CONFLICT here.
    inserted = insert.values(row).on_conflict_do_nothing(index_elements=[key_column]).returning(key_column)
    return conn.execute(inserted).first() is not None


def _binding(conn: Connection, key: str, taken: bool) -> Binding | None:
    found = conn.execute(select(KEYS.case_id, KEYS.caller, KEYS.fingerprint, KEYS.claimed_at)
                         .where(KEYS.key == key)).one_or_none()
    return Binding(*found, taken=taken) if found is not None else None


def _holder(conn: Connection, key: str) -> Holder:
    found = conn.execute(
        select(CLAIMS.complaint_id, CLAIMS.received_at, CLAIMS.claimed_at, COMPLAINTS.status)
        .select_from(DuplicateClaimRow.__table__.outerjoin(  # type: ignore[attr-defined]
            ComplaintRow.__table__, COMPLAINTS.id == CLAIMS.complaint_id))  # type: ignore[attr-defined]
        .where(CLAIMS.key == key)
    ).one()
    return Holder(*found)
