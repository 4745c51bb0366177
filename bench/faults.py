"""Nothing lost under load and faults: `python -m bench.faults [--short]` prints one JSON object.

Starts what a multi-machine deployment runs, on this machine: PostgreSQL (the machine's server, a database of
its own), a Redis of its own on another loopback port (never the shared one, since this stops it), the site under
gunicorn, two `qcluster` processes, and the simulators in their own process (`sandbox.serving.server`). Then:

    1. a site of PAGES pages in CONNECTIONS spaces, one connection (and repository) per space, fully synced;
    2. a storm of EVENTS page changes over STORM seconds, each sending its Forge event, while the schedules fire
       every minute (sweeper, and reconciliation of every connection);
    3. 20% of Atlassian and GitHub API requests fail (429 with and without Retry-After, 5xx, timeouts), from the
       storm's start until twice its length after its end;
    4. one worker process group is killed with SIGKILL while a run is running, and started again;
    5. Redis is stopped for REDIS_DOWN seconds and started again (empty, as after a crash);
    6. someone pushes to a target branch while a run of that connection is running.

Then the faults stop and the script waits until every event is processed and no run or ingestion is queued or
running. It checks, for every connection, that the repository holds exactly what a clean full sync of the final
Confluence state writes (into a fresh repository, compared blob by blob) and still holds the outside push; that
no two commits carry the same page version; that every accepted event was stored and processed; and that no two
runs of one connection overlapped. `--short` is a smaller version for CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import answers, free_port
from sandbox.serving.server import RunningSimulators

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ctx_bench_faults"
OURS = ("confluence/", ".ctx/")


@dataclass(frozen=True)
class Size:
    """The numbers of the module docstring: PAGES, CONNECTIONS, EVENTS, STORM and REDIS_DOWN (seconds), and how long
    each wait for quiet may last (seconds)."""

    pages: int
    connections: int
    events: int
    storm_seconds: float
    redis_down_seconds: float
    settle_timeout: float


FULL = Size(pages=2000, connections=5, events=2000, storm_seconds=30, redis_down_seconds=20, settle_timeout=900)
SHORT = Size(pages=250, connections=5, events=250, storm_seconds=10, redis_down_seconds=5, settle_timeout=400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the smaller version CI runs")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("bench.faults needs redis-server (Debian: apt-get install redis-server)")
    report = Bench(SHORT if args.short else FULL, database_url=args.database_url, seed=args.seed).run()
    print(json.dumps(report))
    sys.exit(0 if report["ok"] else 1)


class Bench:
    def __init__(self, size: Size, *, database_url: str, seed: int):
        self.size = size
        self.seed = seed
        self.database_url = database_url
        self.workdir = Path(tempfile.mkdtemp(prefix="ctx-bench-faults-"))
        self.site_port, self.redis_port = free_port(), free_port()
        self.site_url = f"http://127.0.0.1:{self.site_port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.log = open(self.workdir / "processes.log", "ab")  # noqa: SIM115 (kept open for every child)
        self.notes: list[str] = []
        self.worker_restarts = 0
        self.killed_run: int | None = None

    # Orchestration --------------------------------------------------------------------------------------

    def run(self) -> dict:
        start = time.monotonic()
        self.sims = RunningSimulators(root=self.workdir / "sandbox", site_url=self.site_url, stall_seconds=1.0)
        try:
            self.env = self.environment()
            os.environ.update(self.env)
            self.prepare_database()
            self.start_redis()
            self.start("site", self.gunicorn_command())
            self.wait_for_site()
            for n in range(2):
                self.start(f"worker{n}", [sys.executable, "manage.py", "qcluster"], new_session=True)
            self.site = self.sims.call(
                "bench.worlds:seed_site",
                pages=self.size.pages,
                spaces=self.size.connections,
                repositories=[f"bench-inc/wiki-{n}" for n in range(self.size.connections)]
                + [f"clean-inc/wiki-{n}" for n in range(self.size.connections)],
                seed=self.seed,
            )
            self.connections = self.connect_all("bench-inc", "Bench")
            self.wait_until_quiet(self.size.settle_timeout, phase="initial sync")
            first_run = self.last_run_id()
            storm = self.storm()
            # The faults outlast the storm by twice its length, while the sweeper works through what the Redis
            # outage held back. (Kept on until all is quiet, GitHub's 429s without Retry-After, which a client must
            # answer by waiting a minute or more, keep the workers asleep in retries for many minutes.)
            self.wait_while_faulty(2 * self.size.storm_seconds)
            self.sims.call("bench.worlds:inject_faults", rate=0.0, seed=0)
            self.wait_until_quiet(self.size.settle_timeout, phase="after the storm")
            report = self.check(first_run, storm)
        finally:
            self.stop_all()
        report["seconds"] = round(time.monotonic() - start, 1)
        return report

    def environment(self) -> dict[str, str]:
        return {
            # The site talks to the simulators (SANDBOX), which only run with DEBUG on; secrets are still explicit.
            "DEBUG": "1",
            "SECRET_KEY": "bench-faults-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FIELD_ENCRYPTION_KEY": "k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E=",
            "PUBLIC_BASE_URL": self.site_url,
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SANDBOX": "1",
            "SANDBOX_URL": self.sims.sandbox_url,
            "SANDBOX_DIR": str(self.workdir / "sandbox"),
            "DATABASE_URL": self.database_url,
            "Q_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "Q_WORKERS": "4",
            "DJANGO_SETTINGS_MODULE": "ctxsite.settings",
            # The safety nets on a bench's clock: a silent run is given up after 45 s, an ingestion's lease is 60 s,
            # a lost task is re-sent after 20 s, and every connection is due for reconciliation every time the
            # (one-minute) schedule fires.
            "SYNC_STALE_AFTER_SECONDS": "45",
            "INGEST_LEASE_SECONDS": "60",
            "TASK_LOST_AFTER_SECONDS": "20",
            "CONFLUENCE_RECONCILE_HOURS": "0.005",
            "LOG_LEVEL": "WARNING",
        }

    def prepare_database(self) -> None:
        import psycopg

        base, name = self.database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone
        from django_q.models import Schedule

        call_command("migrate", verbosity=0)
        # The sweeps and the reconciliation every minute, starting now: the scheduler fires throughout the storm.
        names = ["ctx: sweep", "ctx: github sweep", "ctx: reconcile"]
        Schedule.objects.filter(name__in=names).update(minutes=1, next_run=timezone.now())

    def start_redis(self) -> None:
        command = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""]
        self.start("redis", [*command, "--appendonly", "no"])
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.redis_port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def gunicorn_command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "ctxsite.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.site_port}",
            "--workers",
            "2",
            "--threads",
            "8",
            "--timeout",
            "60",
        ]

    def start(self, name: str, command: list[str], *, new_session: bool = False) -> None:
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self.log,
            stderr=self.log,
            start_new_session=new_session,
        )

    def wait_for_site(self) -> None:
        if not answers(self.site_port):
            raise RuntimeError(f"the site did not start (see {self.workdir / 'processes.log'})")

    def supervise(self) -> None:
        """What systemd does for a real deployment: start a worker again if it exits."""
        for n in range(2):
            name = f"worker{n}"
            if self.processes[name].poll() is not None:
                self.worker_restarts += 1
                self.start(name, [sys.executable, "manage.py", "qcluster"], new_session=True)

    def stop_all(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                if name.startswith("worker"):
                    os.killpg(process.pid, signal.SIGTERM)
                else:
                    process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.sims.stop()

    # Connections ----------------------------------------------------------------------------------------

    def connect_all(self, owner: str, name: str) -> list:
        from django.contrib.auth import get_user_model

        from connectors.models import Organization
        from sandbox import demo

        user, _ = get_user_model().objects.get_or_create(username=f"{owner}-user", email=f"{owner}@example.com")
        org = Organization.create_with_owner(name=name, owner=user)
        connections = []
        for n, key in enumerate(self.site["space_keys"]):
            grants = self.sims.call(
                "bench.worlds:grant_connection",
                cloud_id=self.site["cloud_id"],
                space_keys=[key],
                repository=f"{owner}/wiki-{n}",
            )
            connections.append(demo.connect_with_grants(grants, org=org, user=user, name=f"{name} {key}"))
        return connections

    # The storm ------------------------------------------------------------------------------------------

    def storm(self) -> dict:
        """Changes with their events, spread over the storm, while the faults below happen alongside."""
        self.sims.call("bench.worlds:inject_faults", rate=0.2, seed=self.seed)
        done = {"changes": {}, "outside_pushes": []}
        stop = threading.Event()
        chaos = threading.Thread(target=self.chaos, args=(done, stop), daemon=True)
        chaos.start()
        batches = max(1, int(self.size.storm_seconds * 4))
        per_batch, extra = divmod(self.size.events, batches)
        started = time.monotonic()
        for n in range(batches):
            count = per_batch + (1 if n < extra else 0)
            if count:
                changed = self.sims.call(
                    "bench.worlds:change_pages",
                    cloud_id=self.site["cloud_id"],
                    space_keys=self.site["space_keys"],
                    count=count,
                    seed=self.seed * 1000 + n,
                )
                for kind, value in changed.items():
                    done["changes"][kind] = done["changes"].get(kind, 0) + value
            time.sleep(max(0.0, started + (n + 1) * self.size.storm_seconds / batches - time.monotonic()))
        stop.set()
        chaos.join()
        return done

    def chaos(self, done: dict, stop: threading.Event) -> None:
        storm = self.size.storm_seconds
        self.kill_a_worker_mid_run(deadline=time.monotonic() + storm * 0.5)
        self.stop_redis_for(self.size.redis_down_seconds)
        self.push_during_a_run(done, deadline=time.monotonic() + storm)
        while not stop.is_set():
            self.supervise()
            stop.wait(1)

    def running_run(self, deadline: float):
        from confluence.models import SyncRun

        while time.monotonic() < deadline:
            self.supervise()
            run = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).order_by("?").first()
            if run is not None:
                return run
            time.sleep(0.05)
        return None

    def kill_a_worker_mid_run(self, *, deadline: float) -> None:
        """SIGKILL the qcluster (its whole process group) whose worker process holds a running run."""
        victim = None
        while victim is None and time.monotonic() < deadline:
            run = self.running_run(deadline)
            victim = run and self.cluster_of(run.worker)
        if victim is None:
            self.notes.append("no running run's worker was found to kill; killed worker0")
            victim = "worker0"
        else:
            self.killed_run = run.id
        os.killpg(self.processes[victim].pid, signal.SIGKILL)
        self.processes[victim].wait()
        time.sleep(2)
        self.start(victim, [sys.executable, "manage.py", "qcluster"], new_session=True)

    def cluster_of(self, worker: str) -> str | None:
        try:
            group = os.getpgid(int(worker.rsplit(":", 1)[1]))
        except (ValueError, IndexError, ProcessLookupError):
            return None
        return next((name for name, p in self.processes.items() if name.startswith("worker") and p.pid == group), None)

    def stop_redis_for(self, seconds: float) -> None:
        redis = self.processes["redis"]
        redis.terminate()
        redis.wait()
        time.sleep(seconds)
        self.start_redis()

    def push_during_a_run(self, done: dict, *, deadline: float) -> None:
        run = self.running_run(deadline)
        if run is None:
            self.notes.append("no run was running to push under; pushed anyway")
        index = self.connections.index(run.connection) if run is not None else 0
        repository = f"bench-inc/wiki-{index}"
        path = f"NOTES-{index}.md"
        self.sims.call("bench.worlds:push_outside", repository=repository, path=path, text="Kept by ctx|.\n")
        done["outside_pushes"].append({"repository": repository, "path": path, "during_run": run is not None})

    # Settling -------------------------------------------------------------------------------------------

    def wait_while_faulty(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.supervise()
            time.sleep(1)

    def wait_until_quiet(self, timeout: float, *, phase: str) -> None:
        """Until every delivery is answered, every event handled, and no run or ingestion waits or runs, twice
        in a row (the schedules may start a reconciliation run at any minute)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.supervise()
            quiet = quiet + 1 if self.is_quiet() else 0
            if quiet >= 3:
                return
            time.sleep(2)
        raise RuntimeError(f"not quiet {timeout:.0f} s {phase} (see {self.workdir / 'processes.log'})")

    def is_quiet(self) -> bool:
        from confluence.models import SyncRun, WebhookEvent
        from github_sync.models import IngestRun

        busy = [SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
        return not (
            SyncRun.objects.filter(status__in=busy).exists()
            or WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists()
            or IngestRun.objects.filter(status__in=[IngestRun.Status.QUEUED, IngestRun.Status.RUNNING]).exists()
            or self.deliveries_in_flight()
        )

    def deliveries_in_flight(self) -> bool:
        sent = sum(self.sims.call("bench.worlds:forge_deliveries").values())
        return sent < self.events_emitted()

    def events_emitted(self) -> int:
        return self.sims.call("bench.worlds:forge_events_emitted")

    def last_run_id(self) -> int:
        from confluence.models import SyncRun

        return SyncRun.objects.order_by("-id").values_list("id", flat=True).first() or 0

    # Checks ---------------------------------------------------------------------------------------------

    def check(self, first_storm_run: int, storm: dict) -> dict:
        from confluence.models import SyncRun, WebhookEvent
        from github_sync.models import IngestRun

        clean = self.connect_all("clean-inc", "Clean")
        self.wait_until_quiet(self.size.settle_timeout, phase="clean syncs")
        trees_equal, outside_kept = True, True
        commits = duplicates = 0
        for n in range(self.size.connections):
            ours = self.tree(f"bench-inc/wiki-{n}")
            reference = self.tree(f"clean-inc/wiki-{n}")
            if {p: s for p, s in ours.items() if p.startswith(OURS)} != reference:
                trees_equal = False
                self.notes.append(f"bench-inc/wiki-{n} differs from its clean sync: {diff(ours, reference)}")
            for push in storm["outside_pushes"]:
                if push["repository"] == f"bench-inc/wiki-{n}" and push["path"] not in ours:
                    outside_kept = False
            found, dupes = self.commit_history(f"bench-inc/wiki-{n}")
            commits += found
            duplicates += dupes
        runs = SyncRun.objects.filter(connection__in=self.connections)
        deliveries = self.sims.call("bench.worlds:forge_deliveries")
        accepted = sum(count for status, count in deliveries.items() if status.startswith("2"))
        stored = WebhookEvent.objects.count()
        unprocessed = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).count()
        report = {
            "pages": self.size.pages,
            "connections": self.size.connections,
            "events_sent": self.events_emitted(),
            "events_accepted": accepted,
            "events_refused": {s: c for s, c in deliveries.items() if not s.startswith("2")},
            "events_stored": stored,
            "events_lost": max(0, accepted - stored) + unprocessed,
            "changes": storm["changes"],
            "runs": runs.filter(id__gt=first_storm_run).count(),
            "runs_failed_transient": runs.filter(id__gt=first_storm_run, error_kind="transient").count(),
            "killed_run": self.killed_run,
            "killed_run_recovered": runs.filter(id=self.killed_run, error__contains="worker stopped").exists(),
            "commits": commits,
            "ingest_runs": IngestRun.objects.count(),
            "ingest_runs_failed": IngestRun.objects.filter(status=IngestRun.Status.FAILED).count(),
            "retries": sum(runs.values_list("retries", flat=True)),
            "max_concurrent_runs_per_connection": max_overlap(runs),
            "trees_equal": trees_equal,
            "outside_pushes_kept": outside_kept,
            "outside_pushes": storm["outside_pushes"],
            "duplicate_commits": duplicates,
            "worker_restarts": self.worker_restarts,
            "clean_syncs_succeeded": all(c.sync_runs.filter(status=SyncRun.Status.SUCCEEDED).exists() for c in clean),
            "notes": self.notes,
        }
        report["ok"] = (
            report["trees_equal"]
            and report["outside_pushes_kept"]
            and report["duplicate_commits"] == 0
            and report["events_lost"] == 0
            and report["max_concurrent_runs_per_connection"] == 1
            and report["clean_syncs_succeeded"]
            and report["killed_run_recovered"]
        )
        return report

    def tree(self, repository: str) -> dict[str, str]:
        path = self.sims.call("bench.worlds:repository_path", repository=repository)
        out = git(path, "ls-tree", "-r", "main")
        return {line.split("\t", 1)[1]: line.split()[2] for line in out.splitlines()}

    def commit_history(self, repository: str) -> tuple[int, int]:
        """(sync commits, duplicates). A duplicate is a sync commit that changes nothing, or one that writes a page
        file exactly as an earlier commit already wrote it (same path, same content): the same change twice."""
        path = self.sims.call("bench.worlds:repository_path", repository=repository)
        log = git(path, "log", "--reverse", "--raw", "--no-renames", "--no-abbrev", "--format=%x01%T %P%x00%s", "main")
        trees = dict(line.split()[:2] for line in git(path, "log", "--format=%H %T", "main").splitlines())
        written: set[tuple[str, str]] = set()
        commits = duplicates = 0
        for record in filter(None, log.split("\x01")):
            header, _, rest = record.partition("\x00")
            tree, *parents = header.split()
            subject, *changes = rest.strip().splitlines()
            if not subject.startswith("Sync Confluence"):
                continue
            commits += 1
            if parents and trees.get(parents[0]) == tree:
                duplicates += 1
            for change in filter(None, changes):
                meta, _, file = change.partition("\t")
                blob, status = meta.split()[3], meta.split()[4]
                if status in ("A", "M") and file.startswith("confluence/"):
                    duplicates += (file, blob) in written
                    written.add((file, blob))
        return commits, duplicates


def git(path: str, *args: str) -> str:
    return subprocess.run(["git", "-C", path, *args], check=True, capture_output=True, text=True).stdout


def diff(ours: dict, reference: dict) -> dict:
    ours = {p: s for p, s in ours.items() if p.startswith(OURS)}
    return {
        "missing": sorted(reference.keys() - ours.keys())[:5],
        "extra": sorted(ours.keys() - reference.keys())[:5],
        "different": sorted(p for p in ours.keys() & reference.keys() if ours[p] != reference[p])[:5],
    }


def max_overlap(runs) -> int:
    """The most runs of one connection that were running at the same moment, from their recorded intervals."""
    from django.utils import timezone

    worst = 0
    by_connection: dict[int, list[tuple]] = {}
    for connection_id, started, finished in runs.exclude(started_at=None).values_list(
        "connection_id", "started_at", "finished_at"
    ):
        by_connection.setdefault(connection_id, []).append((started, finished or timezone.now()))
    for intervals in by_connection.values():
        points = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals], key=lambda p: (p[0], p[1]))
        running = 0
        for _, step in points:
            running += step
            worst = max(worst, running)
    return worst


if __name__ == "__main__":
    main()
