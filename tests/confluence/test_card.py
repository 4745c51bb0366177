"""The connector card, "Sync now", the status endpoint and the run history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from confluence.models import AtlassianSite, SyncRun
from confluence.setup import steps
from confluence.sync.queue import enqueue_sync
from github_sync.models import Installation
from tests.confluence.sync_world import sync_now

pytestmark = pytest.mark.django_db


def card(client, org="acme"):
    return client.get(reverse("connectors", args=[org])).content.decode()


def test_it_shows_site_repository_forge_scope_and_last_sync(as_user, alice, eng_connection):
    run = sync_now(eng_connection)
    page = card(as_user(alice))
    assert "Acme Wiki" in page and "https://acme.atlassian.net" in page
    assert "acme-inc/wiki" in page
    assert "Watching for changes" in page
    assert "1 space" in page
    assert run.commit_sha[:7] in page
    assert "Sync now" in page and "Edit scope" in page and "Reopen setup" in page and "Pause" in page


def test_it_shows_a_progress_bar_while_a_sync_runs(as_user, alice, eng_connection):
    run = enqueue_sync(eng_connection, trigger=SyncRun.Trigger.MANUAL)
    SyncRun.objects.filter(pk=run.pk).update(status="running", progress_done=5, progress_total=20)
    page = card(as_user(alice))
    assert "5 of 20 pages" in page and 'aria-valuenow="25"' in page
    status = as_user(alice).get(reverse("confluence-status", args=["acme", eng_connection.id])).json()
    assert status == {"active": True, "status": "running", "done": 5, "total": 20, "percent": 25, "waiting_until": None}


def test_it_says_until_when_a_queued_run_waits_out_a_rate_limit(as_user, alice, eng_connection):
    run = enqueue_sync(eng_connection, trigger=SyncRun.Trigger.MANUAL)
    later = timezone.now() + timedelta(minutes=7)
    SyncRun.objects.filter(pk=run.pk).update(not_before=later, error="Confluence is rate limiting.")
    page = card(as_user(alice))
    assert f"Waiting for Confluence or GitHub until {later:%H:%M} UTC" in page and "Sync queued" not in page
    status = as_user(alice).get(reverse("confluence-status", args=["acme", eng_connection.id])).json()
    assert status["waiting_until"] == later.isoformat()


def test_it_reports_no_active_sync(as_user, alice, eng_connection):
    sync_now(eng_connection)
    status = as_user(alice).get(reverse("confluence-status", args=["acme", eng_connection.id])).json()
    assert status == {"active": False}


def test_it_queues_a_sync_now(as_user, alice, eng_connection):
    sync_now(eng_connection)
    as_user(alice).post(reverse("connection-sync", args=["acme", eng_connection.id]))
    assert eng_connection.sync_runs.filter(status="queued", trigger="manual").exists()


def test_it_refuses_sync_now_while_paused(as_user, alice, eng_connection):
    sync_now(eng_connection)
    eng_connection.pause()
    as_user(alice).post(reverse("connection-sync", args=["acme", eng_connection.id]))
    assert not eng_connection.sync_runs.filter(status="queued").exists()


def test_it_catches_up_on_resume(as_user, alice, eng_connection):
    sync_now(eng_connection)
    eng_connection.pause()
    as_user(alice).post(reverse("connection-pause", args=["acme", eng_connection.id]))
    assert eng_connection.sync_runs.filter(status="queued").exists()


def test_it_forbids_sync_now_to_a_member(as_user, bob, eng_connection):
    assert as_user(bob).post(reverse("connection-sync", args=["acme", eng_connection.id])).status_code == 403


def test_it_hides_status_and_history_from_non_members(as_user, charlie, eng_connection):
    client = as_user(charlie)
    assert client.get(reverse("confluence-status", args=["acme", eng_connection.id])).status_code == 404
    assert client.get(reverse("confluence-runs", args=["acme", eng_connection.id])).status_code == 404


def test_it_lists_the_run_history(as_user, bob, eng_connection):
    run = sync_now(eng_connection)
    page = as_user(bob).get(reverse("confluence-runs", args=["acme", eng_connection.id])).content.decode()
    assert run.commit_sha[:7] in page and "3 added" not in page and "added" in page


def test_it_explains_a_revoked_grant_with_the_fixing_button(as_user, alice, eng_connection, sandbox):
    site = AtlassianSite.objects.get(connection=eng_connection)
    steps.mark_revoked(site, detail="Atlassian access was revoked or expired. Link your Atlassian account again.")
    page = card(as_user(alice))
    assert "Link your Atlassian account again" in page
    assert reverse("confluence-step-atlassian", args=["acme", eng_connection.id]) in page


def test_it_explains_a_removed_forge_app(as_user, alice, eng_connection):
    steps.record_forge_uninstalled(cloud_id=AtlassianSite.objects.get(connection=eng_connection).cloud_id)
    page = card(as_user(alice))
    assert "Forge app removed — changes are no longer captured" in page
    assert "Reinstall the Forge app" in page


def test_it_explains_a_removed_github_installation(as_user, alice, eng_connection):
    Installation.objects.update(status=Installation.Status.REMOVED)
    from github_sync.signals import installation_changed

    installation_changed.send(sender=Installation, installation=Installation.objects.get(), action="deleted")
    page = card(as_user(alice))
    assert "The GitHub App was removed from acme-inc" in page
    assert reverse("github-link", args=["acme", eng_connection.id]) in page


def test_it_starts_a_sync_when_the_connection_becomes_active(eng_connection):
    assert eng_connection.status == "active"
    assert eng_connection.sync_runs.filter(status="queued").count() == 1


def test_a_paused_card_does_not_say_it_watches_for_changes(as_user, alice, eng_connection):
    eng_connection.pause()
    page = card(as_user(alice))
    assert "Watching for changes" not in page
    assert "Paused: changes are not synced until you resume" in page
