"""`python -m webapp serve --workers 2` as it runs for real: on SIGTERM a request in flight is answered, idle
keep-alive connections are closed cleanly (so a client knows to open a new one), and the process exits; with
LOG_FORMAT=json every log line is a JSON object and the request log, not uvicorn's access log, records requests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from webapp.config import PROJECT_DIR

# A loaded machine may take a while to start two workers.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(port: int, server: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    while time.monotonic() - started < START_TIMEOUT:
        assert server.poll() is None, "the server exited while starting"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_sigterm_with_two_workers_answers_the_request_in_flight_and_closes_idle_connections(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}", "LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "webapp", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until_serving(port, server)
        idle = []
        for _ in range(4):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            assert (response.status, response.getheader("connection")) == (200, None)  # kept alive
            idle.append(connection)
        # A request in flight: its headers sent, the app reading its body (uvicorn says 100 Continue when it does).
        in_flight = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b"username=someone&password=secret"
        in_flight.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert in_flight.recv(100).startswith(b"HTTP/1.1 100 ")

        server.send_signal(signal.SIGTERM)
        for connection in idle:
            assert connection.sock is not None
            assert connection.sock.recv(1) == b""  # closed by the server with a FIN, not a reset or silence
        in_flight.sendall(body)
        answer = b""
        while chunk := in_flight.recv(65536):  # until the server closes the connection after its answer
            answer += chunk
        # Answered (refused: the form carries no token). Whether the answer also says "Connection: close" depends on
        # whether this connection's worker had taken in the SIGTERM yet (the idle ones may all be the other
        # worker's): the close itself is what ended the loop above.
        assert answer.startswith(b"HTTP/1.1 403 ")
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
        _out, errors = server.communicate()
    lines = [json.loads(line) for line in errors.splitlines() if line.strip()]  # each one JSON object
    requests = [line for line in lines if line["logger"] == "webapp.requests"]
    assert [(line["method"], line["route"], line["status"]) for line in requests] == [("GET", "/login", 200)] * 4 + [
        ("POST", "/login", 403)
    ]
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert not [line for line in requests if "secret" in json.dumps(line)]
