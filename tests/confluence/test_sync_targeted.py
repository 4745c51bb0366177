"""Runs a Forge event starts: only the named pages are read, and what they cost; then the pages are searchable."""

import pytest

from confluence.models import SyncRun
from github_sync import search
from github_sync.models import ApiKey, IngestRun
from tests.confluence.sync_world import sync_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_page(world):
    """The default site, plus Archive: an ENG root page outside the scope's page tree."""
    world.pages["archive"] = world.atlassian.create_page(
        world.site.cloud_id, space_key="ENG", title="Archive", body="<p>Old.</p>", emit=False
    )


def paths(world) -> set[str]:
    return set(world.github.read_tree("acme-inc", "wiki", "main"))


def targeted(connection, *pages) -> SyncRun:
    return sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[page.id for page in pages])


def reset_logs(world) -> None:
    world.atlassian.reset_log()
    world.github.reset_log()


def restrict_scope(connection, world, *, pages=(), excluded=()):
    scope = connection.sync_scope
    entry = lambda page: {"id": page.id, "title": page.title, "space_key": "ENG", "descendants": True}  # noqa: E731
    scope.spaces = [s for s in scope.spaces if s["key"] == "OPS"] if pages else scope.spaces
    scope.pages = [entry(p) for p in pages]
    scope.excluded_pages = [entry(p) for p in excluded]
    scope.save()


def test_it_reads_and_writes_little_for_a_page_edit(world, connection):
    sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Edited once.</p>", emit=False)
    reset_logs(world)
    run = targeted(connection, world.pages["home"])
    assert run.status == "succeeded", run.error
    assert run.counts["updated"] == 1
    assert world.atlassian.count() <= 3
    assert world.github.count() <= 4  # the branch, one tree, one commit, one ref update


def test_it_stays_within_budget_including_the_ingestion(world, connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Edited once.</p>", emit=False)
    reset_logs(world)
    with django_capture_on_commit_callbacks(execute=True):  # the ingestion the sync queues runs inline
        targeted(connection, world.pages["home"])
    assert IngestRun.objects.filter(status=IngestRun.Status.SUCCEEDED).count() == 2
    assert world.atlassian.count() <= 3
    assert world.github.count() <= 6


def test_it_removes_a_page_moved_under_a_parent_outside_the_scope(world, connection):
    restrict_scope(connection, world, pages=[world.pages["home"]])
    sync_now(connection)
    assert "confluence/ENG/home/deploy-guide.md" in paths(world)
    world.atlassian.move_page(world.pages["guide"].id, parent_id=world.pages["archive"].id, emit=False)
    reset_logs(world)
    run = targeted(connection, world.pages["guide"])
    assert run.counts["removed"] == 1
    assert not any("deploy-guide" in path for path in paths(world))
    # The page, the labels, its subtree as it is now (a moved page takes its children along), its new ancestors,
    # and the body of Runbook, whose link to it now goes to Confluence.
    assert world.atlassian.count() <= 5
    assert (
        "](https://acme.atlassian.net/wiki/"
        in world.github.read_tree("acme-inc", "wiki", "main")["confluence/OPS/runbook.md"].decode()
    )


def test_it_skips_a_page_created_under_an_excluded_subtree(world, connection):
    restrict_scope(connection, world, excluded=[world.pages["guide"]])
    sync_now(connection)
    before = world.github.head_sha("acme-inc", "wiki")
    child = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Secret",
        body="<p>No.</p>",
        parent_id=world.pages["guide"].id,
        emit=False,
    )
    run = targeted(connection, child)
    assert run.status == "succeeded", run.error
    assert not any("secret" in path for path in paths(world))
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_it_adds_a_page_created_in_the_scope(world, connection):
    sync_now(connection)
    child = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Fresh",
        body="<p>New.</p>",
        parent_id=world.pages["guide"].id,
        emit=False,
    )
    run = targeted(connection, child)
    assert run.counts["added"] == 1
    assert "confluence/ENG/home/deploy-guide/fresh.md" in paths(world)


def test_it_removes_a_trashed_page(world, connection):
    sync_now(connection)
    world.atlassian.trash_page(world.pages["archive"].id, emit=False)
    reset_logs(world)
    run = targeted(connection, world.pages["archive"])
    assert run.counts["removed"] == 1
    assert "confluence/ENG/archive.md" not in paths(world)
    assert world.atlassian.count() <= 3


def sync_and_ingest(world, connection, django_capture_on_commit_callbacks) -> SyncRun:
    world.atlassian.update_page(world.pages["guide"].id, body="<p>The zeppelin deploy procedure.</p>", emit=False)
    with django_capture_on_commit_callbacks(execute=True):  # the ingestion the sync queues runs inline
        return sync_now(connection)


def test_it_makes_the_repository_searchable(world, connection, acme, django_capture_on_commit_callbacks):
    sync_and_ingest(world, connection, django_capture_on_commit_callbacks)
    assert search.search(acme, "zeppelin")


def test_it_makes_a_synced_page_searchable_through_the_api(
    world, connection, acme, alice, client, django_capture_on_commit_callbacks
):
    run = sync_and_ingest(world, connection, django_capture_on_commit_callbacks)
    _, key = ApiKey.issue(org=acme, name="agent", by=alice)
    response = client.get(f"/api/v1/orgs/{acme.slug}/search", {"q": "zeppelin"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    [hit] = response.json()["results"]
    assert hit["path"] == "confluence/ENG/home/deploy-guide.md"
    assert hit["commit"] == run.commit_sha
    assert hit["source_url"].startswith("https://acme.atlassian.net/wiki/")


def test_it_moves_a_subtree_to_another_space_with_its_page(world, connection):
    sync_now(connection)
    world.atlassian.move_page(world.pages["home"].id, space_key="OPS", emit=False)
    run = targeted(connection, world.pages["home"])
    assert run.status == "succeeded", run.error
    assert {"confluence/OPS/home.md", "confluence/OPS/home/deploy-guide.md"} <= paths(world)
    assert not any(path.startswith("confluence/ENG/home") for path in paths(world))


def test_it_adds_the_children_a_page_brings_into_a_selected_subtree(world, connection):
    restrict_scope(connection, world, pages=[world.pages["home"]])
    child = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Old runbook",
        body="<p>Kept.</p>",
        parent_id=world.pages["archive"].id,
        emit=False,
    )
    sync_now(connection)
    assert not any("old-runbook" in path for path in paths(world))
    world.atlassian.move_page(world.pages["archive"].id, parent_id=world.pages["home"].id, emit=False)
    run = targeted(connection, world.pages["archive"])  # Forge names only the page that moved
    assert run.status == "succeeded", run.error
    assert "confluence/ENG/home/archive/old-runbook.md" in paths(world), child.id


def test_it_puts_a_page_that_loses_an_excluded_label_back_above_its_children(world, connection):
    scope = connection.sync_scope
    scope.excluded_labels = ["howto"]
    scope.save()
    world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Rollback",
        body="<p>Back.</p>",
        parent_id=world.pages["guide"].id,
        emit=False,
    )
    sync_now(connection)
    assert "confluence/ENG/home/rollback.md" in paths(world)  # an excluded label leaves out the page, not its subtree
    world.atlassian.remove_label(world.pages["guide"].id, "howto", emit=False)
    run = targeted(connection, world.pages["guide"])
    assert run.status == "succeeded", run.error
    assert {"confluence/ENG/home/deploy-guide.md", "confluence/ENG/home/deploy-guide/rollback.md"} <= paths(world)
    assert "confluence/ENG/home/rollback.md" not in paths(world)
