"""Sync engine cost against the simulators: `python -m bench.sync --pages N [--spaces S]`.

Builds a simulated Confluence site of N pages (bodies of a few KB, no attachments) in S spaces and an empty
GitHub repository, connects them with `sandbox.demo.connect`, then measures three phases through the real task
path (enqueue_sync → run_sync):

    full       the first sync of every page
    noop       the same sync again, nothing changed (must write nothing to GitHub)
    one_page   one page edited, then a run targeted at that page id (as a Forge event starts it),
               followed by the ingestion of the new commit (counted in its GitHub requests)

The ingestion of the full sync's commit runs between `full` and `noop`; it is reported in `full.ingest` and kept
out of the full phase's own figures, which are the sync's. `peak_rss_mb` is the process's high-water mark during
the phase (reset at its start where Linux allows), `rss_before_mb` the resident size when it started: both include
the simulators' own state, which grows with N. `simulator_seconds` is the time the in-process simulators spent
answering. Prints one JSON object. Runs on SQLite in a temporary directory unless DATABASE_URL is set (see
bench/ingest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import _configure

SEED = 7
MAX_DEPTH = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--spaces", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-sync-"))
    _configure(workdir)
    print(json.dumps(run(args.pages, args.spaces, workdir)))


def run(pages: int, spaces: int, workdir: Path) -> dict:
    import responses
    from django.conf import settings

    from connectors import http
    from sandbox.testing import serve_with_responses
    from sandbox.world import World

    world = World(
        root=workdir / "sandbox", sandbox_url=f"{settings.PUBLIC_BASE_URL}/sandbox", site_url=settings.PUBLIC_BASE_URL
    )
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(world.github.app_private_key_path)
    for simulator in world.simulators().values():
        simulator.deliver = lambda url, body, headers: 200  # webhooks are not what this measures
    http.sleep = lambda seconds: None
    # `responses` keeps every request and response it served (bodies included) for assertions; a benchmark of
    # tens of thousands of calls must not measure that. The simulators' own request logs do the counting.
    responses.CallList.add = responses.CallList.add_call = lambda *args: None
    time_simulators(world)
    # Ingesting N files fetches N blobs, over an installation's 5,000 requests an hour past 5,000 pages; the sync
    # is what this measures, so the simulated GitHub does not throttle (requests are still counted).
    world.github.rate_limit = 10**9
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for simulator in world.simulators().values():
            serve_with_responses(rsps, simulator, simulator.base_url)
        cloud_id, page_ids = seed(world, pages=pages, spaces=spaces)
        connection = connect(world, cloud_id, spaces)
        full = phase(world, connection, pages)
        full["ingest"] = ingest_queued(world)
        noop = phase(world, connection, pages)
        edited = page_ids[len(page_ids) // 2]
        world.atlassian.update_page(edited, body="<p>Edited for the benchmark.</p>" * 20, emit=False)
        one_page = phase(world, connection, 1, page_ids=[edited], with_ingest=True)
    report = {"pages": pages, "spaces": spaces, "full": full, "noop": noop, "one_page": one_page}
    report["checks"] = checks(report)
    return report


def seed(world, *, pages: int, spaces: int) -> tuple[str, list[str]]:
    """S spaces sharing N pages; trees deep and wide; realistic storage bodies; labels on some pages."""
    from sandbox.content import PageContext, render_body

    atlassian = world.atlassian
    rng = random.Random(SEED)
    site = atlassian.create_site(name="Bench Wiki", url="https://bench.atlassian.net")
    keys = [f"S{n}" for n in range(spaces)]
    created: dict[str, list[str]] = {key: [] for key in keys}
    parents: dict[str, list[str]] = {key: [] for key in keys}  # pages shallow enough to take children
    depth: dict[str, int] = {}
    for key in keys:
        atlassian.create_space(site.cloud_id, key=key, name=f"Space {key}", emit=False, homepage=False)
    for n in range(pages):
        key = keys[n % spaces]
        # Mostly recent parents, so trees are deep as well as wide, but no deeper than real sites' trees.
        recent = parents[key][-8:]
        parent = rng.choice(recent) if recent and rng.random() < 0.9 else None
        title = f"{rng.choice(('Runbook', 'Design', 'Notes', 'Guide', 'FAQ'))} {n}"
        body = render_body(rng, PageContext(title=title, space_key=key, same_space_titles=[]))
        labels = rng.sample(("runbook", "howto", "adr", "draft"), k=rng.randint(0, 2))
        page = atlassian.create_page(
            site.cloud_id, space_key=key, title=title, body=body, parent_id=parent, labels=labels, emit=False
        )
        created[key].append(page.id)
        depth[page.id] = depth[parent] + 1 if parent else 1
        if depth[page.id] < MAX_DEPTH:
            parents[key].append(page.id)
    world.github.create_user("bench-gh", name="Bench", email="bench@example.com")
    world.github.create_org("bench-inc", owners=["bench-gh"])
    world.github.create_repository("bench-inc", "wiki", private=True)
    return site.cloud_id, [pid for ids in created.values() for pid in ids]


def connect(world, cloud_id: str, spaces: int):
    """A ready connection; the sync that becoming ready may queue is left queued for the full phase."""
    from django.contrib.auth import get_user_model

    from confluence import tasks
    from connectors.models import Organization
    from sandbox import demo

    user = get_user_model().objects.create_user(username="bench", email="bench@example.com", password="bench")  # noqa: S106
    org = Organization.create_with_owner(name="Bench", owner=user)
    tasks.send = lambda run_id: None  # this process runs the runs itself, phase by phase
    import github_sync.tasks

    github_sync.tasks.start = lambda run: None  # ingestion runs when `ingest_queued` says so
    return demo.connect(
        world,
        org=org,
        user=user,
        cloud_id=cloud_id,
        space_keys=[f"S{n}" for n in range(spaces)],
        repository="bench-inc/wiki",
    )


def phase(world, connection, pages: int, *, page_ids: list[str] | None = None, with_ingest: bool = False) -> dict:
    from confluence import tasks
    from confluence.models import SyncRun

    for simulator in world.simulators().values():
        simulator.reset_log()
    rss_before = current_rss_mb()
    reset_peak_rss()
    world.simulator_seconds = 0.0
    trigger = SyncRun.Trigger.FORGE if page_ids else SyncRun.Trigger.MANUAL
    start = time.perf_counter()
    run = tasks.enqueue_sync(connection, trigger=trigger, page_ids=page_ids)
    tasks.run_sync(run.id)
    seconds = time.perf_counter() - start
    run.refresh_from_db()
    if run.status != SyncRun.Status.SUCCEEDED:
        sys.exit(f"sync run failed ({run.error_kind}): {run.error}")
    result = {
        "seconds": round(seconds, 3),
        "pages_per_second": round(pages / seconds, 1) if seconds else None,
        "confluence_requests": world.atlassian.count(),
        "github_requests": world.github.count(),
        "github_write_requests": world.github.count() - world.github.count("GET"),
        "simulator_seconds": round(world.simulator_seconds, 3),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "counts": run.counts,
        "commit": bool(run.commit_sha),
    }
    if with_ingest:
        result["ingest"] = ingest_queued(world)
        result["confluence_requests"] = world.atlassian.count()
        result["github_requests"] = world.github.count()
        result["github_write_requests"] = world.github.count() - world.github.count("GET")
        result["github_requests_sync_only"] = run.github_requests
        result["peak_rss_mb"] = peak_rss_mb()
    return result


def ingest_queued(world) -> dict:
    """Run the queued ingestion (of the sync's commit) the way the worker would, and what it cost."""
    from github_sync.models import IngestRun
    from github_sync.tasks import run_ingest

    queued = IngestRun.objects.filter(status=IngestRun.Status.QUEUED).first()
    if queued is None:
        return {"ran": False}
    before = world.github.count()
    start = time.perf_counter()
    run_ingest(queued.id)
    queued.refresh_from_db()
    return {
        "ran": True,
        "status": queued.status,
        "seconds": round(time.perf_counter() - start, 3),
        "github_requests": world.github.count() - before,
        "documents_changed": queued.added + queued.changed + queued.removed,
    }


def time_simulators(world) -> None:
    """Count the time the in-process simulators spend answering, which a real deployment does not spend."""
    world.simulator_seconds = 0.0
    for simulator in world.simulators().values():
        handle = simulator.handle

        def timed(request, handle=handle):
            start = time.perf_counter()
            try:
                return handle(request)
            finally:
                world.simulator_seconds += time.perf_counter() - start

        simulator.handle = timed


def current_rss_mb() -> float:
    try:
        return round(int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20, 1)
    except OSError:
        return 0.0


def reset_peak_rss() -> None:
    """Start a new high-water mark (Linux >= 4.0), so each phase reports its own peak."""
    with contextlib.suppress(OSError):  # elsewhere the peak is the process's since it started
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    # Both in kilobytes on Linux; the two agree unless the reset above was refused.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def checks(report: dict) -> dict:
    """The budgets of the design's "Efficiency" section, evaluated on this run."""
    n, s = report["pages"], report["spaces"]
    listing_budget = 2 * math.ceil(n / 250) + s + 4
    full, noop, one = report["full"], report["noop"], report["one_page"]
    return {
        "full_confluence_requests_le": [listing_budget, full["confluence_requests"] <= listing_budget],
        "full_github_requests_le": [8 + math.ceil(n / 500), full["github_requests"] <= 8 + math.ceil(n / 500)],
        "noop_github_write_requests_zero": noop["github_write_requests"] == 0,
        "noop_confluence_requests_le": [listing_budget, noop["confluence_requests"] <= listing_budget],
        "one_page_confluence_requests_le_3": one["confluence_requests"] <= 3,
        "one_page_github_requests_le_6_with_ingest": one["github_requests"] <= 6,
    }


if __name__ == "__main__":
    main()
