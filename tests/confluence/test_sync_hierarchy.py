"""Pages below pages the scope leaves out: where they live, what their front matter says, and that targeted runs
keep them (issue 14, items 1 and 10)."""

import pytest

from confluence.models import SyncRun, WebhookEvent
from confluence.sync.index import INDEX_PATH, parse_index
from sandbox import demo
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def release_world(sandbox):
    """OPS: Release process > Payments dashboard (label draft) > Rollback, Hotfix > Hotfix checklist."""
    a = sandbox.atlassian
    site = a.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    a.create_space(site.cloud_id, key="OPS", name="Operations", emit=False, homepage=False)
    page = lambda title, parent=None, body="<p>Text.</p>", **kw: a.create_page(  # noqa: E731
        site.cloud_id,
        space_key="OPS",
        title=title,
        parent_id=parent.id if parent else None,
        body=body,
        emit=False,
        **kw,
    )
    handbook = page("Handbook")
    release = page("Release process", handbook, body="<p>How we release.</p>")
    dashboard = page("Payments dashboard", release, labels=["draft"])
    rollback = page("Rollback", dashboard, body="<p>Roll back.</p>")
    hotfix = page("Hotfix", rollback)
    checklist = page("Hotfix checklist", hotfix)
    sandbox.github.create_user("alice-gh", name="Alice", email="alice@example.com")
    sandbox.github.create_org("acme-inc", owners=["alice-gh"])
    sandbox.github.create_repository("acme-inc", "wiki", private=True)
    sandbox.site = site
    sandbox.pages = {
        "handbook": handbook,
        "release": release,
        "dashboard": dashboard,
        "rollback": rollback,
        "hotfix": hotfix,
        "checklist": checklist,
    }
    return sandbox


@pytest.fixture
def release_connection(release_world, acme, alice):
    """Release process with its descendants, pages labelled draft or obsolete left out."""
    release_connection = demo.connect(
        release_world,
        org=acme,
        user=alice,
        cloud_id=release_world.site.cloud_id,
        space_keys=["OPS"],
        repository="acme-inc/wiki",
    )
    scope = release_connection.sync_scope
    release = release_world.pages["release"]
    scope.spaces = []
    scope.pages = [{"id": release.id, "title": release.title, "space_key": "OPS", "descendants": True}]
    scope.excluded_labels = ["draft", "obsolete"]
    scope.save()
    return release_connection


def page_files(release_world) -> dict[str, bytes]:
    return {path: data for path, data in tree(release_world).items() if path.endswith(".md")}


def test_it_keeps_pages_below_a_label_excluded_page_through_a_targeted_run(release_world, release_connection):
    first = sync_now(release_connection)
    synced = set(page_files(release_world))
    release_world.atlassian.update_page(release_world.pages["hotfix"].id, body="<p>Edited.</p>", emit=False)

    run = sync_now(release_connection, trigger=SyncRun.Trigger.FORGE, page_ids=[release_world.pages["hotfix"].id])

    assert first.counts["added"] == 4
    assert run.status == "succeeded", run.error
    assert run.counts["removed"] == 0
    assert set(page_files(release_world)) == synced


def test_it_places_a_child_of_an_excluded_page_under_its_nearest_synced_ancestor(release_world, release_connection):
    sync_now(release_connection)
    files = page_files(release_world)
    assert set(files) == {
        "confluence/OPS/release-process.md",
        "confluence/OPS/release-process/rollback.md",
        "confluence/OPS/release-process/rollback/hotfix.md",
        "confluence/OPS/release-process/rollback/hotfix/hotfix-checklist.md",
    }


def test_it_writes_the_real_confluence_ancestors_in_front_matter(release_world, release_connection):
    sync_now(release_connection)
    files = page_files(release_world)
    rollback = front_matter(files["confluence/OPS/release-process/rollback.md"])
    release = front_matter(files["confluence/OPS/release-process.md"])
    assert rollback["ancestors"] == ["Handbook", "Release process", "Payments dashboard"]
    assert rollback["parent_id"] == release_world.pages["dashboard"].id
    assert release["ancestors"] == ["Handbook"]


def test_it_follows_a_rename_of_an_excluded_ancestor(release_world, release_connection):
    sync_now(release_connection)
    release_world.atlassian.rename_page(release_world.pages["dashboard"].id, "Payments board", emit=False)

    run = sync_now(release_connection, trigger=SyncRun.Trigger.FORGE, page_ids=[release_world.pages["dashboard"].id])

    rollback = front_matter(page_files(release_world)["confluence/OPS/release-process/rollback.md"])
    assert run.status == "succeeded", run.error
    assert rollback["ancestors"] == ["Handbook", "Release process", "Payments board"]
    assert run.counts["removed"] == 0


def test_it_adds_a_page_created_below_an_excluded_page_in_a_targeted_run(release_world, release_connection):
    sync_now(release_connection)
    created = release_world.atlassian.create_page(
        release_world.site.cloud_id,
        space_key="OPS",
        title="Canary",
        parent_id=release_world.pages["dashboard"].id,
        body="<p>New.</p>",
        emit=False,
    )

    run = sync_now(release_connection, trigger=SyncRun.Trigger.FORGE, page_ids=[created.id])

    canary = front_matter(page_files(release_world)["confluence/OPS/release-process/canary.md"])
    assert run.counts["added"] == 1 and run.counts["removed"] == 0
    assert canary["ancestors"] == ["Handbook", "Release process", "Payments dashboard"]


def test_it_keeps_what_the_index_knows_of_pages_it_does_not_sync(release_world, release_connection):
    sync_now(release_connection)
    index = parse_index(tree(release_world)[INDEX_PATH])
    assert set(index.unsynced) == {release_world.pages["handbook"].id, release_world.pages["dashboard"].id}
    assert index.unsynced[release_world.pages["dashboard"].id].title == "Payments dashboard"


def test_it_matches_a_full_sync_after_targeted_runs(release_world, release_connection):
    sync_now(release_connection)
    for key in ("hotfix", "rollback", "checklist"):
        release_world.atlassian.update_page(release_world.pages[key].id, body=f"<p>{key} edited.</p>", emit=False)
        sync_now(release_connection, trigger=SyncRun.Trigger.FORGE, page_ids=[release_world.pages[key].id])
    after_events = tree(release_world)

    full = sync_now(release_connection, full=True)

    assert full.commit_sha == ""
    assert tree(release_world) == after_events


def test_it_keeps_archived_pages_in_the_ancestry_of_their_children(release_world, release_connection):
    sync_now(release_connection)
    release_world.atlassian.archive_page(release_world.pages["rollback"].id, emit=False)

    targeted = sync_now(
        release_connection, trigger=SyncRun.Trigger.FORGE, page_ids=[release_world.pages["rollback"].id]
    )
    after_event = tree(release_world)
    full = sync_now(release_connection, full=True)

    hotfix = front_matter(page_files(release_world)["confluence/OPS/release-process/hotfix.md"])
    assert targeted.counts["removed"] == 1 and targeted.counts["moved"] == 2
    assert hotfix["ancestors"] == ["Handbook", "Release process", "Payments dashboard", "Rollback"]
    assert full.commit_sha == "" and tree(release_world) == after_event


def test_it_follows_the_forge_event_of_an_unsynced_ancestor_trashed(release_world, release_connection, applied):
    """Handbook is synced nowhere, yet its trashing changes the ancestry of every page below it."""
    sync_now(release_connection)
    applied(lambda: release_world.atlassian.install_forge_app(release_world.site.cloud_id))

    applied(lambda: release_world.atlassian.trash_page(release_world.pages["handbook"].id))

    event = WebhookEvent.objects.get(event_type="avi:confluence:trashed:page")
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    release = front_matter(page_files(release_world)["confluence/OPS/release-process.md"])
    assert release["ancestors"] == []
    assert front_matter(page_files(release_world)["confluence/OPS/release-process/rollback.md"])["ancestors"] == [
        "Release process",
        "Payments dashboard",
    ]
