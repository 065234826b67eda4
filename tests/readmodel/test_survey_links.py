"""Survey links on SQLite and PostgreSQL (readmodel/surveys.py): of many answers racing through
several API replicas (each its own engine and writer mutex on one database), exactly one takes a
link; an expired link or one never sent takes none; a link given back takes one again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from readmodel.store import ReadModel
from tests.readmodel.test_intake_claims import RACERS, race

SENT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
EXPIRES = SENT + timedelta(hours=48)


@pytest.fixture
def replicas(read_model: ReadModel, database_url: str) -> Iterator[list[ReadModel]]:
    """Three read models on one database, as three API replicas hold them."""
    others = [ReadModel(database_url) for _ in range(2)]
    try:
        yield [read_model, *others]
    finally:
        for other in others:
            other.dispose()


def sent_link(read_model: ReadModel, link_id: str = "L" * 22, digest: str = "d1") -> None:
    read_model.surveys.issue(link_id, token_digest=digest, complaint_id="C1", issued_by="agent-wang", now=SENT)
    read_model.surveys.sent(link_id, handling_round=0, expires_at=EXPIRES)


def test_of_answers_racing_through_three_replicas_exactly_one_takes_the_link(replicas: list[ReadModel]) -> None:
    sent_link(replicas[0])
    taken = race(replicas[0], lambda n: replicas[n % len(replicas)].surveys.take(
        "d1", now=SENT + timedelta(minutes=1, seconds=n), rating=n % 5 + 1, satisfied=n % 5 >= 3))

    assert taken.count(True) == 1 and len(taken) == RACERS
    winner = taken.index(True)
    row = replicas[1].surveys.find("d1")
    assert row is not None
    # the row holds the winner's answer and instant, no one else's
    assert (row.rating, row.used_at) == (winner % 5 + 1, SENT + timedelta(minutes=1, seconds=winner))


def test_an_expired_link_and_one_never_sent_take_no_answer(read_model: ReadModel) -> None:
    sent_link(read_model)
    assert not read_model.surveys.take("d1", now=EXPIRES, rating=5, satisfied=True)  # good until, not at, EXPIRES
    read_model.surveys.issue("U" * 22, token_digest="d2", complaint_id="C1", issued_by="agent-wang", now=SENT)
    assert not read_model.surveys.take("d2", now=SENT, rating=5, satisfied=True)  # no expiry: never texted
    read_model.surveys.withdraw("U" * 22)
    assert read_model.surveys.find("d2") is None
    assert [r.id for r in read_model.surveys.of_complaint("C1")] == ["L" * 22]  # only the sent one shows


def test_a_link_given_back_takes_one_answer_again_but_a_settled_one_does_not(read_model: ReadModel) -> None:
    sent_link(read_model)
    first = SENT + timedelta(hours=1)
    assert read_model.surveys.take("d1", now=first, rating=2, satisfied=False)
    read_model.surveys.give_back("L" * 22, first)  # the case was unreachable
    assert read_model.surveys.take("d1", now=first + timedelta(minutes=1), rating=4, satisfied=True)
    read_model.surveys.settle("L" * 22, "recorded")
    read_model.surveys.give_back("L" * 22, first + timedelta(minutes=1))  # settled: stays taken
    row = read_model.surveys.find("d1")
    assert row is not None and (row.rating, row.satisfied, row.outcome) == (4, True, "recorded")
    assert not read_model.surveys.take("d1", now=first + timedelta(minutes=2), rating=1, satisfied=False)
