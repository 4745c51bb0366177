"""enqueue_ingest, run_ingest and the sweeper: one queued run per repository, one running at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from github_sync import ingest, tasks
from github_sync.models import IngestRun

pytestmark = pytest.mark.django_db

LOST_AFTER = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)

QUEUED, RUNNING = IngestRun.Status.QUEUED, IngestRun.Status.RUNNING


@pytest.fixture
def started(monkeypatch):
    """The ids whose django-q2 task was enqueued (instead of running them)."""
    ids = []
    monkeypatch.setattr(tasks, "send", ids.append)
    return ids


def test_it_queues_a_run_once_the_transaction_commits(repository, started, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")

    assert (run.status, run.commit_sha, run.trigger) == (QUEUED, "a" * 40, "push")
    assert started == [run.id]


def test_newer_commits_replace_the_queued_one(repository, started, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
        second = tasks.enqueue_ingest(repository, "b" * 40, trigger="confluence")

    assert first.id == second.id
    assert IngestRun.objects.get().commit_sha == "b" * 40
    assert started == [first.id]


def test_the_branch_tip_is_never_replaced_by_an_older_commit(repository, started):
    tasks.enqueue_ingest(repository, None, trigger="admin")
    tasks.enqueue_ingest(repository, "b" * 40, trigger="push")
    assert IngestRun.objects.get().commit_sha == ""


def test_a_request_during_a_run_queues_a_new_run(repository, started):
    running = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=running.id).update(status=RUNNING, lease_until=timezone.now() + ingest.LEASE)

    queued = tasks.enqueue_ingest(repository, "b" * 40, trigger="push")

    assert queued.id != running.id


def test_only_one_run_per_repository_runs_at_a_time(repository, started, monkeypatch):
    running = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=running.id).update(status=RUNNING, lease_until=timezone.now() + ingest.LEASE)
    queued = tasks.enqueue_ingest(repository, "b" * 40, trigger="push")

    tasks.run_ingest(queued.id)

    assert IngestRun.objects.get(id=queued.id).status == QUEUED  # left for the running one to start


def test_a_finished_run_starts_the_next_queued_one(
    push, repository, started, monkeypatch, django_capture_on_commit_callbacks
):
    sha = push({"a.md": "# A"})
    first = tasks.claim(tasks.enqueue_ingest(repository, sha, trigger="push").id)
    waiting = tasks.enqueue_ingest(repository, sha, trigger="confluence")
    monkeypatch.setattr(tasks, "claim", lambda run_id: first)  # as if this worker had just claimed it

    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_ingest(first.id)

    assert IngestRun.objects.get(id=first.id).status == IngestRun.Status.SUCCEEDED
    assert started[-1] == waiting.id


def test_running_twice_is_harmless(push, repository, ingest_now):
    run = ingest_now(push({"a.md": "# A"}))
    tasks.run_ingest(run.id)
    assert IngestRun.objects.get(id=run.id).added == 1


def test_a_stale_run_goes_back_to_the_queue(repository, started):
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=run.id).update(status=RUNNING, lease_until=timezone.now() - timedelta(seconds=1))

    assert tasks.recover_stale() == 1

    run.refresh_from_db()
    assert run.status == QUEUED and "Requeued" in run.error
    assert started[-1] == run.id


def test_a_stale_run_gives_way_to_a_newer_queued_one(repository, started):
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=run.id).update(status=RUNNING, lease_until=timezone.now() - timedelta(seconds=1))
    newer = tasks.enqueue_ingest(repository, "b" * 40, trigger="push")
    IngestRun.objects.filter(id=newer.id).update(created_at=timezone.now() - timedelta(hours=1))

    tasks.sweep()

    assert IngestRun.objects.get(id=run.id).status == IngestRun.Status.FAILED
    assert started[-1] == newer.id


def test_a_run_that_stops_its_worker_every_time_is_given_up(repository, started, settings):
    settings.TASK_MAX_ATTEMPTS = 3
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    for _ in range(3):
        assert tasks.claim(run.id) is not None  # a worker takes it, and stops without a word
        IngestRun.objects.filter(id=run.id).update(lease_until=timezone.now() - timedelta(seconds=1))
        tasks.recover_stale()

    run.refresh_from_db()
    repository.refresh_from_db()
    assert (run.status, run.attempts) == (IngestRun.Status.FAILED, 3)
    assert run.error == "Ingestion given up after 3 attempts: the worker stopped each time."
    assert repository.status_detail == run.error


def test_a_lost_run_is_sent_again_once_per_the_lost_setting(repository, monkeypatch):
    """Measured from the last send: a run queued long ago is not sent again at every sweep."""
    sent = []
    monkeypatch.setattr("connectors.queue.async_task", lambda task, run_id, **options: sent.append(run_id))
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=run.id).update(created_at=timezone.now() - LOST_AFTER - timedelta(hours=1))

    assert tasks.resend_lost() == 1
    assert tasks.resend_lost() == 0
    assert sent == [run.id]


def test_a_newer_run_waits_for_the_sweeper_to_deal_with_a_stale_one(repository, started):
    """A worker died mid-ingestion (its lease ran out) and a push came before the sweep: the newer run must not start
    first, or the stale run, requeued in place, would ingest its older commit after it."""
    stale = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=stale.id).update(status=RUNNING, lease_until=timezone.now() - timedelta(seconds=1))
    newer = tasks.enqueue_ingest(repository, "b" * 40, trigger="push")

    assert tasks.claim(newer.id) is None

    tasks.sweep()
    assert IngestRun.objects.get(id=stale.id).status == IngestRun.Status.FAILED
    assert started[-1] == newer.id  # sent at once, not after the lost-task delay
    assert tasks.claim(newer.id) is not None


def test_a_fresh_queued_run_is_left_alone(repository, started):
    tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    assert tasks.sweep() == {"stale_ingests": 0}


def test_staff_reingest_from_the_admin(client, django_user_model, repository, started):
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "password")
    client.force_login(staff)

    client.post(
        reverse("admin:github_sync_repository_changelist"), {"action": "reingest", "_selected_action": [repository.id]}
    )

    run = IngestRun.objects.get()
    assert (run.trigger, run.commit_sha) == ("admin", "")


def test_a_rate_limited_run_waits_and_resumes_where_it_stopped(push, repository, github, monkeypatch):
    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    monkeypatch.setattr("github_sync.ingest.BATCH", 1)
    sha = push({"a.md": "# A", "b.md": "# B"})  # two files: fetched blob by blob (the archive costs as much)
    github.rate_limit = 2  # the tree and one blob, then GitHub says no

    run = tasks.enqueue_ingest(repository, sha, trigger="push")
    tasks.run_ingest(run.id)

    run.refresh_from_db()
    assert run.status == QUEUED and run.not_before > timezone.now() and run.lease_until is None
    assert "Trying again after" in run.error
    assert repository.documents.count() == 1
    assert tasks.sweep() == {"stale_ingests": 0}  # still waiting

    github.rate_limit = 5000
    IngestRun.objects.filter(id=run.id).update(not_before=timezone.now() - timedelta(seconds=1))
    tasks.sweep()  # tasks run inline in the suite

    run.refresh_from_db()
    assert run.status == IngestRun.Status.SUCCEEDED
    assert (run.added, run.unchanged, run.blobs_fetched) == (1, 1, 1)


def test_a_run_for_the_tip_handed_back_midway_resumes_at_the_newest_tip(push, repository, github, monkeypatch):
    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    monkeypatch.setattr("github_sync.ingest.BATCH", 1)
    push({"a.md": "# A", "b.md": "# B"})
    github.rate_limit = 4  # the repository, the branch, the tree and one blob, then GitHub says no

    run = tasks.enqueue_ingest(repository, None, trigger="admin")
    tasks.run_ingest(run.id)
    run.refresh_from_db()
    assert (run.status, run.added, run.commit_sha) == (QUEUED, 1, "")  # its counts so far, still no commit of its own

    newest = push({"c.md": "# C"})
    github.rate_limit = 5000
    IngestRun.objects.filter(id=run.id).update(not_before=timezone.now() - timedelta(seconds=1))
    tasks.sweep()

    run.refresh_from_db()
    repository.refresh_from_db()
    assert (run.status, run.commit_sha, repository.ingested_sha) == (IngestRun.Status.SUCCEEDED, newest, newest)
    assert sorted(repository.documents.values_list("path", flat=True)) == ["a.md", "b.md", "c.md"]


def test_a_broker_outage_leaves_the_run_queued(repository, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("connectors.queue.async_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    run.refresh_from_db()
    assert run.status == QUEUED
    IngestRun.objects.filter(id=run.id).update(created_at=timezone.now() - LOST_AFTER - timedelta(seconds=1))
    sent = []
    monkeypatch.setattr("connectors.queue.async_task", lambda *args, **kwargs: sent.append(args))
    assert tasks.resend_lost() == 1 and sent


def test_a_retry_wait_extends_the_lease_past_the_wait(repository):
    run = IngestRun.objects.create(repository=repository, trigger="push", status=RUNNING)
    ingest.extend_lease(run, 120)
    run.refresh_from_db()
    assert run.lease_until > timezone.now() + ingest.LEASE + timedelta(seconds=100)


def test_waits_queued_before_the_upgrade_move_to_not_before(repository):
    """Migration 0007: a queued run's wait was kept in lease_until, which now only means a running run's lease."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("github_sync.migrations.0007_ingestrun_attempts")
    when = timezone.now() + timedelta(minutes=15)
    waiting = IngestRun.objects.create(repository=repository, trigger="push", lease_until=when)
    running = IngestRun.objects.create(repository=repository, trigger="push", status=RUNNING, lease_until=when)

    migration.move_waits(apps, None)

    waiting.refresh_from_db()
    running.refresh_from_db()
    assert (waiting.not_before, waiting.lease_until) == (when, None)
    assert (running.not_before, running.lease_until) == (None, when)
