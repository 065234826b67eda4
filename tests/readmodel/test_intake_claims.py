"""Intake's keys on SQLite and PostgreSQL: of many requests racing for one idempotency key or one
duplicate key, exactly one takes it and every other finds that one (readmodel/intake.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from readmodel.intake import duplicate_key
from readmodel.store import ReadModel

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
RACERS = 8


def race(read_model: ReadModel, take: object) -> list[object]:
    """`take(n)` from RACERS threads released at once, each on its own connection of one engine."""
    start = threading.Barrier(RACERS)

    def one(n: int) -> object:
        start.wait()
        return take(n)  # type: ignore[operator]

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


def test_one_request_binds_a_key_and_every_other_finds_its_caller_body_and_case(read_model: ReadModel) -> None:
    claims = read_model.claims
    found = race(read_model, lambda n: claims.bind_key("complaint:key:k1", caller=f"agent-{n}", fingerprint=f"body-{n}",
                                                       case_id=f"C{n}", now=NOW + timedelta(seconds=n)))

    [winner] = [b for b in found if b.taken]  # type: ignore[attr-defined]
    assert {(b.case_id, b.caller, b.fingerprint) for b in found} == {  # type: ignore[attr-defined]
        (winner.case_id, winner.caller, winner.fingerprint)}  # type: ignore[attr-defined]


def test_one_case_claims_the_same_complaint_and_every_other_finds_it(read_model: ReadModel) -> None:
    claims = read_model.claims
    # The same mobile written four ways is one customer: one key.
    keys = {duplicate_key(p, "EX1CN", "delay")
            for p in ("+86 138 0013 8000", "+8613800138000", "0086-138-0013-8000", "13800138000")}
    [key] = keys

    holders = race(read_model, lambda n: claims.claim_duplicate(key, complaint_id=f"C{n}", received_at=NOW, now=NOW))

    assert len({h.complaint_id for h in holders}) == 1  # type: ignore[attr-defined]
    assert holders[0].status is None  # type: ignore[attr-defined]  # no complaint row yet: being filed


def test_a_claim_is_taken_over_once_and_only_from_the_holder_seen(read_model: ReadModel) -> None:
    claims = read_model.claims
    key = duplicate_key("13800138000", None, "delay")
    claims.claim_duplicate(key, complaint_id="C-closed", received_at=NOW, now=NOW)

    moved = race(read_model, lambda n: claims.take_over(key, holder="C-closed", complaint_id=f"C{n}",
                                                        received_at=NOW, now=NOW))

    assert moved.count(True) == 1
    holder = claims.claim_duplicate(key, complaint_id="C-late", received_at=NOW, now=NOW)
    assert holder.complaint_id == f"C{moved.index(True)}"


def test_other_parcels_categories_and_phones_are_other_keys() -> None:
    base = duplicate_key("13800138000", "EX1CN", "delay")
    assert base != duplicate_key("13800138001", "EX1CN", "delay")
    assert base != duplicate_key("13800138000", "EX2CN", "delay")
    assert base != duplicate_key("13800138000", "EX1CN", "fee_dispute")
    assert base != duplicate_key("13800138000", None, "delay")
    assert "13800138000" not in base  # hashed: the claim table holds no phone
