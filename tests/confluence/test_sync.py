"""The sync engine against the sandbox: what lands in the repository, and how each kind of change lands."""

import json
import subprocess

import pytest
import yaml

from confluence.models import SyncRun, SyncState
from confluence.sync.index import INDEX_PATH, parse_index
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db


def test_it_makes_the_first_commit_into_an_empty_repository(world, connection):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    files = tree(world)
    assert sorted(files) == [
        ".ctx/confluence-index.json",
        ".ctx/confluence.yml",
        "confluence/ENG/_attachments/" + world.pages["guide"].id + "/flow.png",
        "confluence/ENG/home.md",
        "confluence/ENG/home/deploy-guide.md",
        "confluence/OPS/runbook.md",
    ]
    assert run.counts["added"] == 3 and run.commit_sha
    assert world.github.head_sha("acme-inc", "wiki") == run.commit_sha


def test_it_writes_front_matter_and_relative_links(world, connection):
    sync_now(connection)
    guide = tree(world)["confluence/ENG/home/deploy-guide.md"]
    meta = front_matter(guide)
    assert meta["title"] == "Deploy Guide"
    assert meta["page_id"] == world.pages["guide"].id
    assert meta["space_key"] == "ENG" and meta["version"] == 1
    assert meta["labels"] == ["howto"] and meta["ancestors"] == ["Home"]
    assert meta["source_url"].startswith("https://acme.atlassian.net/wiki/")
    body = guide.decode()
    assert "](../home.md)" in body
    assert f"](../_attachments/{world.pages['guide'].id}/flow.png)" in body
    assert "```bash\nmake deploy\n```" in body
    runbook = tree(world)["confluence/OPS/runbook.md"].decode()
    assert "](../ENG/home/deploy-guide.md)" in runbook


def test_it_writes_the_scope_file_and_the_index(world, connection):
    sync_now(connection)
    files = tree(world)
    scope = yaml.safe_load(files[".ctx/confluence.yml"])
    assert [s["key"] for s in scope["spaces"]] == ["ENG", "OPS"]
    assert scope["site"]["url"] == "https://acme.atlassian.net"
    index = json.loads(files[".ctx/confluence-index.json"])
    guide = index["pages"][world.pages["guide"].id]
    assert guide["path"] == "confluence/ENG/home/deploy-guide.md"
    assert guide["attachments"][f"{world.pages['guide'].id}/flow.png"]["version"] == 1


def test_it_passes_git_fsck_and_clones(world, connection, tmp_path):
    sync_now(connection)
    bare = world.github.repository_path("acme-inc", "wiki")
    subprocess.run(["git", "fsck", "--strict"], cwd=bare, check=True, capture_output=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(tmp_path / "clone")], check=True, capture_output=True)
    assert (tmp_path / "clone" / "confluence/ENG/home.md").read_text().startswith("---\n")


def test_it_writes_nothing_when_nothing_changed(world, connection):
    first = sync_now(connection)
    second = sync_now(connection)
    assert second.status == "succeeded", second.error
    assert second.commit_sha == ""
    assert second.github_write_requests == 0
    assert second.counts["unchanged"] == 3
    assert world.github.head_sha("acme-inc", "wiki") == first.commit_sha


def test_it_commits_an_edit(world, connection):
    sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Updated welcome.</p>", emit=False)
    run = sync_now(connection)
    assert run.counts["updated"] == 1
    assert "Updated welcome." in tree(world)["confluence/ENG/home.md"].decode()
    assert front_matter(tree(world)["confluence/ENG/home.md"])["version"] == 2


def test_it_moves_a_renamed_page_and_its_children(world, connection):
    sync_now(connection)
    world.atlassian.rename_page(world.pages["home"].id, "Start Here", emit=False)
    run = sync_now(connection)
    files = tree(world)
    assert "confluence/ENG/start-here.md" in files and "confluence/ENG/start-here/deploy-guide.md" in files
    assert "confluence/ENG/home.md" not in files and "confluence/ENG/home/deploy-guide.md" not in files
    assert front_matter(files["confluence/ENG/start-here/deploy-guide.md"])["ancestors"] == ["Start Here"]
    assert run.counts["moved"] == 2


def test_it_removes_a_trashed_page_and_restores_it(world, connection):
    sync_now(connection)
    runbook = next(p for p in world.atlassian.pages.values() if p.title == "Runbook")
    world.atlassian.trash_page(runbook.id, emit=False)
    run = sync_now(connection)
    assert run.counts["removed"] == 1
    assert "confluence/OPS/runbook.md" not in tree(world)
    world.atlassian.restore_page(runbook.id, emit=False)
    sync_now(connection)
    assert "confluence/OPS/runbook.md" in tree(world)


def test_it_removes_a_space_that_left_the_scope(world, connection):
    sync_now(connection)
    scope = connection.sync_scope
    scope.spaces = [s for s in scope.spaces if s["key"] != "OPS"]
    scope.save()
    sync_now(connection)
    assert not any(path.startswith("confluence/OPS/") for path in tree(world))


def test_it_excludes_pages_by_label(world, connection):
    sync_now(connection)
    scope = connection.sync_scope
    scope.excluded_labels = ["howto"]
    scope.save()
    sync_now(connection)
    files = tree(world)
    assert "confluence/ENG/home/deploy-guide.md" not in files
    assert not any("_attachments" in path for path in files)


def test_it_records_requests_and_timings(world, connection):
    run = sync_now(connection)
    assert run.confluence_requests > 0 and run.github_requests > 0
    assert run.started_at and run.finished_at and run.progress_done == run.progress_total == 3


def test_it_rebuilds_its_state_from_the_repository_index(world, connection):
    sync_now(connection)
    SyncState.objects.all().delete()
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert run.commit_sha == ""
    assert run.counts["unchanged"] == 3


def test_it_rebuilds_on_top_of_an_outside_push(world, connection):
    sync_now(connection)
    world.github.push_outside_commit("acme-inc", "wiki", files={"README.md": "hello"}, message="outside")
    world.atlassian.update_page(world.pages["home"].id, body="<p>v2</p>", emit=False)
    run = sync_now(connection)
    files = tree(world)
    assert files["README.md"] == b"hello"
    assert "v2" in files["confluence/ENG/home.md"].decode()
    assert run.status == "succeeded"


def test_it_rerenders_everything_after_a_converter_upgrade(world, connection, monkeypatch):
    sync_now(connection)
    monkeypatch.setattr("confluence.sync.engine.CONVERTER_VERSION", 999)
    monkeypatch.setattr("confluence.sync.render_files.CONVERTER_VERSION", 999)
    monkeypatch.setattr("confluence.sync.reading.CONVERTER_VERSION", 999)
    run = sync_now(connection)
    index = parse_index(tree(world)[INDEX_PATH])
    assert {entry.converter_version for entry in index.pages.values()} == {999}
    # The new converter writes the same Markdown here: the commit changes the index only, and says so.
    assert run.counts["updated"] == 0 and run.counts["unchanged"] == 3


def test_it_runs_a_targeted_sync(world, connection):
    sync_now(connection)
    world.atlassian.update_page(world.pages["guide"].id, body="<p>Targeted</p>", emit=False)
    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["guide"].id])
    assert run.status == "succeeded", run.error
    assert run.counts["updated"] == 1
    assert "Targeted" in tree(world)["confluence/ENG/home/deploy-guide.md"].decode()
    assert run.confluence_requests <= 3
