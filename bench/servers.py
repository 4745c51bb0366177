"""The processes a benchmark starts on loopback: a free port for each, and waiting until the site answers."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time

# How long a server a benchmark starts (gunicorn, uvicorn) may take to answer /healthz, started or started again.
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int, *, within: float = START_SECONDS, process: subprocess.Popen | None = None) -> bool:
    """Whether the site on 127.0.0.1:`port` answers /healthz within `within` seconds; False as soon as `process`
    (the server) exits."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass  # not listening yet, or answering with an error while it starts
        finally:
            connection.close()
        time.sleep(0.1)
    return False
