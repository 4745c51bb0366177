"""Forge event endpoint speed: `python -m bench.webhook [--workers 4] [--requests 2000] [--concurrency 8]`.

Part 1 — throughput and latency with real token verification: gunicorn (sync workers) serves the site on a
loopback port with DEBUG=0 and test secrets; a tiny HTTP server in this process publishes the JWKS of the
sandbox's Forge signer; client threads POST distinct, freshly signed `avi:confluence:updated:page` events.
Each accepted request is what production does: verify the FIT (JWKS cached per worker), insert a WebhookEvent row,
and hand its id to the django-q2 ORM broker.

Part 2 — coalescing: a burst of 1,000 events across 10 connections, in-process through the Django test client
and the same view, processed by the real task, with a simulated worker that claims queued runs every 0.5 s (the
ORM broker's poll interval) while the burst arrives over one second. Reports how many runs the burst created.

The server runs on a SQLite file in a temporary directory unless DATABASE_URL is set (e.g.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctx_bench, created if missing); the burst always uses SQLite.
Prints one JSON object. Every loop is bounded in count and time;
only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.servers import START_SECONDS, answers, free_port

ROOT = Path(__file__).resolve().parent.parent
CLOUD_ID = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
TEST_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-secret-key-for-the-benchmark-only-0123456789-abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEY": "k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E=",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SANDBOX": "0",
    "LOG_LEVEL": "WARNING",
}
LOAD_SECONDS = 60
BURST_EVENTS = 1000
BURST_CONNECTIONS = 10
WORKER_POLL_SECONDS = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-webhook-"))
    result = serve_and_load(workdir, workers=args.workers, requests=args.requests, concurrency=args.concurrency)
    result["runs_for_burst"] = burst(workdir)
    result["burst"] = f"{BURST_EVENTS} events across {BURST_CONNECTIONS} connections in 1 s (in-process)"
    print(json.dumps(result))


# Part 1: gunicorn on loopback ------------------------------------------------------------------------------


def serve_jwks(jwks: dict) -> ThreadingHTTPServer:
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_and_load(workdir: Path, *, workers: int, requests: int, concurrency: int) -> dict:
    from sandbox import credentials
    from sandbox.atlassian import AtlassianSimulator

    signer = AtlassianSimulator(
        base_url="http://127.0.0.1/sandbox/atlassian", root=workdir / "signer", site_url="http://127.0.0.1"
    )
    jwks_server = serve_jwks(signer.forge_jwks())
    port = free_port()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'server.sqlite3'}"
    ensure_postgres_database(database_url)
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")},
        **TEST_ENV,
        "DJANGO_SETTINGS_MODULE": "ctxsite.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        # Persistent connections, as in production: without them every request also pays a connect.
        "CONN_MAX_AGE": "60",
        "FORGE_APP_ID": credentials.FORGE_APP_ID,
        "FORGE_JWKS_URL": f"http://127.0.0.1:{jwks_server.server_address[1]}/jwks.json",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ctxsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until_up(port)
        # One token per request (a token's id is used once); signed up front, longer-lived than production's 25 s,
        # so that signing is not measured.
        tokens = [signer.sign_invocation_token(CLOUD_ID, lifetime=LOAD_SECONDS * 3) for _ in range(requests + 150)]
        offset = int(time.time() * 1000) % 10**9 * 10  # fresh content ids, even in a database used before
        warm_up = min(50, requests)
        load(port, tokens[:warm_up], count=warm_up, concurrency=concurrency, offset=offset)  # JWKS, imports
        latencies, statuses, elapsed = load(
            port, tokens[warm_up:], count=requests, concurrency=concurrency, offset=offset + 100
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        jwks_server.shutdown()
    ok = sum(1 for s in statuses if s == 202)
    latencies.sort()
    return {
        "server": f"gunicorn {workers} sync workers on 127.0.0.1, DEBUG=0, CONN_MAX_AGE=60, django-q2 ORM broker",
        "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite (WAL)",
        "workers": workers,
        "client_concurrency": concurrency,
        "requests": len(statuses),
        "accepted": ok,
        "errors": len(statuses) - ok,
        "requests_per_second": round(ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
        "cpus": os.cpu_count(),
    }


def ensure_postgres_database(url: str) -> None:
    from bench.ingest import _ensure_postgres_database

    _ensure_postgres_database(url)


def wait_until_up(port: int) -> None:
    if not answers(port):
        raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{port} within {START_SECONDS} s")


def event_body(n: int) -> bytes:
    return json.dumps(
        {
            "eventType": "avi:confluence:updated:page",
            "atlassianId": "4ad9aa0c52dc1b420a791d12",
            "eventCreatedDate": f"2026-01-01T00:{n // 60000 % 60:02}:{n // 1000 % 60:02}.{n % 1000:03}Z",
            "suppressNotifications": False,
            "updateTrigger": "edit_page",
            "content": {
                "id": str(900000 + n),
                "type": "page",
                "status": "current",
                "title": f"Page {n}",
                "space": {"id": 827392002, "key": "SP", "name": "Sample"},
                "version": {"number": 2, "when": "2026-01-01T00:00:00.000Z"},
            },
        }
    ).encode()


def load(port: int, tokens: list[str], *, count: int, concurrency: int, offset: int):
    deadline = time.monotonic() + LOAD_SECONDS

    def one(n: int) -> tuple[float, int]:
        if time.monotonic() > deadline:
            return 0.0, 0
        body = event_body(offset + n)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", "/integrations/forge/events", body, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = -1
        finally:
            conn.close()
        return time.perf_counter() - started, status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = [r for r in pool.map(one, range(count)) if r[1] != 0]
    elapsed = time.perf_counter() - started
    return [r[0] for r in results if r[1] == 202], [r[1] for r in results], elapsed


# Part 2: a burst, in-process ------------------------------------------------------------------------------


def burst(workdir: Path) -> int:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'burst.sqlite3'}"
    os.environ.pop("CONN_MAX_AGE", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ctxsite.test_settings"  # fixed secrets, sandbox on, testserver host
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import responses
    from django.conf import settings
    from django.test import Client

    from confluence.forge import receive
    from confluence.models import SyncRun, WebhookEvent
    from confluence.sync import queue
    from sandbox.testing import serve_with_responses
    from sandbox.world import World

    world = World(
        root=workdir / "sandbox", sandbox_url=f"{settings.PUBLIC_BASE_URL}/sandbox", site_url=settings.PUBLIC_BASE_URL
    )
    connections = make_connections(BURST_CONNECTIONS)
    # The broker: tasks wait here until the simulated worker takes them.
    queued_events: list[int] = []
    receive.async_task = lambda func, event_id, **kwargs: queued_events.append(event_id)
    queue.send = lambda run_id: None
    client = Client()
    next_poll = WORKER_POLL_SECONDS
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, world.atlassian, world.atlassian.base_url)
        # One token per event (a token's id is used once), signed before the clock starts.
        tokens = [world.atlassian.sign_invocation_token(CLOUD_ID, lifetime=120) for _ in range(BURST_EVENTS)]
        started = time.monotonic()
        for n, token in enumerate(tokens):
            at = n / BURST_EVENTS  # the burst's own clock: 1,000 events over one second
            if at >= next_poll:
                worker_poll(queued_events)
                next_poll += WORKER_POLL_SECONDS
            space = f"S{n % BURST_CONNECTIONS}"
            body = json.loads(event_body(n))
            body["content"]["space"] = {"id": 1000 + n % BURST_CONNECTIONS, "key": space, "name": space}
            client.post(
                "/integrations/forge/events",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            if time.monotonic() - started > LOAD_SECONDS:
                break
        worker_poll(queued_events)
    assert WebhookEvent.objects.filter(status="processed").count() == BURST_EVENTS
    assert all(SyncRun.objects.filter(connection=c).count() <= 2 for c in connections)
    return SyncRun.objects.count()


def worker_poll(queued_events: list[int]) -> None:
    """The worker: apply the events received so far, then start every connection's queued run (if it can)."""
    from confluence.forge import handle
    from confluence.models import SyncRun
    from confluence.sync import queue

    while queued_events:
        handle.process_event(queued_events.pop(0))
    for run_id in SyncRun.objects.filter(status="queued").values_list("id", flat=True):
        queue.claim(run_id)  # a sync takes longer than the burst: it stays running


def make_connections(count: int) -> list:
    from django.contrib.auth import get_user_model

    from confluence.models import AtlassianSite, SyncScope
    from connectors.models import Connection, Organization

    user = get_user_model().objects.create_user(username="bench", email="bench@example.com")
    org = Organization.create_with_owner(name="Bench", owner=user)
    connections = []
    for n in range(count):
        connection = Connection.create_with_tasks(org=org, kind="confluence", created_by=user, name=f"C{n}")
        connection.tasks.update(state="done")
        AtlassianSite.objects.create(
            connection=connection,
            cloud_id=CLOUD_ID,
            url="https://bench.atlassian.net",
            name="Bench",
            account_id=f"acc{n}",
        )
        SyncScope.objects.create(connection=connection, spaces=[{"id": str(1000 + n), "key": f"S{n}", "name": ""}])
        connections.append(connection)
    return connections


if __name__ == "__main__":
    main()
