"""The repository changes on GitHub under a connection (GitHub's `repository` event, or what a run finds): a
repository made public takes no pages until someone confirms, an archived one takes no write, a renamed one is
followed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from confluence.models import SyncRun, SyncTarget
from confluence.setup.readiness import Code
from confluence.setup.status import problems, update_status
from confluence.sync import engine
from connectors.models import Connection
from github_sync.models import Repository
from sandbox.github import webhooks
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(world, connection):
    """The connection has synced once; a page was edited since (with no event), so a run has something to write."""
    sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Edited since.</p>", emit=False)
    return connection


def codes(connection) -> list[str]:
    return [problem.code for problem in problems(connection)]


def home_file(world) -> bytes:
    return next(content for path, content in tree(world).items() if path.endswith("/home.md"))


def test_a_repository_made_public_takes_no_pages_until_someone_confirms(world, synced, as_user, alice, applied):
    world.github.set_repository_private("acme-inc", "wiki", False)
    synced.refresh_from_db()
    assert synced.status == Connection.Status.ATTENTION and codes(synced) == [Code.REPOSITORY_PUBLIC]
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(synced)

    assert (run.status, run.error_kind) == (SyncRun.Status.FAILED, SyncRun.ErrorKind.PERMANENT)
    assert "public on GitHub now" in run.error and run.github_requests == 1  # GitHub confirms it is public
    assert world.github.head_sha("acme-inc", "wiki") == before

    repository = Repository.objects.get(full_name="acme-inc/wiki")
    step = reverse("confluence-step-repository", args=["acme", synced.id])
    applied(lambda: as_user(alice).post(step, {"repository": repository.pk, "confirm_public": "1"}))

    synced.refresh_from_db()
    assert synced.status == Connection.Status.ACTIVE and codes(synced) == []
    assert b"Edited since." in home_file(world)  # confirming synced at once


def confirm_public(connection, user) -> None:
    SyncTarget.objects.filter(connection=connection).update(
        public_confirmed_by=user, public_confirmed_at=timezone.now()
    )


def confirmation(connection):
    return SyncTarget.objects.get(connection=connection).public_confirmed_at


def test_making_it_private_withdraws_the_confirmation(world, synced, alice, applied):
    world.github.set_repository_private("acme-inc", "wiki", False)
    confirm_public(synced, alice)
    applied(lambda: world.github.set_repository_private("acme-inc", "wiki", True))  # believed once the API says so
    assert confirmation(synced) is None

    world.github.set_repository_private("acme-inc", "wiki", False)

    assert codes(synced) == [Code.REPOSITORY_PUBLIC]
    assert sync_now(synced).status == SyncRun.Status.FAILED


def test_a_repository_made_public_while_a_run_renders_gets_nothing(world, synced, monkeypatch):
    before = world.github.head_sha("acme-inc", "wiki")
    message = engine.commit_message

    def made_public_meanwhile(changes):
        world.github.set_repository_private("acme-inc", "wiki", False)  # its event arrives before the commit
        return message(changes)

    monkeypatch.setattr(engine, "commit_message", made_public_meanwhile)

    run = sync_now(synced)

    assert run.status == SyncRun.Status.FAILED and "public on GitHub now" in run.error
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_a_confirmed_public_repository_keeps_syncing(world, synced, alice):
    confirm_public(synced, alice)
    world.github.set_repository_private("acme-inc", "wiki", False)

    run = sync_now(synced)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert b"Edited since." in home_file(world)


def test_a_missed_publicized_event_is_caught_once_the_branch_moved(world, synced, monkeypatch):
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)  # our site missed both deliveries
        world.github.set_repository_private("acme-inc", "wiki", False)
        world.github.push_outside_commit("acme-inc", "wiki", files={"NOTES.md": "notes"}, message="Notes")
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(synced)

    assert run.status == SyncRun.Status.FAILED and "public on GitHub now" in run.error
    assert run.github_write_requests == 0 and world.github.head_sha("acme-inc", "wiki") == before
    assert not Repository.objects.get(full_name="acme-inc/wiki").private
    synced.refresh_from_db()
    assert synced.status == Connection.Status.ATTENTION


def test_an_archived_repository_is_not_written_to(world, synced):
    world.github.archive_repository("acme-inc", "wiki")
    assert codes(synced) == [Code.REPOSITORY_ARCHIVED]
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(synced)

    assert run.status == SyncRun.Status.FAILED and "archived on GitHub" in run.error
    assert run.github_requests == 1 and world.github.head_sha("acme-inc", "wiki") == before  # GitHub confirmed it


def test_unarchiving_lets_it_sync_again(world, synced, applied):
    world.github.archive_repository("acme-inc", "wiki")
    applied(lambda: world.github.unarchive_repository("acme-inc", "wiki"))  # believed once GitHub's API says so

    synced.refresh_from_db()
    assert codes(synced) == [] and synced.status == Connection.Status.ACTIVE
    assert sync_now(synced).status == SyncRun.Status.SUCCEEDED
    assert b"Edited since." in home_file(world)


def test_a_renamed_repository_is_followed(world, synced):
    world.github.rename_repository("acme-inc", "wiki", "handbook")

    run = sync_now(synced)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Repository.objects.get(github_id=synced.sync_target.repository.github_id).full_name == "acme-inc/handbook"
    assert b"Edited since." in next(c for p, c in tree(world, "handbook").items() if p.endswith("/home.md"))


def test_a_deleted_repository_needs_a_new_one(world, synced):
    world.github.delete_repository("acme-inc", "wiki")

    synced.refresh_from_db()
    assert synced.status == Connection.Status.ATTENTION
    assert codes(synced) == [Code.REPOSITORY_UNREACHABLE]


def test_a_new_default_branch_gets_the_pages(world, synced):
    world.github.push_outside_commit("acme-inc", "wiki", files={"README.md": "# Docs"}, message="x", branch="trunk")
    world.github.set_default_branch("acme-inc", "wiki", "trunk")

    run = sync_now(synced)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    files = world.github.read_tree("acme-inc", "wiki", "trunk")
    assert files["README.md"] == b"# Docs" and b"Edited since." in files["confluence/ENG/home.md"]


def test_a_missed_publicized_event_is_caught_by_a_run_over_the_whole_scope(world, synced, monkeypatch):
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)
        world.github.set_repository_private("acme-inc", "wiki", False)
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(synced)  # "Sync now" or the reconciliation schedule, with nobody having pushed

    assert run.status == SyncRun.Status.FAILED and "public on GitHub now" in run.error
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_a_first_run_into_an_empty_repository_made_public_meanwhile_writes_nothing(world, connection, monkeypatch):
    message = engine.commit_message

    def made_public_meanwhile(changes):
        world.github.set_repository_private("acme-inc", "wiki", False)
        return message(changes)

    monkeypatch.setattr(engine, "commit_message", made_public_meanwhile)

    run = sync_now(connection)

    assert run.status == SyncRun.Status.FAILED and "public on GitHub now" in run.error
    assert world.github.head_sha("acme-inc", "wiki") is None  # not even the bootstrap commit


def test_a_run_that_finds_the_repository_private_withdraws_the_confirmation(world, synced, alice, monkeypatch):
    confirm_public(synced, alice)
    world.github.set_repository_private("acme-inc", "wiki", False)
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)  # `privatized` never reaches us
        world.github.set_repository_private("acme-inc", "wiki", True)

    assert sync_now(synced).status == SyncRun.Status.SUCCEEDED

    assert confirmation(synced) is None
    world.github.set_repository_private("acme-inc", "wiki", False)
    assert codes(synced) == [Code.REPOSITORY_PUBLIC]


def test_a_row_stricter_than_github_does_not_stop_syncing_for_good(world, synced):
    # Made private again on GitHub, but the API read the `privatized` event asks for never happened (GitHub down).
    Repository.objects.filter(full_name="acme-inc/wiki").update(private=False, archived=True)
    update_status(synced)
    assert codes(synced) == [Code.REPOSITORY_ARCHIVED]

    run = sync_now(synced)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    repository = Repository.objects.get(full_name="acme-inc/wiki")
    assert (repository.private, repository.archived) == (True, False)
    assert b"Edited since." in home_file(world)
    synced.refresh_from_db()
    assert (synced.status, codes(synced)) == (Connection.Status.ACTIVE, [])  # the card no longer says it stopped


def test_an_old_privatized_delivery_withdraws_nothing_until_github_confirms(world, synced, alice):
    world.github.set_repository_private("acme-inc", "wiki", False)
    confirm_public(synced, alice)

    world.github.set_repository_private("acme-inc", "wiki", True)  # the API read it asks for has not run yet

    assert confirmation(synced) is not None
    assert not Repository.objects.get(full_name="acme-inc/wiki").private


def test_a_targeted_run_reads_the_repository_once_the_last_read_is_old(world, synced, monkeypatch):
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)
        world.github.set_repository_private("acme-inc", "wiki", False)
    Repository.objects.filter(full_name="acme-inc/wiki").update(checked_at=timezone.now() - timedelta(minutes=16))
    before = world.github.head_sha("acme-inc", "wiki")

    run = sync_now(synced, page_ids=[world.pages["home"].id])  # a Forge event's run

    assert run.status == SyncRun.Status.FAILED and "public on GitHub now" in run.error
    assert world.github.head_sha("acme-inc", "wiki") == before


def test_a_targeted_run_spends_no_request_on_a_fresh_read(world, synced):
    Repository.objects.filter(full_name="acme-inc/wiki").update(checked_at=timezone.now())
    world.atlassian.update_page(world.pages["guide"].id, body="<p>Again.</p>", emit=False)

    run = sync_now(synced, page_ids=[world.pages["guide"].id])

    assert run.status == SyncRun.Status.SUCCEEDED
    assert Repository.objects.get(full_name="acme-inc/wiki").checked_at < run.started_at


def test_the_step_asks_github_before_refusing_an_archived_repository(world, synced, as_user, alice, monkeypatch):
    world.github.archive_repository("acme-inc", "wiki")
    with monkeypatch.context() as down:
        down.setattr(world.github, "deliver", lambda url, body, headers: 503)
        world.github.unarchive_repository("acme-inc", "wiki")
    repository = Repository.objects.get(full_name="acme-inc/wiki")
    assert repository.archived

    step = reverse("confluence-step-repository", args=["acme", synced.id])
    response = as_user(alice).post(step, {"repository": repository.pk})

    assert response.status_code == 302
    assert not Repository.objects.get(pk=repository.pk).archived


def test_a_run_withdraws_a_confirmation_the_installations_listing_found_private(world, synced, alice):
    confirm_public(synced, alice)
    Repository.objects.filter(full_name="acme-inc/wiki").update(private=True)  # as sync_repositories leaves it

    assert sync_now(synced, page_ids=[world.pages["home"].id]).status == SyncRun.Status.SUCCEEDED

    assert confirmation(synced) is None


def test_an_old_push_naming_the_old_name_cannot_send_pages_to_another_repository(world, synced):
    world.github.push_outside_commit("acme-inc", "wiki", files={"NOTES.md": "notes"}, message="Notes")
    old_push = world.github.deliveries[-1]
    sync_now(synced)  # our commit is the branch's head again: the saved state is trusted
    world.github.rename_repository("acme-inc", "wiki", "handbook")
    world.github.create_repository("acme-inc", "wiki", private=True)  # someone else's, under the old name
    world.github.add_installation_repositories(synced.sync_target.repository.installation.installation_id, ["wiki"])
    webhooks.emit(world.github, "push", old_push.payload)  # the old delivery, sent again under a new id
    world.github._flush_unless_serving()
    assert Repository.objects.get(pk=synced.sync_target.repository.pk).full_name == "acme-inc/wiki"

    run = sync_now(synced, page_ids=[world.pages["home"].id])  # a Forge event's run, whose last read is fresh

    assert run.status == SyncRun.Status.FAILED and "not the repository this connection chose" in run.error
    assert world.github.head_sha("acme-inc", "wiki") is None
