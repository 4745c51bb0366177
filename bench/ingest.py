"""Ingestion and search speed against the simulated GitHub: `python -m bench.ingest [--files N]`.

Builds a sandbox repository of N Markdown files (default 5,000), ingests it through the real task path
(enqueue_ingest → run_ingest → ingest), changes one file and ingests again (which must fetch exactly one blob),
then runs 200 searches. Prints one JSON object; `checks` holds the budgets: the first ingestion takes its files
from the repository archive (at most FIRST_RUN_REQUESTS GitHub requests, whatever N), the second fetches one
blob. Runs on SQLite (a fresh file in a temporary directory) unless DATABASE_URL is set, e.g.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctx_bench (created if missing, emptied first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

VOCABULARY = (
    "deploy rollback cluster kubernetes node scaling incident pager escalation runbook database migration backup "
    "restore latency cache queue worker retry timeout token secret rotation onboarding handbook review release "
    "branch commit pipeline artifact container image registry network firewall certificate renewal alert metric "
    "dashboard budget quota tenant region failover replica shard index search ranking snippet section heading"
)
WORDS = tuple(VOCABULARY.split())
SEARCHES = 200
RATE_LIMIT = 12_500
FIRST_RUN_REQUESTS = 5  # the installation token, the tree, the archive's redirect and its download, one to spare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-ingest-"))
    _configure(workdir)
    print(json.dumps(run(args.files, workdir)))


def _configure(workdir: Path) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "ctxsite.test_settings"  # sandbox on, fixed secrets, tasks inline
    _ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    if _has_tables():  # a PostgreSQL database left by an earlier run
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def _ensure_postgres_database(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _has_tables() -> bool:
    from django.db import connection

    return "github_sync_document" in connection.introspection.table_names()


def run(files: int, workdir: Path) -> dict:
    import responses
    from django.conf import settings
    from django.db import connection

    from sandbox.testing import serve_with_responses
    from sandbox.world import World

    world = World(
        root=workdir / "sandbox", sandbox_url=f"{settings.PUBLIC_BASE_URL}/sandbox", site_url=settings.PUBLIC_BASE_URL
    )
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(world.github.app_private_key_path)
    world.github.deliver = lambda url, body, headers: 200  # webhooks are not what this measures
    # A first ingest takes its files from the archive; should it fall back to one request per file, GitHub's limit
    # for a large organization (12,500 an hour) keeps a 5,000-file run from pausing for the next hour (the run
    # waits and resumes: ingest.wait_for_github), which is not what this measures.
    world.github.rate_limit = RATE_LIMIT
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, world.github, world.github.base_url)
        org, repository, first_sha = _setup(world.github, files)
        first = _ingest(repository, first_sha)
        changed = world.github.push_outside_commit(
            "bench",
            "docs",
            files={"docs/page-00042.md": _page(42, random.Random(1)) + "\nOne more line.\n"},
            message="Change one page",
        )
        incremental = _ingest(repository, changed)
    return {
        "files": files,
        "database": connection.vendor,
        "github_rate_limit_per_hour": RATE_LIMIT,
        "first": first,
        "incremental": incremental,
        "search": _search(org),
        "checks": {
            "first_github_requests_le": [FIRST_RUN_REQUESTS, first["github_requests"] <= FIRST_RUN_REQUESTS],
            "incremental_blobs_fetched_eq_1": incremental["blobs_fetched"] == 1,
        },
    }


def _setup(github, files: int):
    from connectors.models import Connection, Organization
    from github_sync.models import Installation, Repository, Source

    github.create_org("bench", owners=["octo-sandbox"])
    repo = github.create_repository("bench", "docs")
    rng = random.Random(0)
    pages = {f"docs/page-{n:05d}.md": _page(n, rng) for n in range(files)}
    sha = github.push_outside_commit("bench", "docs", files=pages, message="Add pages")
    installation_id = github.install_app("bench", repositories=["docs"])
    org = Organization.objects.create(name="Bench", slug="bench")
    installation = Installation.objects.create(org=org, installation_id=installation_id, account_login="bench")
    repository = Repository.objects.create(
        installation=installation,
        github_id=repo.id,
        full_name="bench/docs",
        html_url="https://github.example/bench/docs",
    )
    connection = Connection.objects.create(org=org, kind="github", name="GitHub", status="active")
    Source.connect(connection, repository)
    return org, repository, sha


def _page(n: int, rng: random.Random) -> str:
    words = lambda k: " ".join(rng.choice(WORDS) for _ in range(k))  # noqa: E731
    title = f"{words(3).capitalize()} {n}"
    sections = "\n\n".join(f"## {words(2).capitalize()}\n\n{words(60)}.\n\n{words(40)}." for _ in range(3))
    return f"---\ntitle: {title}\nversion: {n % 9 + 1}\n---\n# {title}\n\n{words(30)}.\n\n{sections}\n"


def _ingest(repository, sha: str) -> dict:
    from github_sync.models import IngestRun
    from github_sync.tasks import enqueue_ingest, run_ingest

    start = time.perf_counter()
    run = enqueue_ingest(repository, sha, trigger="bench")
    run_ingest(run.id)  # the task itself, in this process (the enqueue above ran it already when sync is on)
    seconds = time.perf_counter() - start
    run = IngestRun.objects.get(id=run.id)
    if run.status != IngestRun.Status.SUCCEEDED:
        sys.exit(f"ingest failed: {run.error}")
    return {
        "seconds": round(seconds, 2),
        "github_requests": run.github_requests,
        "blobs_fetched": run.blobs_fetched,
        "added": run.added,
        "changed": run.changed,
        "unchanged": run.unchanged,
    }


def _search(org) -> dict:
    from github_sync.search import search

    rng = random.Random(2)
    timings = []
    for _ in range(SEARCHES):
        query = " ".join(rng.sample(WORDS, rng.choice((1, 2))))
        start = time.perf_counter()
        search(org, query, limit=10)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "queries": SEARCHES,
    }


if __name__ == "__main__":
    main()
