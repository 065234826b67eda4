"""Read-model fixtures: the same store on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from readmodel.store import ReadModel
from tests.readmodel.postgres import PostgresCluster, PostgresUnavailable, running_cluster

BACKENDS = ["sqlite", "postgresql"]
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the session; missing binaries fail loudly, never skip."""
    try:
        with running_cluster() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """`postgresql://postgres@127.0.0.1:PORT/complaints`: the read model's database, created empty."""
    return postgres_cluster.create_database("complaints")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database per test: a SQLite file, or a fresh database on the session's cluster."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'readmodel.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"readmodel_{next(_database_numbers)}"
    url = cluster.create_database(name)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture
def read_model(database_url: str) -> Iterator[ReadModel]:
    store = ReadModel(database_url)
    store.create_schema()
    try:
        yield store
    finally:
        store.dispose()
