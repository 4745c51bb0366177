"""github_sync's own schedules: the sweep that recovers ingestions, and the pruning of deliveries and ingestions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from github_sync import tasks
from github_sync.models import IngestRun, Repository, WebhookDelivery

pytestmark = pytest.mark.django_db

LOST_AFTER = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)

Status = IngestRun.Status
OLD = timedelta(days=400)  # past every retention setting's default
RECENT = timedelta(days=1)


@pytest.fixture
def started(monkeypatch):
    """The ids whose django-q2 task was sent (instead of running them)."""
    ids = []
    monkeypatch.setattr(tasks, "send", ids.append)
    return ids


def scheduled(name: str):
    """The function a schedule row calls, as the django-q2 scheduler resolves it."""
    return import_string(Schedule.objects.get(name=name).func)


def test_migrations_create_the_schedules():
    rows = {row.name: row for row in Schedule.objects.filter(name__startswith="ctx: github")}
    sweep, prune = rows["ctx: github sweep"], rows["ctx: github prune history"]
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == ("github_sync.tasks.sweep", "I", 1)
    assert (prune.func, prune.schedule_type) == ("github_sync.tasks.prune_history", "D")
    assert sweep.repeats == prune.repeats == -1


def test_the_sweep_puts_an_ingestion_whose_worker_died_back_to_work(repository, started):
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    IngestRun.objects.filter(id=run.id).update(status=Status.RUNNING, lease_until=timezone.now() - timedelta(seconds=1))

    assert scheduled("ctx: github sweep")() == {"stale_ingests": 1}

    run.refresh_from_db()
    assert run.status == Status.QUEUED and started[-1] == run.id


def test_the_sweep_resends_an_ingestion_the_broker_lost(repository, started):
    run = tasks.enqueue_ingest(repository, "a" * 40, trigger="push")
    assert tasks.sweep() == {"stale_ingests": 0}  # just queued: its task is on its way

    IngestRun.objects.filter(id=run.id).update(created_at=timezone.now() - LOST_AFTER - timedelta(seconds=1))

    assert tasks.sweep() == {"stale_ingests": 1} and started[-1] == run.id


def test_pruning_keeps_unfinished_failed_and_recent_deliveries():
    now = timezone.now()
    for n, (status, age) in enumerate(
        [("processed", OLD), ("ignored", OLD), ("failed", OLD), ("received", OLD), ("processed", RECENT)]
    ):
        WebhookDelivery.objects.create(delivery_id=f"d{n}", event="push", status=status, received_at=now - age)

    assert scheduled("ctx: github prune history")()["deliveries"] == 2

    kept = WebhookDelivery.objects.order_by("delivery_id").values_list("delivery_id", flat=True)
    assert list(kept) == ["d2", "d3", "d4"]


def test_pruning_keeps_each_repositorys_latest_and_latest_successful_ingestion(repository):
    site = Repository.objects.get(full_name="acme-gh/site")
    now = timezone.now()

    def run(repo, status, age):
        return IngestRun.objects.create(repository=repo, trigger="push", status=status, created_at=now - age).id

    oldest = run(repository, Status.SUCCEEDED, OLD)
    documents_from = run(repository, Status.SUCCEEDED, OLD)  # the commit the repository's documents show
    recent = run(repository, Status.FAILED, RECENT)
    old_failure = run(repository, Status.FAILED, OLD)
    waiting = run(repository, Status.QUEUED, OLD)  # unfinished (waiting out a rate limit), and the latest
    only_run = run(site, Status.FAILED, OLD)

    assert tasks.prune_history()["ingest_runs"] == 2

    kept = set(IngestRun.objects.values_list("id", flat=True))
    assert kept == {documents_from, recent, waiting, only_run}
    assert not kept & {oldest, old_failure}


def test_retention_follows_the_settings(repository, settings):
    settings.GITHUB_WEBHOOK_RETENTION_DAYS = 0
    settings.INGEST_RUN_RETENTION_DAYS = 0
    WebhookDelivery.objects.create(delivery_id="d", event="push", status="processed")
    IngestRun.objects.create(repository=repository, trigger="push", status=Status.SUCCEEDED)
    IngestRun.objects.create(repository=repository, trigger="push", status=Status.SUCCEEDED)

    tasks.prune_history()

    assert not WebhookDelivery.objects.filter(delivery_id="d").exists()
    assert IngestRun.objects.count() == 1
