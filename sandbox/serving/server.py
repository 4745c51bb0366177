"""Serve a World over real HTTP from its own process: `python -m sandbox.serving.server --root DIR --site-url URL`.

For what the in-process `responses` adapter cannot do: workers in other processes reaching the simulators
(bench/faults.py), and benchmarks that must measure the site's memory without the simulators' (bench/sync.py).
Paths mirror the site's own mount (`/sandbox/atlassian/…`, `/sandbox/github/…`), so pointing the site's
SANDBOX_URL at this server is the only setting that changes.

`POST /control` with `{"function": "module:name", "kwargs": {...}}` calls `name(world, **kwargs)` in this process
and answers `{"result": ...}`: how a benchmark seeds, edits, breaks and inspects the world. Webhooks the simulators
raise go out from delivery threads once the request that raised them has been answered, because the site's
handlers call back into the simulators (the JWKS, the GitHub API). No Django here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import queue
import socket
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from sandbox.core import ConnectionDropped, RequestTimedOut, SimRequest, Simulator
from sandbox.world import World

DELIVERY_THREADS = 4


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # A storm of webhooks and several workers connect at once; the default backlog of 5 refuses some.
    request_queue_size = 256

    def __init__(self, address, *, stall_seconds: float, deliver: bool):
        super().__init__(address, Handler)
        self.stall_seconds = stall_seconds
        self.deliver = deliver
        self.world: World | None = None
        self.outgoing: queue.Queue = queue.Queue()
        for _ in range(DELIVERY_THREADS):
            threading.Thread(target=self._deliver_forever, daemon=True).start()

    def attach(self, world: World) -> None:
        for simulator in world.simulators().values():
            simulator.defer_deliveries = True
            if not self.deliver:
                simulator.deliver = lambda url, body, headers: 200
        self.world = world

    def handle_error(self, request, client_address) -> None:
        # A client that gave up on a stalled request (a simulated timeout) is expected; anything else is printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def release_deliveries(self) -> None:
        for simulator in self.world.simulators().values():
            for delivery in simulator.take_outbox():
                self.outgoing.put((simulator, delivery))

    def _deliver_forever(self) -> None:
        while True:
            simulator, delivery = self.outgoing.get()
            try:
                simulator.flush_outbox([delivery])
            except Exception:  # a delivery that fails is recorded as failed by the simulator; keep delivering
                traceback.print_exc()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections like they do with the real services
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for a delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server: SimulatorServer

    def do_request(self) -> None:
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/control":
            self._control(body)
            return
        service, _, rest = path.removeprefix("/sandbox/").partition("/")
        simulators = self.server.world.simulators() if path.startswith("/sandbox/") else {}
        simulator: Simulator | None = simulators.get(service)
        if simulator is None:
            self._answer(404, b'{"message": "No such simulator"}', {"Content-Type": "application/json"})
            return
        request = SimRequest.from_url_parts(
            method=self.command,
            path="/" + rest,
            query_string=query,
            headers=dict(self.headers.items()),
            body=body,
            base_url=f"http://{self.headers.get('Host', 'localhost')}/sandbox/{service}",
        )
        try:
            response = simulator.handle(request)
        except RequestTimedOut:
            time.sleep(self.server.stall_seconds)
            self._drop()
            return
        except ConnectionDropped:
            self._drop()
            return
        finally:
            self.server.release_deliveries()
        self._answer(response.status, response.body, response.headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_request

    def _control(self, body: bytes) -> None:
        try:
            call = json.loads(body)
            module, _, name = call["function"].partition(":")
            function = getattr(importlib.import_module(module), name)
            result = function(self.server.world, **call.get("kwargs", {}))
            answer, status = json.dumps({"result": result}).encode(), 200
        except Exception:
            answer, status = json.dumps({"error": traceback.format_exc()}).encode(), 500
        finally:
            self.server.release_deliveries()
        self._answer(status, answer, {"Content-Type": "application/json"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        """Close without answering, as a server that died or a proxy that gave up would."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format, *args) -> None:
        pass  # the simulators keep their own request log


def serve(*, root: Path, site_url: str, host: str, port: int, seed: int, stall_seconds: float, deliver: bool) -> None:
    # Bound before the world is built: with port 0 the port is known only now, and the simulators write absolute
    # links with it.
    server = SimulatorServer((host, port), stall_seconds=stall_seconds, deliver=deliver)
    sandbox_url = f"http://{host}:{server.server_address[1]}/sandbox"
    server.attach(World(root=root, sandbox_url=sandbox_url, site_url=site_url, seed=seed))
    print(f"sandbox listening on {sandbox_url}", flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="directory for git repositories and keys")
    parser.add_argument("--site-url", required=True, help="the ctx| site webhooks are delivered to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=1.0, help="how long a simulated timeout stalls")
    parser.add_argument(
        "--no-deliveries", dest="deliver", action="store_false", help="answer webhooks as delivered, send none"
    )
    serve(**vars(parser.parse_args()))


class RunningSimulators:
    """A simulator server in a child process, and the way to call functions in it."""

    def __init__(self, *, root: Path, site_url: str, seed: int = 0, deliver: bool = True, stall_seconds: float = 1.0):
        command = [sys.executable, "-m", "sandbox.serving.server", "--root", str(root), "--site-url", site_url]
        command += ["--seed", str(seed), "--stall-seconds", str(stall_seconds)]
        if not deliver:
            command.append("--no-deliveries")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 (our own module)
        line = self.process.stdout.readline()
        if not line.startswith("sandbox listening on "):
            self.process.kill()
            raise RuntimeError(f"the simulator server did not start: {line!r}")
        self.sandbox_url = line.split()[-1]
        self.control_url = self.sandbox_url.removesuffix("/sandbox") + "/control"
        self.session = requests.Session()

    def call(self, function: str, **kwargs):
        """`function(world, **kwargs)` run in the server; its JSON result."""
        response = self.session.post(self.control_url, json={"function": function, "kwargs": kwargs}, timeout=600)
        data = response.json()
        if response.status_code != 200:
            raise RuntimeError(f"{function} failed in the simulator server:\n{data['error']}")
        return data["result"]

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return round(kb / 1024, 1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    main()
