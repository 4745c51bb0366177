"""The sync engine when things go wrong: outside pushes mid-run, flaky services, workers killed mid-commit."""

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from confluence import tasks
from confluence.models import SyncRun
from confluence.sync import queue
from github_sync.client import InstallationClient
from sandbox import demo
from sandbox.core import FaultPlan
from tests.confluence.sync_world import build_site, sync_now

pytestmark = pytest.mark.django_db

PAGES = ["confluence/ENG/home.md", "confluence/ENG/home/deploy-guide.md", "confluence/OPS/runbook.md"]


class WorkerKilled(BaseException):
    """Stands in for the worker process dying (SIGKILL, OOM): nothing in the engine may catch it."""


@pytest.fixture
def flaky_world(sandbox, monkeypatch):
    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    site, pages = build_site(sandbox)
    sandbox.site, sandbox.pages = site, pages
    sandbox.github.create_repository("acme-inc", "wiki-flaky", private=True)
    return sandbox


def connect(flaky_world, org, user, repository="acme-inc/wiki"):
    return demo.connect(
        flaky_world,
        org=org,
        user=user,
        cloud_id=flaky_world.site.cloud_id,
        space_keys=["ENG", "OPS"],
        repository=repository,
    )


@pytest.fixture
def flaky_connection(flaky_world, acme, alice):
    return connect(flaky_world, acme, alice)


def tree(flaky_world, repo="wiki"):
    return flaky_world.github.read_tree("acme-inc", repo, "main")


def commit_count(flaky_world, repo="wiki") -> int:
    bare = flaky_world.github.repository_path("acme-inc", repo)
    out = subprocess.run(["git", "rev-list", "--count", "main"], cwd=bare, check=True, capture_output=True, text=True)
    return int(out.stdout)


def kill_once(monkeypatch, method: str, *, after: bool = False):
    """Make InstallationClient.<method> kill the worker once, before (or right after) doing its work."""
    real = getattr(InstallationClient, method)
    state = {"killed": False}

    def dying(self, *args, **kwargs):
        if state["killed"]:
            return real(self, *args, **kwargs)
        state["killed"] = True
        if after:
            real(self, *args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(InstallationClient, method, dying)


def recover(flaky_connection) -> SyncRun:
    """What the sweeper does once the dead run's heartbeat is old enough, then the recovery run itself."""
    SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert queue.recover_stale() == 1
    recovery = SyncRun.objects.get(connection=flaky_connection, status=SyncRun.Status.QUEUED)
    tasks.run_sync(recovery.id)
    recovery.refresh_from_db()
    return recovery


def test_it_rebuilds_on_a_branch_moved_during_the_run(flaky_world, flaky_connection, monkeypatch):
    sync_now(flaky_connection)
    flaky_world.atlassian.update_page(
        flaky_world.pages["home"].id, body="<p>Edited while someone pushed.</p>", emit=False
    )
    before = commit_count(flaky_world)
    real = InstallationClient.create_commit
    pushed = []

    def push_first(self, *args, **kwargs):
        if not pushed:
            pushed.append(
                flaky_world.github.push_outside_commit("acme-inc", "wiki", files={"NOTES.md": "mine"}, message="x")
            )
        return real(self, *args, **kwargs)

    monkeypatch.setattr(InstallationClient, "create_commit", push_first)
    run = sync_now(flaky_connection)
    assert run.status == "succeeded", run.error
    files = tree(flaky_world)
    assert files["NOTES.md"] == b"mine"
    assert "Edited while someone pushed." in files["confluence/ENG/home.md"].decode()
    assert commit_count(flaky_world) == before + 2  # the outside commit and exactly one sync commit on top of it
    assert flaky_world.github.head_sha("acme-inc", "wiki") == run.commit_sha


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_it_ends_with_the_clean_runs_tree_despite_flaky_services(flaky_world, acme, alice, seed):
    clean = connect(flaky_world, acme, alice)
    assert sync_now(clean).status == "succeeded"
    flaky = connect(flaky_world, acme, alice, repository="acme-inc/wiki-flaky")
    kinds = ("429", "429-no-retry-after", "500", "502", "503", "timeout")
    flaky_world.atlassian.inject_faults(FaultPlan(rate=0.2, kinds=kinds, seed=seed))
    flaky_world.github.inject_faults(FaultPlan(rate=0.2, kinds=kinds, seed=seed + 100))
    run = sync_now(flaky)
    flaky_world.atlassian.inject_faults(None)
    flaky_world.github.inject_faults(None)
    assert run.status == "succeeded", run.error
    assert any(r.fault for r in flaky_world.atlassian.requests) and any(r.fault for r in flaky_world.github.requests)
    assert tree(flaky_world, "wiki-flaky") == tree(flaky_world, "wiki")
    assert commit_count(flaky_world, "wiki-flaky") == commit_count(flaky_world, "wiki")


def test_it_finishes_a_run_killed_before_the_ref_update(flaky_world, flaky_connection, monkeypatch):
    kill_once(monkeypatch, "update_branch")
    with pytest.raises(WorkerKilled):
        sync_now(flaky_connection)
    assert SyncRun.objects.get(connection=flaky_connection, status=SyncRun.Status.RUNNING)
    recovery = recover(flaky_connection)
    assert recovery.status == "succeeded", recovery.error
    files = tree(flaky_world)
    assert all(path in files for path in PAGES)
    assert recovery.commit_sha == flaky_world.github.head_sha("acme-inc", "wiki")


def test_it_makes_one_sync_commit_after_a_kill_before_the_ref_update(flaky_world, flaky_connection, monkeypatch):
    sync_now(flaky_connection)
    flaky_world.atlassian.update_page(flaky_world.pages["home"].id, body="<p>Second version.</p>", emit=False)
    before = commit_count(flaky_world)
    kill_once(monkeypatch, "update_branch")
    with pytest.raises(WorkerKilled):
        sync_now(flaky_connection)
    recovery = recover(flaky_connection)
    assert recovery.status == "succeeded", recovery.error
    assert commit_count(flaky_world) == before + 1
    assert "Second version." in tree(flaky_world)["confluence/ENG/home.md"].decode()


def test_it_makes_no_duplicate_commit_after_a_kill_after_the_ref_update(flaky_world, flaky_connection, monkeypatch):
    sync_now(flaky_connection)
    flaky_world.atlassian.update_page(flaky_world.pages["home"].id, body="<p>Committed, not recorded.</p>", emit=False)
    kill_once(monkeypatch, "update_branch", after=True)
    with pytest.raises(WorkerKilled):
        sync_now(flaky_connection)
    committed = commit_count(flaky_world)
    recovery = recover(flaky_connection)
    assert recovery.status == "succeeded", recovery.error
    assert recovery.commit_sha == ""
    assert commit_count(flaky_world) == committed
    assert "Committed, not recorded." in tree(flaky_world)["confluence/ENG/home.md"].decode()


def test_it_recovers_a_first_run_killed_after_the_ref_update(flaky_world, flaky_connection, monkeypatch):
    kill_once(monkeypatch, "update_branch", after=True)
    with pytest.raises(WorkerKilled):
        sync_now(flaky_connection)
    committed = commit_count(flaky_world)
    recovery = recover(flaky_connection)
    assert recovery.status == "succeeded", recovery.error
    assert commit_count(flaky_world) == committed
    assert all(path in tree(flaky_world) for path in PAGES)


def test_it_restores_a_page_file_deleted_by_an_outside_push(flaky_world, flaky_connection):
    sync_now(flaky_connection)
    flaky_world.github.push_outside_commit(
        "acme-inc", "wiki", files={"confluence/OPS/runbook.md": None}, message="oops"
    )
    run = sync_now(flaky_connection)
    assert run.status == "succeeded", run.error
    assert "confluence/OPS/runbook.md" in tree(flaky_world)
    assert run.counts["added"] == 1


def test_a_run_given_up_as_stale_stops_before_moving_the_branch(flaky_world, flaky_connection, monkeypatch):
    sync_now(flaky_connection)
    flaky_world.atlassian.update_page(flaky_world.pages["home"].id, body="<p>Stalled edit.</p>", emit=False)
    before = commit_count(flaky_world)
    real = InstallationClient.create_commit

    def stall_then_commit(self, *args, **kwargs):
        # The worker stalls here long enough for the sweeper to give the run up.
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        assert queue.recover_stale() == 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(InstallationClient, "create_commit", stall_then_commit)
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)  # the recovery run waits for its worker
    stalled = sync_now(flaky_connection)
    assert commit_count(flaky_world) == before
    assert stalled.status == "failed" and "recovery run" in stalled.error  # the sweeper's record stands
    monkeypatch.setattr(InstallationClient, "create_commit", real)
    recovery = SyncRun.objects.get(connection=flaky_connection, status=SyncRun.Status.QUEUED)
    tasks.run_sync(recovery.id)
    recovery.refresh_from_db()
    assert recovery.status == "succeeded" and commit_count(flaky_world) == before + 1
    assert "Stalled edit." in tree(flaky_world)["confluence/ENG/home.md"].decode()


def test_a_retry_wait_keeps_the_run_alive(flaky_world, flaky_connection, monkeypatch):
    beats = []
    real = SyncRun.heartbeat
    monkeypatch.setattr(SyncRun, "heartbeat", lambda self, **fields: beats.append(fields) or real(self, **fields))
    flaky_world.atlassian.inject_faults(FaultPlan(on_nth={1: "503"}, path_pattern="/wiki/"))
    run = sync_now(flaky_connection)
    assert run.status == "succeeded", run.error
    assert run.retries == 1 and beats
