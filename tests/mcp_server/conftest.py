"""A live site over ASGI (uvicorn in a thread, on a free loopback port) and the official MCP client against it.

The site is the one `ctxsite/asgi.py` serves: /mcp beside Django. The test database is shared with the server's
threads, so tests that use the live site run in transactional mode and commit their data before calling it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable

import anyio
import httpx2
import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.github_sync.conftest import (  # noqa: F401 (fixtures: acme-gh/docs ingested through the simulated GitHub)
    github,
    github_connection,
    ingest_now,
    installation,
    push,
    repository,
)

START_TIMEOUT_SECONDS = 20


@pytest.fixture
def live_site(transactional_db):
    """The URL of /mcp on a live uvicorn serving the whole site; stopped after the test."""
    from django.core.asgi import get_asgi_application
    from django.core.cache import cache

    cache.clear()  # rate counts are per key id, and ids come back in the next test's fresh tables

    from mcp_server.endpoint import site

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(site(get_asgi_application()), lifespan="on", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(START_TIMEOUT_SECONDS * 20):
        if server.started or not thread.is_alive():
            started.set()
            break
        started.wait(0.05)
    if not server.started:
        pytest.fail("uvicorn did not start serving the site", pytrace=False)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(timeout=START_TIMEOUT_SECONDS)
    sock.close()


@pytest.fixture
def mcp_call(live_site):
    """Run `work(session)` in an initialized official ClientSession sending `key`; returns what it returns."""

    def call(key: str | None, work: Callable[[ClientSession], Awaitable]):
        headers = {"Authorization": f"Bearer {key}"} if key else {}

        async def main():
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                streamable_http_client(live_site, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await work(session)

        try:
            return anyio.run(main)
        except BaseExceptionGroup as group:
            # The client's task groups wrap what went wrong; a test asserts on the error itself.
            raise single_error(group) from group

    return call


def single_error(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
