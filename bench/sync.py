"""Sync engine cost against the simulators: `python -m bench.sync --pages N [--spaces S] [--restricted SHARE]`.

Builds a simulated Confluence site of N pages (bodies of a few KB, no attachments) in S spaces and an empty
GitHub repository in a simulator server of its own (`sandbox.serving.server`, a separate process, so this
process's memory is the site's alone, as in a real worker), connects them with `sandbox.demo.connect_with_grants`,
then measures three phases through the real task path (enqueue_sync → run_sync) over real HTTP:

    full       the first sync of every page
    noop       the same sync again, nothing changed (must write nothing to GitHub)
    one_page   one page edited, then a run targeted at that page id (as a Forge event starts it),
               followed by the ingestion of the new commit (counted in its GitHub requests)

With `--restricted SHARE`, that share of the pages gets a view restriction the connector's account may read
through (their descendants inherit it) before the first sync, and the JSON gains `restricted`: {"pages" (restricted
ones, inherited included), "in_repo" (of those, in the repository after the full sync), "after_event_in_repo" (after
one synced page is restricted and the run its Forge event starts has run)}.

The ingestion of the full sync's commit runs between `full` and `noop`; it is reported in `full.ingest` and kept
out of the full phase's own figures, which are the sync's. `peak_rss_mb` is this process's high-water mark during
the phase (reset at its start where Linux allows), `rss_before_mb` its resident size when the phase started;
`simulator_peak_rss_mb` is the simulator server's, reported apart. Prints one JSON object. Runs on SQLite in a
temporary directory unless DATABASE_URL is set (see bench/ingest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import _configure
from sandbox.serving.server import RunningSimulators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--spaces", type=int, default=5)
    parser.add_argument(
        "--restricted", type=float, default=0.0, help="share of pages given a view restriction (descendants inherit)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-sync-"))
    sims = RunningSimulators(root=workdir / "sandbox", site_url="http://testserver", deliver=False)
    try:
        os.environ["SANDBOX_URL"] = sims.sandbox_url
        os.environ["SANDBOX_DIR"] = str(workdir / "sandbox")
        _configure(workdir)
        print(json.dumps(run(sims, args.pages, args.spaces, restricted=args.restricted)))
    finally:
        sims.stop()


def run(sims: RunningSimulators, pages: int, spaces: int, *, restricted: float = 0.0) -> dict:
    from connectors import http

    http.sleep = lambda seconds: None
    sims.call("bench.worlds:unthrottle_github")
    site = sims.call("bench.worlds:seed_site", pages=pages, spaces=spaces)
    hidden = sims.call("bench.worlds:restrict_share", page_ids=site["page_ids"], share=restricted) if restricted else []
    connection = connect(sims, site)
    full = phase(sims, connection, pages)
    full["ingest"] = ingest_queued(sims)
    noop = phase(sims, connection, pages)
    readable = [pid for pid in site["page_ids"] if pid not in set(hidden)]
    edited = readable[len(readable) // 2]
    sims.call("bench.worlds:edit_page", page_id=edited, body="<p>Edited for the benchmark.</p>" * 20)
    one_page = phase(sims, connection, 1, page_ids=[edited], with_ingest=True)
    report = {"pages": pages, "spaces": spaces, "full": full, "noop": noop, "one_page": one_page}
    if restricted:
        report["restricted"] = restricted_phase(sims, connection, hidden, readable)
    report["simulator_peak_rss_mb"] = sims.peak_rss_mb()
    report["checks"] = checks(report)
    return report


def restricted_phase(sims, connection, hidden: list[str], readable: list[str]) -> dict:
    """How many restricted pages the repository holds after the full sync, and after one synced page is restricted
    and the targeted run its Forge event starts has run (that page and its subtree must leave)."""
    in_repo = sims.call("bench.worlds:restricted_in_repository", repository="bench-inc/wiki", page_ids=hidden)
    newly = readable[0]
    sims.call("bench.worlds:restrict_page", page_id=newly)
    event = phase(sims, connection, 1, page_ids=[newly])
    now_hidden = sims.call("bench.worlds:restrict_share", page_ids=readable, share=0.0)
    after = sims.call(
        "bench.worlds:restricted_in_repository", repository="bench-inc/wiki", page_ids=[*hidden, *now_hidden]
    )
    return {
        "pages": len(hidden),
        "in_repo": in_repo,
        "after_event_in_repo": after,
        "event_confluence_requests": event["confluence_requests"],
        "event_pages_removed": event["counts"].get("removed", 0),
    }


def connect(sims: RunningSimulators, site: dict):
    """A ready connection; the sync that becoming ready may queue is left queued for the full phase."""
    from django.contrib.auth import get_user_model

    import github_sync.tasks
    from confluence.sync import queue
    from connectors.models import Organization
    from sandbox import demo

    user = get_user_model().objects.create_user(username="bench", email="bench@example.com", password="bench")  # noqa: S106
    org = Organization.create_with_owner(name="Bench", owner=user)
    queue.send = lambda run_id: None  # this process runs the runs itself, phase by phase
    github_sync.tasks.send = lambda run_id: None  # ingestion runs when `ingest_queued` says so
    grants = sims.call(
        "bench.worlds:grant_connection",
        cloud_id=site["cloud_id"],
        space_keys=site["space_keys"],
        repository="bench-inc/wiki",
    )
    return demo.connect_with_grants(grants, org=org, user=user)


def phase(sims, connection, pages: int, *, page_ids: list[str] | None = None, with_ingest: bool = False) -> dict:
    from confluence import tasks
    from confluence.models import SyncRun
    from confluence.sync import queue

    sims.call("bench.worlds:reset_logs")
    rss_before = current_rss_mb()
    reset_peak_rss()
    trigger = SyncRun.Trigger.FORGE if page_ids else SyncRun.Trigger.MANUAL
    start = time.perf_counter()
    run = queue.enqueue_sync(connection, trigger=trigger, page_ids=page_ids)
    tasks.run_sync(run.id)
    seconds = time.perf_counter() - start
    run.refresh_from_db()
    if run.status != SyncRun.Status.SUCCEEDED:
        sys.exit(f"sync run failed ({run.error_kind}): {run.error}")
    result = {
        "seconds": round(seconds, 3),
        "pages_per_second": round(pages / seconds, 1) if seconds else None,
        **sims.call("bench.worlds:request_counts"),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "counts": run.counts,
        "commit": bool(run.commit_sha),
    }
    if with_ingest:
        result["ingest"] = ingest_queued(sims)
        result.update(sims.call("bench.worlds:request_counts"))
        result["github_requests_sync_only"] = run.github_requests
        result["peak_rss_mb"] = peak_rss_mb()
    return result


def ingest_queued(sims) -> dict:
    """Run the queued ingestion (of the sync's commit) the way the worker would, and what it cost."""
    from github_sync.models import IngestRun
    from github_sync.tasks import run_ingest

    queued = IngestRun.objects.filter(status=IngestRun.Status.QUEUED).first()
    if queued is None:
        return {"ran": False}
    before = sims.call("bench.worlds:request_counts")["github_requests"]
    start = time.perf_counter()
    run_ingest(queued.id)
    queued.refresh_from_db()
    return {
        "ran": True,
        "status": queued.status,
        "seconds": round(time.perf_counter() - start, 3),
        "github_requests": sims.call("bench.worlds:request_counts")["github_requests"] - before,
        "documents_changed": queued.added + queued.changed + queued.removed,
    }


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
    found = {
        "full_confluence_requests_le": [listing_budget, full["confluence_requests"] <= listing_budget],
        "full_github_requests_le": [8 + math.ceil(n / 500), full["github_requests"] <= 8 + math.ceil(n / 500)],
        "noop_github_write_requests_zero": noop["github_write_requests"] == 0,
        "noop_confluence_requests_le": [listing_budget, noop["confluence_requests"] <= listing_budget],
        "one_page_confluence_requests_le_3": one["confluence_requests"] <= 3,
        "one_page_github_requests_le_6_with_ingest": one["github_requests"] <= 6,
    }
    if "restricted" in report:
        # Restrictions cost at most ⌈N/100⌉ requests on a full sync (the restriction-free budget plus that), none
        # of the restricted pages reaches the repository, and a targeted run checks a page and its ancestors in 2.
        budget = listing_budget + math.ceil(n / 100)
        hidden = report["restricted"]
        found["restricted_full_confluence_requests_le"] = [budget, full["confluence_requests"] <= budget]
        found["restricted_none_in_repo"] = hidden["in_repo"] == 0 and hidden["after_event_in_repo"] == 0
    return found


if __name__ == "__main__":
    main()
