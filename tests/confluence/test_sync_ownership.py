"""A sync removes only files it wrote, and writes only to the repository that is still its own (issue 14, item 2)."""

import json

import pytest

from confluence.models import SyncRun, SyncState, SyncTarget
from confluence.sync import engine
from confluence.sync.index import INDEX_PATH
from github_sync.commit import git_blob_sha
from github_sync.models import Repository
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db


def test_it_never_deletes_a_file_an_edited_index_claims_outside_its_folders(world, connection):
    sync_now(connection)
    readme = b"# Our wiki mirror\n"
    index = json.loads(tree(world)[INDEX_PATH])
    # Someone edits the index file by hand: a page entry now names the README, with its right blob sha.
    some_page = next(iter(index["pages"]))
    index["pages"][some_page]["path"] = "README.md"
    index["pages"][some_page]["blob"] = git_blob_sha(readme)
    world.github.push_outside_commit(
        "acme-inc", "wiki", files={"README.md": readme, INDEX_PATH: json.dumps(index)}, message="By hand"
    )
    SyncState.objects.filter(connection=connection).delete()  # read the index from the repository

    run = sync_now(connection, full=True)

    assert run.status == "succeeded", run.error
    assert tree(world)["README.md"] == readme


def test_it_writes_nothing_when_its_repository_changes_during_the_run(world, connection, monkeypatch):
    sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Edited.</p>", emit=False)
    before = world.github.head_sha("acme-inc", "wiki")
    world.github.create_repository("acme-inc", "other", private=True)
    other = Repository.objects.create(
        installation=connection.sync_target.repository.installation, full_name="acme-inc/other", github_id=99
    )
    message = engine.commit_message

    def move_target_then_describe(changes):
        # Staff move the connection to another repository while this run renders.
        SyncTarget.objects.filter(connection=connection).update(repository=other)
        return message(changes)

    monkeypatch.setattr(engine, "commit_message", move_target_then_describe)

    run = sync_now(connection)

    assert run.status == SyncRun.Status.QUEUED  # waits in the queue, then writes to the new repository
    assert run.error_kind == SyncRun.ErrorKind.TRANSIENT
    assert "no longer acme-inc/wiki" in run.error
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_it_writes_nothing_to_a_repository_created_under_its_repositorys_old_name(world, connection, monkeypatch):
    sync_now(connection)
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)  # the rename's event never came
        world.github.rename_repository("acme-inc", "wiki", "wiki-old")
    world.github.create_repository("acme-inc", "wiki", private=True)
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(connection)

    assert run.status == SyncRun.Status.FAILED and run.error_kind == SyncRun.ErrorKind.PERMANENT
    assert "not the repository this connection chose" in run.error
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_it_checks_its_repository_after_a_run_that_left_its_state_untrusted(world, connection, monkeypatch):
    sync_now(connection)
    SyncState.objects.filter(connection=connection).update(commit_sha="")  # as after a commit rebuilt on a moved branch
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)  # the rename's event never came
        world.github.rename_repository("acme-inc", "wiki", "wiki-old")
    world.github.create_repository("acme-inc", "wiki", private=True)

    run = sync_now(connection)

    assert run.status == SyncRun.Status.FAILED and "not the repository this connection chose" in run.error


@pytest.mark.parametrize("delivered", [True, False], ids=["event", "missed_event"])
def test_it_follows_its_repository_renamed(world, connection, monkeypatch, delivered):
    sync_now(connection)
    with monkeypatch.context() as down:
        if not delivered:
            down.setattr(world.github, "deliver", lambda url, body, headers: 503)
        world.github.rename_repository("acme-inc", "wiki", "wiki-renamed")
    world.atlassian.update_page(world.pages["home"].id, body="<p>After the rename.</p>", emit=False)
    world.github.push_outside_commit("acme-inc", "wiki-renamed", files={"NOTES.md": b"hi\n"}, message="Notes")

    run = sync_now(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert b"After the rename." in tree(world, "wiki-renamed")["confluence/ENG/home.md"]


@pytest.mark.parametrize("content", [b"{ not json", b'{"pages": []}', b"\xff\xfe", b'{"pages": {"1": {"note": 1}}}'])
def test_an_unreadable_index_in_the_repository_counts_as_missing(world, connection, content):
    sync_now(connection)
    synced = tree(world)
    world.github.push_outside_commit("acme-inc", "wiki", files={INDEX_PATH: content}, message="By hand")

    run = sync_now(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = tree(world)
    assert {path: after[path] for path in synced if path != INDEX_PATH} == {
        path: synced[path] for path in synced if path != INDEX_PATH
    }
    assert json.loads(after[INDEX_PATH])["pages"]


def test_it_never_deletes_a_file_under_confluence_an_edited_index_claims(world, connection):
    sync_now(connection)
    notes = "confluence/ENG/notes-by-hand.md"
    index = json.loads(tree(world)[INDEX_PATH])
    index["pages"]["424242"] = {**next(iter(index["pages"].values())), "path": notes, "blob": "0" * 40}
    world.github.push_outside_commit(
        "acme-inc", "wiki", files={notes: b"Mine.\n", INDEX_PATH: json.dumps(index)}, message="By hand"
    )

    run = sync_now(connection, full=True)

    assert run.status == "succeeded", run.error
    assert tree(world)[notes] == b"Mine.\n" and run.counts["removed"] == 0
