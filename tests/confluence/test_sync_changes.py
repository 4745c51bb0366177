"""How each kind of Confluence change lands in the repository: moves, trash, restore, purge, archive."""

import subprocess

import pytest
import yaml

from confluence.models import SyncRun
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

LONG_BODY = "".join(
    f"<p>Paragraph {n} of a page long enough for git to see a rename when it moves.</p>" for n in range(40)
)


@pytest.fixture(autouse=True)
def other_and_long_pages(world):
    """The default site, plus an ENG root page "Other" and a long page under Home."""
    a, site, pages = world.atlassian, world.site, world.pages
    pages["other"] = a.create_page(site.cloud_id, space_key="ENG", title="Other", body="<p>Other.</p>", emit=False)
    pages["long"] = a.create_page(
        site.cloud_id, space_key="ENG", title="Long Read", body=LONG_BODY, parent_id=pages["home"].id, emit=False
    )


def front_matter(content: bytes) -> dict:
    return yaml.safe_load(content.decode().split("---\n")[1])


def last_commit_changes(world) -> list[str]:
    bare = world.github.repository_path("acme-inc", "wiki")
    out = subprocess.run(
        ["git", "diff", "--name-status", "-M", "main~1", "main"], cwd=bare, check=True, capture_output=True, text=True
    )
    return out.stdout.splitlines()


def page_id(world, key: str) -> str:
    return world.pages[key].id


def test_it_moves_a_page_to_another_parent(world, connection):
    sync_now(connection)
    world.atlassian.move_page(page_id(world, "long"), parent_id=page_id(world, "other"), emit=False)
    run = sync_now(connection)
    files = tree(world)
    assert "confluence/ENG/other/long-read.md" in files
    assert "confluence/ENG/home/long-read.md" not in files
    meta = front_matter(files["confluence/ENG/other/long-read.md"])
    assert meta["ancestors"] == ["Other"] and str(meta["parent_id"]) == page_id(world, "other")
    assert run.counts["moved"] == 1


def test_it_commits_a_move_as_a_git_rename(world, connection):
    sync_now(connection)
    world.atlassian.move_page(page_id(world, "long"), parent_id=page_id(world, "other"), emit=False)
    sync_now(connection)
    renames = [line for line in last_commit_changes(world) if line.startswith("R")]
    assert len(renames) == 1
    assert renames[0].split("\t")[1:] == ["confluence/ENG/home/long-read.md", "confluence/ENG/other/long-read.md"]


def test_it_moves_a_page_with_its_attachment_to_another_space(world, connection):
    sync_now(connection)
    guide = page_id(world, "guide")
    world.atlassian.move_page(guide, space_key="OPS", emit=False)
    run = sync_now(connection)
    files = tree(world)
    assert "confluence/OPS/deploy-guide.md" in files
    assert f"confluence/OPS/_attachments/{guide}/flow.png" in files
    assert not any(
        path.startswith(("confluence/ENG/home/deploy-guide", f"confluence/ENG/_attachments/{guide}")) for path in files
    )
    assert front_matter(files["confluence/OPS/deploy-guide.md"])["space_key"] == "OPS"
    assert f"](_attachments/{guide}/flow.png)" in files["confluence/OPS/deploy-guide.md"].decode()
    assert run.counts["moved"] == 1


def test_it_moves_a_subtree_to_another_space(world, connection):
    sync_now(connection)
    world.atlassian.move_page(page_id(world, "home"), space_key="OPS", emit=False)
    sync_now(connection)
    files = tree(world)
    assert {"confluence/OPS/home.md", "confluence/OPS/home/deploy-guide.md", "confluence/OPS/home/long-read.md"} <= set(
        files
    )
    assert not any(path.startswith("confluence/ENG/home") for path in files)


def test_it_lifts_the_children_of_a_trashed_page(world, connection):
    sync_now(connection)
    world.atlassian.trash_page(page_id(world, "home"), emit=False)
    run = sync_now(connection)
    files = tree(world)
    assert "confluence/ENG/home.md" not in files
    assert "confluence/ENG/deploy-guide.md" in files and "confluence/ENG/long-read.md" in files
    assert run.counts["removed"] == 1 and run.counts["moved"] == 2


def test_it_removes_a_purged_page(world, connection):
    sync_now(connection)
    world.atlassian.trash_page(page_id(world, "other"), emit=False)
    world.atlassian.purge_page(page_id(world, "other"), emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert run.counts["removed"] == 1
    assert "confluence/ENG/other.md" not in tree(world)


def test_it_removes_a_purged_page_named_by_an_event(world, connection):
    sync_now(connection)
    other = page_id(world, "other")
    world.atlassian.purge_page(other, emit=False)
    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[other])
    assert run.status == "succeeded", run.error
    assert run.counts["removed"] == 1
    assert "confluence/ENG/other.md" not in tree(world)


def test_it_restores_a_page_under_its_parent(world, connection):
    sync_now(connection)
    world.atlassian.trash_page(page_id(world, "long"), emit=False)
    sync_now(connection)
    world.atlassian.restore_page(page_id(world, "long"), emit=False)
    run = sync_now(connection)
    assert run.counts["added"] == 1
    assert "confluence/ENG/home/long-read.md" in tree(world)


def test_it_removes_an_archived_page(world, connection):
    sync_now(connection)
    world.atlassian.archive_page(page_id(world, "other"), emit=False)
    run = sync_now(connection)
    assert run.counts["removed"] == 1
    assert "confluence/ENG/other.md" not in tree(world)


def test_it_never_syncs_an_archived_page(world, connection):
    world.atlassian.archive_page(page_id(world, "other"), emit=False)
    run = sync_now(connection)
    assert run.counts["added"] == 4
    assert "confluence/ENG/other.md" not in tree(world)
    assert page_id(world, "other") not in tree(world)[".ctx/confluence-index.json"].decode()


def test_it_rewrites_links_to_a_moved_page(world, connection):
    sync_now(connection)
    world.atlassian.move_page(page_id(world, "guide"), parent_id=page_id(world, "other"), emit=False)
    sync_now(connection)
    runbook = tree(world)["confluence/OPS/runbook.md"].decode()
    assert "](../ENG/other/deploy-guide.md)" in runbook


def test_it_rewrites_links_to_a_page_that_left(world, connection):
    sync_now(connection)
    world.atlassian.trash_page(page_id(world, "guide"), emit=False)
    run = sync_now(connection)
    runbook = tree(world)["confluence/OPS/runbook.md"].decode()
    assert "](https://acme.atlassian.net/wiki/" in runbook and "deploy-guide.md" not in runbook
    assert run.counts["updated"] == 1


def test_it_rerenders_only_the_pages_linking_to_a_moved_page(world, connection):
    sync_now(connection)
    world.atlassian.move_page(page_id(world, "long"), parent_id=page_id(world, "other"), emit=False)
    run = sync_now(connection)
    assert run.counts["moved"] == 1 and run.counts["updated"] == 0
