"""PostgreSQL going away under load: restarted, stopped, frozen. Every request is answered in bounded time, 503
(never 500) while the database is away, the app recovers within seconds of it answering again, the log stays
small, and every acknowledged write is in the database exactly once."""

from __future__ import annotations

import time

from tests.faults.cluster import Cluster
from tests.faults.processes import Server
from tests.faults.scenario import DEADLINE_BOUND, REFUSED_BOUND, Expect, Fault, weathered

STOPPED_SECONDS = 5.0
FROZEN_SECONDS = 10.0


def test_fast_restart_answers_503_and_loses_no_write(cluster: Cluster, postgres_server: Server) -> None:
    def restart(fault: Fault) -> None:
        cluster.restart()
        fault.over()

    # A fast restart is over within a second or so; requests caught in it are refused, not all of each kind.
    weathered(postgres_server, restart, Expect(bound=REFUSED_BOUND, refused=frozenset()))


def test_stopped_for_seconds_answers_503_quickly_and_recovers(cluster: Cluster, postgres_server: Server) -> None:
    def stop(fault: Fault) -> None:
        cluster.stop()
        time.sleep(STOPPED_SECONDS)
        cluster.start()
        fault.over()

    weathered(postgres_server, stop, Expect(bound=REFUSED_BOUND))


def test_frozen_answers_503_within_the_deadline_and_recovers(cluster: Cluster, postgres_server: Server) -> None:
    def freeze(fault: Fault) -> None:
        with cluster.frozen():
            time.sleep(FROZEN_SECONDS)
        fault.over()

    weathered(postgres_server, freeze, Expect(bound=DEADLINE_BOUND))
