"""Scope changes between syncs: spaces and page trees in and out, excluded subtrees and labels."""

import pytest

from confluence.sync.index import INDEX_PATH, parse_index
from sandbox import demo
from tests.confluence.sync_world import build_site, sync_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def nested_world(sandbox):
    """ENG: Home > Deploy Guide > Rollback, Home > Team; OPS: Runbook."""
    site, pages = build_site(sandbox)
    a = sandbox.atlassian
    pages["rollback"] = a.create_page(
        site.cloud_id, space_key="ENG", title="Rollback", body="<p>Undo.</p>", parent_id=pages["guide"].id, emit=False
    )
    pages["team"] = a.create_page(
        site.cloud_id, space_key="ENG", title="Team", body="<p>Who.</p>", parent_id=pages["home"].id, emit=False
    )
    sandbox.site, sandbox.pages = site, pages
    return sandbox


@pytest.fixture
def nested_connection(nested_world, acme, alice):
    return demo.connect(
        nested_world,
        org=acme,
        user=alice,
        cloud_id=nested_world.site.cloud_id,
        space_keys=["ENG"],
        repository="acme-inc/wiki",
    )


def pages_in(nested_world) -> set[str]:
    return {p for p in nested_world.github.read_tree("acme-inc", "wiki", "main") if p.endswith(".md")}


def set_scope(nested_connection, nested_world, *, spaces=(), pages=(), excluded_pages=(), excluded_labels=()):
    scope = nested_connection.sync_scope
    scope.spaces = [
        {"id": s.id, "key": s.key, "name": s.name}
        for s in (nested_world.atlassian.space_by_key(nested_world.site.cloud_id, k) for k in spaces)
    ]
    scope.pages = [page_entry(nested_world, key, d) for key, d in pages]
    scope.excluded_pages = [page_entry(nested_world, key, d) for key, d in excluded_pages]
    scope.excluded_labels = list(excluded_labels)
    scope.save()


def page_entry(nested_world, key: str, descendants: bool) -> dict:
    page = nested_world.pages[key]
    return {"id": page.id, "title": page.title, "space_key": "ENG", "descendants": descendants}


ENG = {
    "confluence/ENG/home.md",
    "confluence/ENG/home/deploy-guide.md",
    "confluence/ENG/home/deploy-guide/rollback.md",
    "confluence/ENG/home/team.md",
}


def test_it_adds_a_space_that_joined_the_scope(nested_world, nested_connection):
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, spaces=["ENG", "OPS"])
    run = sync_now(nested_connection)
    assert pages_in(nested_world) == ENG | {"confluence/OPS/runbook.md"}
    assert run.counts["added"] == 1 and run.counts["unchanged"] == 4


def test_it_removes_a_space_and_keeps_the_other(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, spaces=["ENG", "OPS"])
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, spaces=["OPS"])
    run = sync_now(nested_connection)
    assert pages_in(nested_world) == {"confluence/OPS/runbook.md"}
    assert run.counts["removed"] == 4


def test_it_empties_the_repository_and_its_index_when_the_scope_selects_nothing(nested_world, nested_connection):
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world)  # every space deleted in Confluence leaves this scope behind

    run = sync_now(nested_connection)

    index = parse_index(nested_world.github.read_tree("acme-inc", "wiki", "main")[INDEX_PATH])
    assert run.status == "succeeded", run.error
    assert pages_in(nested_world) == set()
    assert index.spaces == {} and index.pages == {}  # not every space of the site, which `keys=` empty would list


def test_it_syncs_a_page_tree(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, pages=[("guide", True)])
    sync_now(nested_connection)
    assert pages_in(nested_world) == {"confluence/ENG/deploy-guide.md", "confluence/ENG/deploy-guide/rollback.md"}


def test_it_syncs_a_page_without_its_descendants(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, pages=[("home", False)])
    sync_now(nested_connection)
    assert pages_in(nested_world) == {"confluence/ENG/home.md"}


def test_it_grows_from_a_page_to_its_tree(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, pages=[("home", False)])
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, pages=[("home", True)])
    run = sync_now(nested_connection)
    assert pages_in(nested_world) == ENG
    assert run.counts["added"] == 3 and run.counts["unchanged"] == 1


def test_it_shrinks_from_a_space_to_a_page_tree(nested_world, nested_connection):
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, pages=[("guide", True)])
    run = sync_now(nested_connection)
    assert pages_in(nested_world) == {"confluence/ENG/deploy-guide.md", "confluence/ENG/deploy-guide/rollback.md"}
    assert run.counts["removed"] == 2 and run.counts["moved"] == 2


def test_it_excludes_a_subtree(nested_world, nested_connection):
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, spaces=["ENG"], excluded_pages=[("guide", True)])
    sync_now(nested_connection)
    assert pages_in(nested_world) == {"confluence/ENG/home.md", "confluence/ENG/home/team.md"}


def test_it_excludes_a_page_but_keeps_its_children(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, spaces=["ENG"], excluded_pages=[("guide", False)])
    sync_now(nested_connection)
    files = pages_in(nested_world)
    assert "confluence/ENG/home/deploy-guide.md" not in files
    # The hierarchy follows synced pages only: the child of an excluded page sits where its nearest synced
    # ancestor would put it (the space root), never under a folder for a page that is not there.
    assert any(path.endswith("/rollback.md") for path in files)
    assert not any("deploy-guide/" in path for path in files)


def test_it_brings_back_a_subtree_no_longer_excluded(nested_world, nested_connection):
    set_scope(nested_connection, nested_world, spaces=["ENG"], excluded_pages=[("guide", True)])
    sync_now(nested_connection)
    set_scope(nested_connection, nested_world, spaces=["ENG"])
    run = sync_now(nested_connection)
    assert pages_in(nested_world) == ENG
    assert run.counts["added"] == 2


def test_it_excludes_and_readmits_pages_by_label(nested_world, nested_connection):
    nested_world.atlassian.add_label(nested_world.pages["team"].id, "Draft")
    set_scope(nested_connection, nested_world, spaces=["ENG"], excluded_labels=["draft"])
    sync_now(nested_connection)
    assert "confluence/ENG/home/team.md" not in pages_in(nested_world)
    nested_world.atlassian.remove_label(nested_world.pages["team"].id, "Draft")
    run = sync_now(nested_connection)
    assert "confluence/ENG/home/team.md" in pages_in(nested_world)
    assert run.counts["added"] == 1


def test_it_writes_the_new_scope_file(nested_world, nested_connection):
    sync_now(nested_connection)
    set_scope(
        nested_connection, nested_world, spaces=["ENG"], excluded_pages=[("guide", True)], excluded_labels=["draft"]
    )
    sync_now(nested_connection)
    scope = nested_world.github.read_tree("acme-inc", "wiki", "main")[".ctx/confluence.yml"].decode()
    assert nested_world.pages["guide"].id in scope and "draft" in scope


def test_it_keeps_a_picked_page_that_moved_to_another_space(nested_world, nested_connection):
    """The scope picked Team in ENG; moved to OPS (outside the scope's spaces), it is still the page picked."""
    set_scope(nested_connection, nested_world, pages=[("team", False)])
    sync_now(nested_connection)
    nested_world.atlassian.move_page(nested_world.pages["team"].id, space_key="OPS", emit=False)

    targeted = sync_now(nested_connection, trigger="forge", page_ids=[nested_world.pages["team"].id])
    after_event = pages_in(nested_world)
    sync_now(nested_connection, trigger="schedule")

    assert targeted.status == "succeeded", targeted.error
    assert after_event == pages_in(nested_world) == {"confluence/OPS/team.md"}
