"""A load balancer's liveness probe, in a process of its own: GET /healthz every PERIOD seconds, one line per answer
on stdout ("<started> <ended> <status or -> <Retry-After or ->", times from time.monotonic, which every process on
the machine shares). Run beside the editors' threads it would share their interpreter's lock, and then measure the
load generator's own waits rather than the server's answer.

    python tests/faults/probe.py http://127.0.0.1:8000 0.1
"""

from __future__ import annotations

import http.client
import sys
import time
from urllib.parse import urlsplit

TIMEOUT = 30.0


def probe(base_url: str, period: float) -> None:
    address = urlsplit(base_url)
    connection: http.client.HTTPConnection | None = None
    while True:
        started = time.monotonic()
        status, retry_after = "-", "-"
        try:
            connection = connection or http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            status, retry_after = str(response.status), response.getheader("retry-after") or "-"
        except (OSError, http.client.HTTPException):
            if connection is not None:
                connection.close()
            connection = None  # a new connection next time, as a probe after a refused one would
        print(f"{started} {time.monotonic()} {status} {retry_after}", flush=True)
        time.sleep(max(0.0, started + period - time.monotonic()))


if __name__ == "__main__":
    probe(sys.argv[1], float(sys.argv[2]))
