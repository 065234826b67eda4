"""Notification fixtures: an outbox on a fresh read-model database, real SMTP and SMS receivers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import readmodel.outbox  # noqa: F401  (registers the outbox table before create_schema)
from notifications.directory import Directory, RoleHolder
from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from rules.actors import Role
from tests.notifications.receivers import MailRecorder, SmsGateway, running_gateway, running_smtp
from tests.readmodel.postgres import PostgresCluster, PostgresUnavailable, running_cluster

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def outbox_postgres() -> Iterator[PostgresCluster]:
    try:
        with running_cluster() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def read_model(tmp_path: Path) -> Iterator[ReadModel]:
    """The read model on a SQLite file, schema made by ReadModel.create_schema as in production."""
    store = ReadModel(f"sqlite:///{tmp_path / 'readmodel.db'}")
    store.create_schema()
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    """The outbox on SQLite and on a real PostgreSQL database (the upsert is dialect-specific)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'readmodel.db'}"
        cleanup = None
    else:
        cluster: PostgresCluster = request.getfixturevalue("outbox_postgres")
        name = f"outbox_{next(_database_numbers)}"
        url = cluster.create_database(name)
        cleanup = lambda: cluster.drop_database(name)  # noqa: E731
    store = ReadModel(url)
    store.create_schema()
    try:
        yield Outbox(store.engine)
    finally:
        store.dispose()
        if cleanup is not None:
            cleanup()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def smtp() -> Iterator[tuple[MailRecorder, int]]:
    with running_smtp() as server:
        yield server


GD_DIRECTOR = RoleHolder(
    id="gd-director-wang", name="王强", role=Role.DIRECTOR, unit="gd", phone="+8613800000001", email="wang.qiang@example.com"
)
GD_DIRECTOR_DEPUTY = RoleHolder(
    id="gd-director-liu", name="刘洋", role=Role.DIRECTOR, unit="gd", phone="+8613800000003", email="liu.yang@example.com"
)
GD_VICE_PRESIDENT = RoleHolder(id="gd-vp-zhao", name="赵敏", role=Role.VICE_PRESIDENT, unit="gd", phone="+8613800000002")


@pytest.fixture
def directory() -> Directory:
    return Directory([GD_DIRECTOR, GD_DIRECTOR_DEPUTY, GD_VICE_PRESIDENT])
