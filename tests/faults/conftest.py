"""Fault tests: the real server (`python -m webapp serve`, two workers) under a small load of signed-in editors,
while its database is restarted, stopped, frozen, locked or out of disk, or while the server itself is killed.

PostgreSQL faults are done to a private cluster these tests make (initdb in a temporary directory, a free port),
never to the shared server. Without PostgreSQL's server binaries those tests are skipped, or fail when
REQUIRE_POSTGRES=1 (CI); so are the tests that need root (mounting a small tmpfs), with CI=1 or REQUIRE_FAULTS=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.databases import create_postgres_database, drop_postgres_database
from tests.faults.cluster import Cluster, private_cluster
from tests.faults.processes import Server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)


def required(reason: str, *flags: str) -> None:
    """Skip for `reason`, or fail when one of `flags` is set to 1 (CI must run every fault test)."""
    if any(os.environ.get(flag) == "1" for flag in flags):
        pytest.fail(f"required but impossible here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    try:
        with private_cluster() as made:
            yield made
    except LookupError as missing:
        required(str(missing), "REQUIRE_POSTGRES", "REQUIRE_FAULTS", "CI")


@pytest.fixture(scope="module")
def postgres_server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with two workers on a new database in the private cluster, shared by the module's scenarios (each
    has editors and a ledger of its own; starting the server costs more than a scenario's fault)."""
    database_url = create_postgres_database(cluster.url)
    server = Server(database_url, tmp_path_factory.mktemp("postgres-server") / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        drop_postgres_database(cluster.url, database_url)


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with two workers on a new SQLite file, shared by the module's scenarios."""
    directory = tmp_path_factory.mktemp("sqlite-server")
    server = Server(f"sqlite+aiosqlite:///{directory / 'faults.db'}", directory / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
