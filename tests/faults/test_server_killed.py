"""The server killed with SIGKILL (all its processes) while writes are in flight, then started again: editors
retry what was not acknowledged with the same form, and nothing acknowledged is lost or applied twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import create_postgres_database, drop_postgres_database
from tests.faults.processes import Server
from tests.faults.scenario import DEADLINE_BOUND, Expect, Fault, weathered


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server of its own (it is killed), on a new SQLite file or a new database in the private cluster."""
    if request.param == "sqlite":
        database_url, cleanup = f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}", None
    else:
        cluster = request.getfixturevalue("cluster")
        database_url = create_postgres_database(cluster.url)
        cleanup = cluster.url
    server = Server(database_url, tmp_path / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if cleanup:
            drop_postgres_database(cleanup, database_url)


def test_kill_9_mid_write_then_restart_loses_no_acknowledged_write(own_server: Server) -> None:
    def kill_and_restart(fault: Fault) -> None:
        own_server.kill()
        own_server.start()
        fault.over()

    # While the server is down nothing answers, /healthz included: connections refused are expected.
    # The killed requests get no answer (connections reset, then refused); the others, and the first ones the
    # restarted workers serve (cold), within the request deadline.
    expect = Expect(bound=DEADLINE_BOUND, refused=frozenset(), unanswered=True, health_bound=None)
    weathered(own_server, kill_and_restart, expect)
