"""End to end: a page edited in Confluence → its Forge event → the webhook → one targeted run → one commit.

Everything real but the network: the sandbox Atlassian signs and POSTs the event to the Django test client, the
token is verified against the sandbox JWKS, the row is processed by the same task a worker runs (django-q2 runs
tasks inline in the test settings), and the sync writes to a real bare git repository in the sandbox GitHub.
"""

from __future__ import annotations

import pytest

from confluence.models import AtlassianSite, SyncRun, WebhookEvent
from confluence.setup import steps
from confluence.sync.engine import run as run_sync
from confluence.sync.queue import enqueue_sync
from connectors.models import SetupTask
from github_sync.models import Installation, Repository
from sandbox.github import gitstore
from tests.flows import atlassian_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def forge_world(sandbox, as_user, alice, acme, confluence_connection, django_capture_on_commit_callbacks):
    """Acme's Confluence connection, fully set up: ENG synced to acme-gh/docs, the Forge app installed."""
    atlassian = sandbox.atlassian
    wiki = atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    eng = atlassian.create_space(wiki.cloud_id, key="ENG", name="Engineering", emit=False)
    guide = atlassian.create_page(wiki.cloud_id, space_key="ENG", title="Guide", body="<p>Version one.</p>", emit=False)
    atlassian_consent(as_user(alice), confluence_connection)
    assert AtlassianSite.objects.get(connection=confluence_connection).cloud_id == wiki.cloud_id

    github = sandbox.github
    github.create_org("acme-gh", owners=["octo-sandbox"])
    github.create_repository("acme-gh", "docs")
    installation_id = github.install_app("acme-gh", repositories=["docs"])
    installation = Installation.objects.create(
        org=acme, installation_id=installation_id, account_login="acme-gh", account_type="Organization"
    )
    repository = Repository.objects.create(
        installation=installation, github_id=github.get_repository("acme-gh", "docs").id, full_name="acme-gh/docs"
    )
    steps.sync_github_step(confluence_connection, user=alice)
    steps.select_repository(confluence_connection, repository, user=alice, public_confirmed=False)
    steps.save_scope(
        confluence_connection,
        spaces=[{"id": eng.id, "key": "ENG", "name": "Engineering"}],
        pages=[],
        excluded_pages=[],
        excluded_labels=[],
        user=alice,
        summary="1 space",
    )
    with django_capture_on_commit_callbacks(execute=True):
        atlassian.install_forge_app(wiki.cloud_id)  # its lifecycle event completes the Forge step
    assert confluence_connection.tasks.get(kind="install_forge").state == SetupTask.State.DONE
    confluence_connection.refresh_from_db()
    assert confluence_connection.is_ready
    # Saving the scope queued the first sync (its task is sent on commit, which a test transaction never reaches).
    run_sync(enqueue_sync(confluence_connection, trigger=SyncRun.Trigger.SETUP).id)
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED
    return {"atlassian": atlassian, "github": github, "guide": guide, "connection": confluence_connection}


def test_a_page_edit_reaches_the_repository_as_one_commit(forge_world, django_capture_on_commit_callbacks):
    atlassian, github, guide, connection = (
        forge_world["atlassian"],
        forge_world["github"],
        forge_world["guide"],
        forge_world["connection"],
    )
    head_before = github.head_sha("acme-gh", "docs")
    atlassian.reset_log()

    with django_capture_on_commit_callbacks(execute=True):
        atlassian.update_page(guide.id, body="<p>Version two, edited in Confluence.</p>")

    assert atlassian.deliveries[-1] == {**atlassian.deliveries[-1], "eventType": "avi:confluence:updated:page"}
    assert atlassian.deliveries[-1]["status"] == 202
    event = WebhookEvent.objects.get(event_type="avi:confluence:updated:page")
    assert event.status == WebhookEvent.Status.PROCESSED
    [run] = event.runs.all()
    assert (run.trigger, run.page_ids) == (SyncRun.Trigger.FORGE, [guide.id])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.commit_sha and run.commit_sha == github.head_sha("acme-gh", "docs") != head_before
    commit = gitstore.read_commit(github.repository_path("acme-gh", "docs"), run.commit_sha)
    assert commit.parents == (head_before,)  # one commit on top of the previous sync
    before = github.read_tree("acme-gh", "docs", head_before)
    after = github.read_tree("acme-gh", "docs", run.commit_sha)
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    page_file = next(p for p in changed if p.endswith(".md"))
    assert f"page_id: '{guide.id}'".encode() in after[page_file]
    assert b"Version two, edited in Confluence." in after[page_file]
    assert [p for p in changed if p.endswith(".md")] == [page_file]  # the edited page, and no other page
    assert atlassian.count(path_pattern="/forge/jwks") == 0  # the JWKS came from the cache
    assert SyncRun.objects.filter(connection=connection, trigger=SyncRun.Trigger.FORGE).count() == 1


def test_a_redelivered_edit_is_synced_once(forge_world, django_capture_on_commit_callbacks):
    atlassian, guide, connection = forge_world["atlassian"], forge_world["guide"], forge_world["connection"]
    atlassian.defer_deliveries = True
    atlassian.update_page(guide.id, body="<p>Version two.</p>")
    atlassian.defer_deliveries = False
    [delivery] = atlassian.take_outbox()
    with django_capture_on_commit_callbacks(execute=True):
        statuses = atlassian.flush_outbox([delivery, delivery, delivery])  # Forge retrying the same delivery
    assert statuses == [202, 200, 200]
    assert SyncRun.objects.filter(connection=connection, trigger=SyncRun.Trigger.FORGE).count() == 1
