"""Issue 18, item 5: the fragments the pages poll (static/live.js) follow a sync, the Forge step and the history
without a reload, and only for members of the connection's organization."""

import pytest
from django.urls import reverse

from confluence.models import SyncRun
from confluence.setup import steps
from confluence.sync.queue import enqueue_sync
from tests.confluence.sync_world import sync_now
from tests.flows import atlassian_consent

pytestmark = pytest.mark.django_db


def fragment(client, name, eng_connection):
    return client.get(reverse(name, args=[eng_connection.org.slug, eng_connection.id]))


def cards(client, connection) -> str:
    """The Connectors page's card list, as the page polls it."""
    return client.get(reverse("connectors-cards", args=[connection.org.slug])).content.decode()


def test_the_card_follows_a_sync_from_progress_to_its_commit(as_user, alice, eng_connection):
    client = as_user(alice)
    run = enqueue_sync(eng_connection, trigger=SyncRun.Trigger.MANUAL)
    SyncRun.objects.filter(pk=run.pk).update(status="running", progress_done=50, progress_total=82)
    card = cards(client, eng_connection)
    assert card.strip().startswith('<div class="cards"') and "data-live=" in card
    assert f'<article class="card" id="connection-{eng_connection.id}"' in card
    assert 'Syncing… <span class="progress-text">50 of 82 pages' in card

    SyncRun.objects.filter(pk=run.pk).update(status="queued")
    finished = sync_now(eng_connection)
    card = cards(client, eng_connection)
    assert "Syncing…" not in card
    assert finished.commit_sha[:7] in card and "pages" in card


def test_the_card_shows_a_new_warning(as_user, alice, eng_connection):
    run = sync_now(eng_connection)
    SyncRun.objects.filter(pk=run.pk).update(warnings=[{"kind": "oversized", "page_id": "1", "title": "Big"}])
    card = cards(as_user(alice), eng_connection)
    assert "Warnings" in card


def test_the_setup_steps_change_when_the_forge_event_arrives(as_user, alice, confluence_connection, sandbox):
    client = as_user(alice)
    wiki = sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    atlassian_consent(client, confluence_connection)
    forge = fragment(client, "confluence-step-forge-status", confluence_connection).content.decode()
    assert "data-live-stop" not in forge and "Waiting" in forge

    steps.record_forge_installed(cloud_id=wiki.cloud_id, installation_id="forge-1")

    forge = fragment(client, "confluence-step-forge-status", confluence_connection).content.decode()
    assert "data-live-stop" in forge and "Installed" in forge
    assert reverse("github-link", args=["acme", confluence_connection.id]) in forge
    setup_steps = fragment(client, "connection-setup-steps", confluence_connection).content.decode()
    assert "Installed in Acme Wiki" in setup_steps


def test_the_history_shows_new_runs(as_user, alice, eng_connection):
    client = as_user(alice)
    first = sync_now(eng_connection)
    before = fragment(client, "confluence-runs-table", eng_connection).content.decode()
    run = enqueue_sync(eng_connection, trigger=SyncRun.Trigger.MANUAL)
    after = fragment(client, "confluence-runs-table", eng_connection).content.decode()
    assert f'id="run-{first.id}"' in before and f'id="run-{run.id}"' not in before
    assert f'id="run-{run.id}"' in after and "Queued" in after


@pytest.mark.parametrize(
    "name",
    [
        "connection-setup-steps",
        "confluence-step-forge-status",
        "confluence-runs-table",
        "github-link-status",
    ],
)
def test_every_fragment_is_hidden_from_non_members(as_user, charlie, eng_connection, name):
    assert fragment(as_user(charlie), name, eng_connection).status_code == 404
