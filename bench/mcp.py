"""The MCP server's latency next to the REST API's: `python -m bench.mcp [--files N] [--calls N]`.

Builds and ingests a sandbox repository of N Markdown files (default 500) as bench.ingest does, then serves the
site with uvicorn in a process of its own (`ctxsite.asgi:application`, the production application) and measures
from this process, over loopback HTTP with one keep-alive connection:

- `initialize_ms`: a new MCP client connecting and completing the initialize handshake (p50 and p99);
- `search` and `fetch` through MCP (the official client, `ClientSession` over Streamable HTTP) and the same
  searches and documents through `/api/v1/` (`.../search?q=` and `.../documents/…`), p50 and p99 each.

Prints one JSON object; `checks.mcp_overhead_ok` is whether MCP adds at most 20 ms at p50 to both search and
fetch, and the exit status is 1 when it does not. SQLite in a temporary directory unless DATABASE_URL is set
(PostgreSQL: created if missing, emptied first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.ingest import WORDS, _configure, _ingest, _setup
from bench.servers import START_SECONDS, answers, free_port

OVERHEAD_BUDGET_MS = 20
INITIALIZATIONS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--calls", type=int, default=300, help="searches and fetches through each interface")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-mcp-"))
    _configure(workdir)
    result = run(args.files, args.calls, workdir)
    print(json.dumps(result))
    if not result["checks"]["mcp_overhead_ok"]:
        sys.exit(1)


def run(files: int, calls: int, workdir: Path) -> dict:
    import anyio
    import responses
    from django.conf import settings
    from django.db import connection

    from github_sync.models import ApiKey
    from sandbox.testing import serve_with_responses
    from sandbox.world import World

    world = World(
        root=workdir / "sandbox", sandbox_url=f"{settings.PUBLIC_BASE_URL}/sandbox", site_url=settings.PUBLIC_BASE_URL
    )
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(world.github.app_private_key_path)
    world.github.deliver = lambda url, body, headers: 200  # webhooks are not what this measures
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, world.github, world.github.base_url)
        org, repository, sha = _setup(world.github, files)
        _ingest(repository, sha)
    key = ApiKey.issue(org=org, name="bench", by=None)[1]
    rng = random.Random(3)
    queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2)))) for _ in range(calls)]
    paths = [f"docs/page-{rng.randrange(files):05d}.md" for _ in range(calls)]
    vendor = connection.vendor
    connection.close()  # the server process writes too (last use of the key); SQLite wants one writer at a time
    port = free_port()
    server = _start_server(port)
    try:
        measured = anyio.run(_measure, f"http://127.0.0.1:{port}", org.slug, key, queries, paths)
    finally:
        server.terminate()
        server.wait(timeout=START_SECONDS)
    search_overhead = measured["mcp"]["search"]["p50_ms"] - measured["rest"]["search"]["p50_ms"]
    fetch_overhead = measured["mcp"]["fetch"]["p50_ms"] - measured["rest"]["fetch"]["p50_ms"]
    return {
        "files": files,
        "calls": calls,
        "database": vendor,
        "server": "uvicorn ctxsite.asgi:application, 1 process, loopback, one keep-alive connection per client",
        "initialize_ms": measured["initialize_ms"],
        "mcp": measured["mcp"],
        "rest": measured["rest"],
        "checks": {
            "search_overhead_p50_ms": round(search_overhead, 2),
            "fetch_overhead_p50_ms": round(fetch_overhead, 2),
            "budget_ms": OVERHEAD_BUDGET_MS,
            "mcp_overhead_ok": search_overhead <= OVERHEAD_BUDGET_MS and fetch_overhead <= OVERHEAD_BUDGET_MS,
        },
    }


def _start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "MCP_RATE_LIMIT_PER_MINUTE": "0", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "uvicorn", "ctxsite.asgi:application", "--port", str(port), "--no-access-log"]
    server = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    if answers(port, process=server):
        return server
    if server.poll() is not None:
        sys.exit(f"the server exited with status {server.returncode}")
    server.terminate()
    sys.exit(f"the server did not answer on 127.0.0.1:{port} within {START_SECONDS} s")


async def _measure(base: str, slug: str, key: str, queries: list[str], paths: list[str]) -> dict:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        initialize = []
        for _ in range(INITIALIZATIONS):
            start = time.perf_counter()
            async with (
                streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                initialize.append(_ms(start))

        async with (
            streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            mcp_search, mcp_fetch = [], []
            for query in queries:
                start = time.perf_counter()
                result = await session.call_tool("search", {"query": query, "limit": 10})
                mcp_search.append(_ms(start))
                _check(not result.is_error, result)
            for path in paths:
                start = time.perf_counter()
                result = await session.call_tool("fetch", {"id": f"ctx://bench/docs/{path}"})
                mcp_fetch.append(_ms(start))
                _check(not result.is_error, result)

        rest_search, rest_fetch = [], []
        for query in queries:
            start = time.perf_counter()
            response = await http.get(f"{base}/api/v1/orgs/{slug}/search", params={"q": query, "limit": 10})
            rest_search.append(_ms(start))
            _check(response.status_code == 200, response.text)
        for path in paths:
            start = time.perf_counter()
            response = await http.get(f"{base}/api/v1/orgs/{slug}/documents/bench/docs/{quote(path)}")
            rest_fetch.append(_ms(start))
            _check(response.status_code == 200, response.text)

    return {
        "initialize_ms": _percentiles(initialize),
        "mcp": {"search": _percentiles(mcp_search), "fetch": _percentiles(mcp_fetch)},
        "rest": {"search": _percentiles(rest_search), "fetch": _percentiles(rest_fetch)},
    }


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _check(ok: bool, what) -> None:
    if not ok:
        sys.exit(f"a call failed: {what}")


def _percentiles(timings: list[float]) -> dict:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
        "n": len(ordered),
    }


if __name__ == "__main__":
    main()
