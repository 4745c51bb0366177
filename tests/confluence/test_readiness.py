"""What is wrong with a connection, as codes with words for people; `enqueue_sync` refusing a connection that
cannot sync; the card's fixing button chosen by code."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from confluence import auth, tasks
from confluence.models import AtlassianSite, SyncRun, SyncTarget
from confluence.setup import card, readiness, status, steps
from confluence.setup.readiness import Code
from confluence.sync import queue
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.models import Connection, SetupTask
from github_sync.models import Installation, Repository

pytestmark = pytest.mark.django_db


def codes(problems) -> list[Code]:
    return [problem.code for problem in problems]


def attention(connection) -> list[readiness.Problem]:
    return status.problems(connection)


# Problems that stop syncs ------------------------------------------------------------------------------------


def test_a_set_up_connection_has_nothing_stopping_its_syncs(connection):
    assert readiness.sync_blocker(connection) is None


def test_a_paused_connection_is_stopped_by_its_pause(connection):
    connection.pause()
    assert readiness.sync_blocker(connection) == readiness.Problem(Code.PAUSED, "connection paused")


def test_a_connection_being_set_up_is_stopped_by_its_setup(confluence_connection):
    problem = readiness.sync_blocker(confluence_connection)
    assert problem == readiness.Problem(Code.SETUP_INCOMPLETE, "setup not finished")


def test_a_connection_without_setup_steps_is_not_set_up(confluence_connection):
    confluence_connection.tasks.all().delete()
    assert readiness.sync_blocker(confluence_connection).code == Code.SETUP_INCOMPLETE


def test_the_forge_step_is_not_needed_to_sync(connection):
    connection.tasks.filter(kind="install_forge").update(state=SetupTask.State.WAITING)
    assert readiness.sync_blocker(connection) is None
    connection.tasks.filter(kind="configure_scope").update(state=SetupTask.State.PENDING)
    assert readiness.sync_blocker(connection).code == Code.SETUP_INCOMPLETE


def test_a_pause_is_named_before_an_unfinished_setup(confluence_connection):
    confluence_connection.pause()
    assert readiness.sync_blocker(confluence_connection).code == Code.PAUSED


# enqueue_sync refuses ----------------------------------------------------------------------------------------


def test_enqueue_sync_refuses_a_paused_connection_and_writes_nothing(connection):
    SyncRun.objects.filter(connection=connection).delete()
    connection.pause()
    with pytest.raises(NotReady) as refused:
        enqueue_sync(connection, trigger=SyncRun.Trigger.MANUAL, page_ids=["1"])
    assert refused.value.connection == connection and refused.value.problem.code == Code.PAUSED
    assert not SyncRun.objects.filter(connection=connection).exists()


def test_enqueue_sync_refuses_a_connection_being_set_up(confluence_connection):
    with pytest.raises(NotReady, match="setup not finished"):
        enqueue_sync(confluence_connection, trigger=SyncRun.Trigger.SCHEDULE)
    assert not SyncRun.objects.exists()


def test_enqueue_sync_queues_a_ready_connection(connection):
    SyncRun.objects.filter(connection=connection).delete()
    run = enqueue_sync(connection, trigger=SyncRun.Trigger.MANUAL)
    assert run.status == SyncRun.Status.QUEUED and run.connection == connection


def test_sync_now_answers_none_for_a_connection_that_cannot_sync(connection):
    connection.pause()
    assert card.sync_now(connection) is None


def test_a_scope_saved_while_paused_queues_nothing(connection):
    SyncRun.objects.filter(connection=connection).delete()
    connection.pause()
    steps.set_include_restricted(connection, include=True, user=None)
    assert not SyncRun.objects.filter(connection=connection).exists()


def test_a_stale_run_of_a_paused_connection_fails_without_a_recovery_run(connection, settings):
    SyncRun.objects.filter(connection=connection).delete()
    long_ago = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS + 60)
    stale = SyncRun.objects.create(
        connection=connection, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING, heartbeat_at=long_ago
    )
    connection.pause()
    assert queue.recover_stale() == 1
    stale.refresh_from_db()
    assert stale.status == SyncRun.Status.FAILED
    assert list(SyncRun.objects.filter(connection=connection)) == [stale]


def test_the_reconciliation_schedule_passes_over_a_connection_being_set_up(connection, confluence_connection):
    SyncRun.objects.all().delete()
    assert tasks.reconcile_due() == 1
    assert list(SyncRun.objects.values_list("connection_id", flat=True)) == [connection.id]


def test_the_admin_says_why_a_rerun_was_not_queued(staff_client, connection):
    run = SyncRun.objects.get(connection=connection)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED)
    connection.pause()
    response = staff_client.post(
        reverse("admin:confluence_syncrun_changelist"), {"action": "rerun", "_selected_action": [run.pk]}, follow=True
    )
    page = response.content.decode()
    assert "Queued 0 run(s)." in page and "connection paused" in page
    assert not SyncRun.objects.filter(connection=connection, status=SyncRun.Status.QUEUED).exists()


# Problems that need the owners' attention --------------------------------------------------------------------


def test_a_working_connection_needs_no_attention(connection):
    assert attention(connection) == []


def test_a_revoked_grant_keeps_its_detail(connection):
    site = AtlassianSite.objects.get(connection=connection)
    auth.mark_revoked(site, detail="Re-link needed: taken over.")
    assert attention(connection) == [readiness.Problem(Code.GRANT_REVOKED, "Re-link needed: taken over.")]


def test_a_revoked_grant_without_detail_says_what_to_do(connection):
    AtlassianSite.objects.filter(connection=connection).update(grant_status=AtlassianSite.Grant.REVOKED)
    assert [p.message for p in attention(connection)] == [
        "Atlassian access was revoked: link your Atlassian account again."
    ]


def test_a_removed_forge_app(connection):
    steps.record_forge_uninstalled(cloud_id=AtlassianSite.objects.get(connection=connection).cloud_id)
    assert attention(connection) == [
        readiness.Problem(
            Code.FORGE_REMOVED, "Forge app removed — changes are no longer captured. A site admin can reinstall it."
        )
    ]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (Installation.Status.REMOVED, Code.INSTALLATION_REMOVED, "The GitHub App was removed from acme-inc: install"),
        (Installation.Status.SUSPENDED, Code.INSTALLATION_SUSPENDED, "The GitHub App is suspended on acme-inc: an"),
    ],
)
def test_a_lost_github_installation(connection, status, code, message):
    Installation.objects.update(status=status)
    (problem,) = attention(connection)
    assert problem.code == code and problem.message.startswith(message)


def test_an_unreachable_repository(connection):
    Repository.objects.filter(sync_targets__connection=connection).update(accessible=False)
    (problem,) = attention(connection)
    assert problem.code == Code.REPOSITORY_UNREACHABLE
    assert problem.message == "ctx| can no longer reach acme-inc/wiki: grant access or pick another."


def test_an_archived_repository(connection):
    Repository.objects.filter(sync_targets__connection=connection).update(archived=True)
    (problem,) = attention(connection)
    assert problem.code == Code.REPOSITORY_ARCHIVED
    assert problem.message == "acme-inc/wiki is archived on GitHub (read-only): unarchive it or choose another."


def test_a_repository_made_public_that_nobody_confirmed(connection):
    Repository.objects.filter(sync_targets__connection=connection).update(private=False)
    (problem,) = attention(connection)
    assert problem.code == Code.REPOSITORY_PUBLIC
    assert problem.message.startswith("acme-inc/wiki is public on GitHub now, so syncing stopped")


def test_a_public_repository_someone_confirmed_is_fine(connection, alice):
    Repository.objects.filter(sync_targets__connection=connection).update(private=False)
    confirmed = {"public_confirmed_by": alice, "public_confirmed_at": timezone.now()}
    SyncTarget.objects.filter(connection=connection).update(**confirmed)
    assert attention(connection) == []


def test_the_status_joins_the_messages_of_every_problem(connection):
    AtlassianSite.objects.filter(connection=connection).update(
        grant_status=AtlassianSite.Grant.REVOKED, grant_detail="Grant gone."
    )
    Installation.objects.update(status=Installation.Status.SUSPENDED)
    status.update_status(connection)
    assert connection.status == Connection.Status.ATTENTION
    assert connection.status_detail == (
        "Grant gone. The GitHub App is suspended on acme-inc: an owner can unsuspend it."
    )


# The card's fixing button ------------------------------------------------------------------------------------


def fix(connection) -> dict | None:
    connection.refresh_from_db()
    return card.card_contexts([connection])[connection.id]["fix"]


def test_the_card_offers_no_fix_while_nothing_needs_attention(connection):
    assert fix(connection) is None


@pytest.mark.parametrize(
    ("change", "label", "url_name"),
    [
        (lambda c: Installation.objects.update(status="suspended"), "Link GitHub", "github-link"),
        (
            lambda c: Repository.objects.filter(sync_targets__connection=c).update(accessible=False),
            "Choose a repository",
            "confluence-step-repository",
        ),
        (
            lambda c: Repository.objects.filter(sync_targets__connection=c).update(archived=True),
            "Choose a repository",
            "confluence-step-repository",
        ),
        (
            lambda c: Repository.objects.filter(sync_targets__connection=c).update(private=False),
            "Confirm or choose a repository",
            "confluence-step-repository",
        ),
        (
            lambda c: steps.record_forge_uninstalled(cloud_id=c.atlassian_site.cloud_id),
            "Reinstall the Forge app",
            "confluence-step-forge",
        ),
    ],
    ids=["suspended", "unreachable", "archived", "made_public", "forge_removed"],
)
def test_the_card_picks_the_fix_by_the_problems_code(connection, change, label, url_name):
    change(connection)
    status.update_status(connection)
    assert fix(connection) == {"label": label, "url": reverse(url_name, args=["acme", connection.id])}


def test_the_card_does_not_read_the_fix_from_the_words(connection):
    """A detail that quotes the Forge message no longer picks the Forge button: the repository is the problem."""
    Repository.objects.filter(sync_targets__connection=connection).update(accessible=False)
    connection.set_status(Connection.Status.ATTENTION, readiness.FORGE_REMOVED)
    assert fix(connection)["label"] == "Choose a repository"


def test_the_card_offers_the_grant_fix_first(connection):
    AtlassianSite.objects.filter(connection=connection).update(grant_status=AtlassianSite.Grant.REVOKED)
    Installation.objects.update(status=Installation.Status.REMOVED)
    status.update_status(connection)
    assert fix(connection)["label"] == "Link Atlassian account"
