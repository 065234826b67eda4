"""De-identification of closed cases in the read model (DOMAIN §9; PIPL art. 19, 47 and 73).

A closed complaint or contact past the policy's retention (the daily retention workflow), or every
closed case of one customer at their request (POST /customers/erasure), keeps what the measures,
the judgements and the knowledge base need and loses who the customer was: the names, phones and
addresses of complainant, sender and recipient (a contact's customer and location) are replaced by
marks in every table that holds them, and cut out of every free text beside them (descriptions,
timeline details, dispatch instructions and findings, judgement reasons, knowledge entries,
requirements, outbox texts; a customer text's phone number). Evidence keeps its kind and loses its
reference (a recording or a photo of the customer). The case's duplicate claim goes: its key is a
hash of the phone, which a guess of every mobile number would find again.

Kept: ids, statuses, categories, units, clocks and every instant, so counts and clocks measure the
same afterwards; the tracking number (a search attribute already, not customer data here); the
idempotency keys' body hashes (of a whole request, not guessable). Open cases are never touched.
Each case is done in one transaction with its audit row, so a retried run finds it done and a
de-identified case always has its row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, text
from sqlalchemy.engine import Row

from readmodel import audit, knowledge
from readmodel.audit import AuditAction
from readmodel.tables import (
    ComplaintRow,
    ContactRow,
    DispatchEventRow,
    DispatchRow,
    DuplicateClaimRow,
    JudgementEventRow,
    JudgementRow,
    KnowledgeEntryRow,
    OutboxRow,
    RequirementRow,
    TimelineEventRow,
)
from readmodel.writes import Store
from rules.actors import Actor, Role
from rules.customer_data import normalised_phone
from rules.customer_data import STREET_ADDRESS_IN_TEXT
from rules.knowledge import ADDRESS_MARK, NAME_MARK, PHONE_MARK, redact

REFERENCE_MARK = "[removed]"
CLOSED = "closed"  # complaints and contacts alike (ComplaintStatus.CLOSED, ContactStatus.CLOSED)

# The audit log's `what` for each kind of case: which data went, never the data.
COMPLAINT_DATA = "complainant, sender, recipient: names, phones, addresses"
CONTACT_DATA = "customer: name, phone, location"

_C = ComplaintRow.__table__  # type: ignore[attr-defined]
_K = ContactRow.__table__  # type: ignore[attr-defined]
_T = TimelineEventRow.__table__  # type: ignore[attr-defined]
_D = DispatchRow.__table__  # type: ignore[attr-defined]
_DE = DispatchEventRow.__table__  # type: ignore[attr-defined]
_J = JudgementRow.__table__  # type: ignore[attr-defined]
_JE = JudgementEventRow.__table__  # type: ignore[attr-defined]
_KB = KnowledgeEntryRow.__table__  # type: ignore[attr-defined]
_R = RequirementRow.__table__  # type: ignore[attr-defined]
_O = OutboxRow.__table__  # type: ignore[attr-defined]
_DUP = DuplicateClaimRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Identifiers:
    """Who a case's customer data names: what is cut out of its texts."""

    names: tuple[str, ...]
    phones: tuple[str, ...]
    addresses: tuple[str, ...]

    def scrub(self, value: str | None) -> str | None:
        """The text without these names, phones and addresses (and anything that looks like a phone
        number or a street address)."""
        if not value:
            return value
        cleaned = redact(value, names=self.names, phones=self.phones)
        for address in sorted({a.strip() for a in self.addresses if a and len(a.strip()) >= 4}, key=len, reverse=True):
            cleaned = re.sub(re.escape(address), ADDRESS_MARK, cleaned, flags=re.IGNORECASE)
        return STREET_ADDRESS_IN_TEXT.sub(ADDRESS_MARK, cleaned)

    def scrub_json(self, value: Any) -> Any:
        """Every string inside a JSON value scrubbed; its shape, keys, numbers and instants kept."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_json(v) for k, v in value.items()}
        return value


def _party(party: dict[str, Any] | None) -> dict[str, Any] | None:
    """A sender or recipient with each given field replaced by its mark."""
    if not party:
        return party
    marks = {"name": NAME_MARK, "phone": PHONE_MARK, "address": ADDRESS_MARK}
    return {k: (marks[k] if k in marks and v else v) for k, v in party.items()}


def _evidence(evidence: list[dict[str, Any]] | None, ids: Identifiers) -> list[dict[str, Any]] | None:
    if not evidence:
        return evidence
    return [{**e, "reference": REFERENCE_MARK, **({"note": ids.scrub(e["note"])} if e.get("note") else {})}
            for e in evidence]


@dataclass(frozen=True)
class Authority:
    """Who de-identifies, why and when: what each case's audit row records."""

    actor: Actor
    action: AuditAction  # DEIDENTIFY (the retention schedule) or ERASE (the customer's request)
    reason: str
    at: datetime


@dataclass(frozen=True)
class Deidentified:
    """The cases one call de-identified (ids only: they hold no personal data)."""

    complaints: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.complaints) + len(self.contacts)


@dataclass(frozen=True)
class CustomerCases:
    """One customer's cases, by the phone's normalised form, not yet de-identified."""

    open_complaints: tuple[str, ...]
    closed_complaints: tuple[str, ...]
    open_contacts: tuple[str, ...]
    closed_contacts: tuple[str, ...]

    @property
    def open(self) -> tuple[str, ...]:
        return self.open_complaints + self.open_contacts


class CasesStillOpen(Exception):
    """An erasure asked for while some of the customer's cases are being handled: nothing was changed."""

    def __init__(self, open_cases: Sequence[str]) -> None:
        super().__init__(f"{len(open_cases)} case(s) still open")
        self.open_cases = tuple(open_cases)


class Retention(Store):
    """De-identification on the read model's engine, under its writer mutex."""

    def deidentify_closed_before(self, cutoff: datetime, *, actor: Actor, at: datetime, limit: int) -> Deidentified:
        """Up to `limit` complaints and as many contacts closed before `cutoff` and not yet
        de-identified, oldest closing first, each in its own transaction with its audit row."""
        with self.engine.connect() as conn:
            complaints = conn.execute(
                select(_C.c.id).where(_C.c.status == CLOSED, _C.c.closed_at < cutoff, _C.c.deidentified_at.is_(None))
                .order_by(_C.c.closed_at, _C.c.id).limit(limit)).scalars().all()
            contacts = conn.execute(
                select(_K.c.id).where(_K.c.status == CLOSED, _K.c.closed_at < cutoff, _K.c.deidentified_at.is_(None))
                .order_by(_K.c.closed_at, _K.c.id).limit(limit)).scalars().all()
        by = Authority(actor, AuditAction.DEIDENTIFY, f"closed before {cutoff.isoformat()}: past the retention period", at)
        done_complaints = [cid for cid in complaints if self._one(deidentify_complaint, cid, by)]
        done_contacts = [kid for kid in contacts if self._one(deidentify_contact, kid, by)]
        return Deidentified(tuple(done_complaints), tuple(done_contacts))

    def customer_cases(self, phone: str) -> CustomerCases:
        with self.engine.connect() as conn:
            return _customer_cases(conn, phone)

    def erase_customer(self, phone: str, *, actor: Actor, reason: str, at: datetime) -> Deidentified:
        """Every closed case of the customer with this phone (however written), at once, or none:
        `CasesStillOpen` names the open ones, and nothing is changed."""
        by = Authority(actor, AuditAction.ERASE, reason, at)
        with self.transaction() as conn:
            cases = _customer_cases(conn, phone)
            if cases.open:
                raise CasesStillOpen(cases.open)
            complaints = [c for c in cases.closed_complaints if deidentify_complaint(conn, c, by)]
            contacts = [k for k in cases.closed_contacts if deidentify_contact(conn, k, by)]
            if not complaints and not contacts:
                _audit(conn, by, "no case holds this customer's data", None)  # the request is on record all the same
            return Deidentified(tuple(complaints), tuple(contacts))

    def _one(self, deidentify: Any, case_id: str, by: Authority) -> bool:
        with self.transaction() as conn:
            return bool(deidentify(conn, case_id, by))


def _customer_cases(conn: Connection, phone: str) -> CustomerCases:
    key = normalised_phone(phone)
    complaints = conn.execute(select(_C.c.id, _C.c.status).where(_C.c.phone_key == key, _C.c.deidentified_at.is_(None))
                              .order_by(_C.c.received_at, _C.c.id)).all()
    # Contacts keep the phone as written: those ending in the same last four digits are compared whole.
    digits = re.sub(r"\D", "", key)
    candidates = conn.execute(select(_K.c.id, _K.c.status, _K.c.customer_phone)
                              .where(_K.c.customer_phone.like(f"%{digits[-4:]}"), _K.c.deidentified_at.is_(None))
                              .order_by(_K.c.received_at, _K.c.id)).all() if len(digits) >= 4 else []
    contacts = [(r.id, r.status) for r in candidates if normalised_phone(r.customer_phone) == key]
    return CustomerCases(
        open_complaints=tuple(r.id for r in complaints if r.status != CLOSED),
        closed_complaints=tuple(r.id for r in complaints if r.status == CLOSED),
        open_contacts=tuple(i for i, s in contacts if s != CLOSED),
        closed_contacts=tuple(i for i, s in contacts if s == CLOSED),
    )


def deidentify_complaint(conn: Connection, complaint_id: str, by: Authority) -> bool:
    """One closed complaint and everything written beside it; False when it is open, unknown or done."""
    row = conn.execute(select(_C).where(_C.c.id == complaint_id, _C.c.status == CLOSED,
                                        _C.c.deidentified_at.is_(None))).one_or_none()
    if row is None:
        return False
    parties = [p for p in (row.sender, row.recipient) if p]
    ids = Identifiers(
        names=(row.complainant_name, *(p.get("name") or "" for p in parties)),
        phones=(row.complainant_phone, *(p.get("phone") or "" for p in parties)),
        addresses=tuple(p.get("address") or "" for p in parties),
    )
    conn.execute(_C.update().where(_C.c.id == complaint_id).values(
        complainant_name=NAME_MARK, complainant_phone=PHONE_MARK, phone_key=None,
        sender=_party(row.sender), recipient=_party(row.recipient),
        description=ids.scrub(row.description), demand=ids.scrub(row.demand),
        evidence=_evidence(row.evidence, ids), deidentified_at=by.at))
    _scrub_details(conn, _T, _T.c.complaint_id == complaint_id, ids)

    dispatch_ids = conn.execute(select(_D.c.id).where(_D.c.complaint_id == complaint_id)).scalars().all()
    _scrub_columns(conn, _D, _D.c.complaint_id == complaint_id, ("instruction", "finding"), ids)
    _scrub_details(conn, _DE, _DE.c.complaint_id == complaint_id, ids)
    judgement_ids = conn.execute(select(_J.c.id).where(_J.c.complaint_id == complaint_id)).scalars().all()
    _scrub_columns(conn, _J, _J.c.complaint_id == complaint_id, ("proposal_reason", "appeal_reason"), ids)
    _scrub_details(conn, _JE, _JE.c.complaint_id == complaint_id, ids)

    _scrub_knowledge_entry(conn, complaint_id, ids)
    _scrub_columns(conn, _R, _R.c.complaint_id == complaint_id, ("suggestion", "demand"), ids)
    _scrub_outbox(conn, [complaint_id, *dispatch_ids, *judgement_ids], ids)
    conn.execute(_DUP.delete().where(_DUP.c.complaint_id == complaint_id))
    _audit(conn, by, COMPLAINT_DATA, complaint_id)
    return True


def deidentify_contact(conn: Connection, contact_id: str, by: Authority) -> bool:
    """One closed consultation, rescue request or new failure mode; False when open, unknown or done."""
    row = conn.execute(select(_K).where(_K.c.id == contact_id, _K.c.status == CLOSED,
                                        _K.c.deidentified_at.is_(None))).one_or_none()
    if row is None:
        return False
    ids = Identifiers(names=(row.customer_name,), phones=(row.customer_phone,), addresses=(row.location or "",))
    conn.execute(_K.update().where(_K.c.id == contact_id).values(
        customer_name=NAME_MARK, customer_phone=PHONE_MARK, description=ids.scrub(row.description),
        location=ADDRESS_MARK if row.location else None, evidence=_evidence(row.evidence, ids), deidentified_at=by.at))
    _scrub_details(conn, _T, _T.c.complaint_id == contact_id, ids)  # contacts share the timeline table
    _scrub_outbox(conn, [contact_id], ids)
    _audit(conn, by, CONTACT_DATA, contact_id)
    return True


def _scrub_details(conn: Connection, table: Any, where: Any, ids: Identifiers) -> None:
    rows = conn.execute(select(table.c.id, table.c.detail).where(where)).all()
    changed = [(r.id, cleaned) for r in rows if (cleaned := ids.scrub_json(r.detail)) != r.detail]
    for row_id, detail in changed:
        conn.execute(table.update().where(table.c.id == row_id).values(detail=detail))


def _scrub_columns(conn: Connection, table: Any, where: Any, columns: Iterable[str], ids: Identifiers) -> None:
    columns = tuple(columns)
    rows: Sequence[Row[Any]] = conn.execute(select(table.c.id, *(table.c[c] for c in columns)).where(where)).all()
    for row in rows:
        values = {c: ids.scrub(getattr(row, c)) for c in columns}
        if any(values[c] != getattr(row, c) for c in columns):
            conn.execute(table.update().where(table.c.id == row.id).values(values))


def _scrub_knowledge_entry(conn: Connection, complaint_id: str, ids: Identifiers) -> None:
    """The entry's texts (cleaned of names and phones at closing; addresses go now) and its search words."""
    entry = conn.execute(select(_KB.c.problem, _KB.c.demand, _KB.c.solution)
                         .where(_KB.c.complaint_id == complaint_id)).one_or_none()
    if entry is None:
        return
    problem, demand, solution = (ids.scrub(entry.problem) or "", ids.scrub(entry.demand), ids.scrub(entry.solution) or "")
    if (problem, demand, solution) == tuple(entry):
        return
    terms = " ".join(knowledge.words(" ".join(filter(None, (problem, demand, solution)))))
    conn.execute(_KB.update().where(_KB.c.complaint_id == complaint_id)
                 .values(problem=problem, demand=demand, solution=solution, terms=terms))
    if conn.dialect.name == "sqlite":  # FTS5 keeps its own copy of the words; PostgreSQL indexes the column
        conn.execute(text("UPDATE knowledge_fts SET terms = :terms WHERE complaint_id = :id"),
                     {"terms": terms, "id": complaint_id})


def _scrub_outbox(conn: Connection, case_ids: Sequence[str], ids: Identifiers) -> None:
    """Texts about the case (its own, its dispatches', its judgement's); a customer text loses its number."""
    rows = conn.execute(select(_O.c.id, _O.c.recipient_role, _O.c.subject, _O.c.body)
                        .where(or_(*(_O.c.case_id == c for c in case_ids)))).all()
    for row in rows:
        values: dict[str, Any] = {"subject": ids.scrub(row.subject), "body": ids.scrub(row.body)}
        if row.recipient_role == Role.CUSTOMER.value:
            values["address"] = PHONE_MARK
        conn.execute(_O.update().where(_O.c.id == row.id).values(values))


def _audit(conn: Connection, by: Authority, what: str, case_id: str | None) -> None:
    """The audit row, in the de-identification's own transaction."""
    audit.append(conn, by.actor, by.action, what, case_id=case_id, reason=by.reason, at=by.at)
