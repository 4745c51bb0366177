"""`confluence_sync`, `sandbox_demo` and the scheduled jobs."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from confluence import tasks
from confluence.models import SyncRun
from confluence.sync import queue
from connectors.models import Connection
from tests.confluence.sync_world import sync_now

pytestmark = pytest.mark.django_db


def test_it_queues_a_sync_from_the_command(eng_connection, capsys):
    call_command("confluence_sync", str(eng_connection.id), "--full")
    run = eng_connection.sync_runs.get(status="queued")
    assert run.full and "queued" in capsys.readouterr().out


@pytest.mark.slow
def test_it_waits_for_the_sync_when_asked(eng_connection, capsys, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    call_command("confluence_sync", str(eng_connection.id), "--wait")
    assert "succeeded" in capsys.readouterr().out
    assert eng_connection.sync_runs.filter(status="succeeded").exists()


def test_it_refuses_an_unknown_connection():
    with pytest.raises(CommandError, match="No Confluence connection"):
        call_command("confluence_sync", "999")


def test_it_refuses_an_unfinished_connection(confluence_connection):
    with pytest.raises(CommandError, match="has not finished its setup"):
        call_command("confluence_sync", str(confluence_connection.id))


def test_it_creates_the_schedules():
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"ctx: sweep", "ctx: reconcile"} <= names


def test_it_reconciles_connections_whose_last_full_run_is_old(eng_connection, settings):
    sync_now(eng_connection)
    assert tasks.reconcile_due() == 0
    SyncRun.objects.update(created_at=timezone.now() - timedelta(hours=settings.CONFLUENCE_RECONCILE_HOURS + 1))
    assert tasks.reconcile_due() == 1
    assert eng_connection.sync_runs.get(status="queued").trigger == "schedule"


def test_it_does_not_reconcile_paused_connections(eng_connection):
    sync_now(eng_connection)
    SyncRun.objects.update(created_at=timezone.now() - timedelta(days=2))
    eng_connection.pause()
    assert tasks.reconcile_due() == 0


def test_it_resends_queued_runs_the_broker_lost(eng_connection, monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", sent.append)
    run = eng_connection.sync_runs.get(status="queued")
    assert queue.resend_lost() == 0
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert queue.resend_lost() == 1 and sent == [run.pk]


def test_it_sweeps_everything_in_one_call(eng_connection):
    result = tasks.sweep()
    assert set(result) == {"stale_runs", "lost_runs", "pending_events"}  # ingestions: github_sync's own sweep


def test_it_builds_the_demo(tmp_path, settings, monkeypatch, capsys):
    from sandbox import store

    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(tmp_path / "sandbox/github/app-private-key.pem")
    monkeypatch.setattr(store, "_cache", {})
    call_command("sandbox_demo", "--pages", "12")
    out = capsys.readouterr().out
    assert "synced" in out and "git clone" in out
    repo = tmp_path / "sandbox/github/ctx-demo/confluence-docs.git"  # the demo's own GitHub account
    assert repo.is_dir()
    assert SyncRun.objects.filter(status="succeeded").count() == 1


def test_it_syncs_the_same_demo_connection_when_run_again(tmp_path, settings, monkeypatch):
    from sandbox import store

    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(tmp_path / "sandbox/github/app-private-key.pem")
    monkeypatch.setattr(store, "_cache", {})
    call_command("sandbox_demo", "--pages", "12")
    call_command("sandbox_demo", "--pages", "12")
    assert Connection.objects.filter(kind=Connection.Kind.CONFLUENCE).count() == 1
    assert SyncRun.objects.filter(status="succeeded").count() == 2


def test_it_keeps_reconciling_after_the_forge_app_is_removed(eng_connection):
    from confluence.setup import steps

    sync_now(eng_connection)
    steps.record_forge_uninstalled(cloud_id=eng_connection.atlassian_site.cloud_id)
    SyncRun.objects.update(created_at=timezone.now() - timedelta(days=1))
    assert tasks.reconcile_due() == 1


def test_it_prunes_old_history_but_keeps_each_connections_latest_run(eng_connection):
    from confluence.models import WebhookEvent

    old = timezone.now() - timedelta(days=400)
    sync_now(eng_connection)
    sync_now(eng_connection)
    SyncRun.objects.update(created_at=old)
    WebhookEvent.objects.create(event_type="x", cloud_id="c", dedupe_key="k1", status="processed", received_at=old)
    WebhookEvent.objects.create(event_type="x", cloud_id="c", dedupe_key="k2", status="failed", received_at=old)
    result = tasks.prune_history()
    assert result == {"events": 1, "runs": 1, "forge_tokens": 0}
    assert SyncRun.objects.count() == 1
    assert list(WebhookEvent.objects.filter(dedupe_key__in=["k1", "k2"]).values_list("dedupe_key", flat=True)) == ["k2"]
