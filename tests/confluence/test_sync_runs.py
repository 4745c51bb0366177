"""Runs as rows: one running per connection, requests merged into one queued run, and how failures end."""

import os
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from confluence import tasks
from confluence.models import SyncRun
from confluence.sync import queue
from connectors.models import Connection, SetupTask
from sandbox import demo
from tests.confluence.sync_world import sync_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def idle_connection(world, acme, alice):
    idle_connection = demo.connect(
        world, org=acme, user=alice, cloud_id=world.site.cloud_id, space_keys=["ENG", "OPS"], repository="acme-inc/wiki"
    )
    # Setup may have queued a first sync already; these tests start from no runs at all.
    SyncRun.objects.filter(connection=idle_connection).delete()
    return idle_connection


def queued(idle_connection) -> list[SyncRun]:
    return list(SyncRun.objects.filter(connection=idle_connection, status=SyncRun.Status.QUEUED))


def enqueue(idle_connection, **kwargs) -> SyncRun:
    return queue.enqueue_sync(idle_connection, trigger=SyncRun.Trigger.FORGE, **kwargs)


# Claiming ------------------------------------------------------------------------------------------------


def test_it_lets_only_one_worker_claim_a_run(idle_connection):
    run = enqueue(idle_connection)
    assert queue.claim(run.id) is not None
    assert queue.claim(run.id) is None
    assert SyncRun.objects.get(id=run.id).attempts == 1


def test_a_finished_run_records_its_attempt_and_worker(idle_connection, monkeypatch):
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection)
    tasks.run_sync(run.id)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 1
    assert run.worker.endswith(f":{os.getpid()}")


def test_it_leaves_a_run_queued_while_another_runs(idle_connection):
    first = enqueue(idle_connection)
    queue.claim(first.id)
    second = enqueue(idle_connection)
    assert queue.claim(second.id) is None
    assert SyncRun.objects.get(id=second.id).status == SyncRun.Status.QUEUED


def test_it_rejects_two_running_runs_in_the_database(idle_connection):
    SyncRun.objects.create(connection=idle_connection, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(
            connection=idle_connection, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING
        )


def test_it_allows_running_runs_of_different_connections(idle_connection, globex, charlie):
    other = Connection.create_with_tasks(org=globex, kind=Connection.Kind.CONFLUENCE, created_by=charlie)
    for owner in (idle_connection, other):
        SyncRun.objects.create(connection=owner, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING)
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 2


# Merging requests ----------------------------------------------------------------------------------------


def test_it_merges_page_ids_into_the_queued_run(idle_connection):
    first = enqueue(idle_connection, page_ids=["3", "1"])
    second = enqueue(idle_connection, page_ids=["2", "3"])
    assert second.id == first.id
    assert queued(idle_connection)[0].page_ids == ["1", "2", "3"]


def test_it_lets_a_full_request_win(idle_connection):
    enqueue(idle_connection, page_ids=["1"])
    enqueue(idle_connection, full=True)
    enqueue(idle_connection, page_ids=["2"])
    [run] = queued(idle_connection)
    assert run.full and run.page_ids is None


def test_it_lets_an_untargeted_request_win(idle_connection):
    enqueue(idle_connection, page_ids=["1"])
    enqueue(idle_connection)
    enqueue(idle_connection, page_ids=["2"])
    [run] = queued(idle_connection)
    assert run.page_ids is None and not run.full


def test_it_queues_one_follow_up_for_requests_during_a_run(world, idle_connection, monkeypatch):
    from confluence.sync import reading

    real_read = reading.read
    during = []

    def read_and_receive_requests(*args, **kwargs):
        if not during:  # the first run only: the follow-up runs right here too (sync mode), and must not queue more
            during.append(enqueue(idle_connection, page_ids=[world.pages["home"].id]))
            during.append(enqueue(idle_connection, page_ids=[world.pages["guide"].id]))
            during.append(queued(idle_connection))
        return real_read(*args, **kwargs)

    monkeypatch.setattr(reading, "read", read_and_receive_requests)
    run = enqueue(idle_connection)
    tasks.run_sync(run.id)
    assert during[0].id == during[1].id != run.id
    assert len(during[2]) == 1
    assert during[2][0].page_ids == sorted([world.pages["home"].id, world.pages["guide"].id])


def test_it_starts_the_follow_up_when_the_running_run_finishes(world, idle_connection, monkeypatch):
    from confluence.sync import reading

    real_read = reading.read
    follow_ups = []

    def read_and_receive_a_request(run, *args, **kwargs):
        if not follow_ups:
            follow_ups.append(enqueue(idle_connection, page_ids=[world.pages["home"].id]))
        return real_read(run, *args, **kwargs)

    monkeypatch.setattr(reading, "read", read_and_receive_a_request)
    first = enqueue(idle_connection)
    tasks.run_sync(first.id)  # Q_CLUSTER sync mode: the follow-up the worker sends runs right here
    follow_up = SyncRun.objects.get(id=follow_ups[0].id)
    assert SyncRun.objects.get(id=first.id).status == SyncRun.Status.SUCCEEDED
    assert follow_up.status == SyncRun.Status.SUCCEEDED, follow_up.error
    assert follow_up.started_at >= SyncRun.objects.get(id=first.id).finished_at
    assert not queued(idle_connection)


# How failures end ----------------------------------------------------------------------------------------


def test_it_stops_on_a_revoked_grant_without_retrying(world, idle_connection):
    world.atlassian.revoke_grant(idle_connection.atlassian_site.account_id)
    world.atlassian.expire_access_tokens()
    run = sync_now(idle_connection)
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == SyncRun.ErrorKind.AUTH
    assert idle_connection.tasks.get(kind="link_atlassian").state == SetupTask.State.BLOCKED
    idle_connection.refresh_from_db()
    assert idle_connection.status == Connection.Status.ATTENTION
    assert not Schedule.objects.filter(func="confluence.tasks.retry_sync").exists()


def test_it_reports_a_deleted_repository(world, idle_connection):
    sync_now(idle_connection)
    world.github.delete_repository("acme-inc", "wiki")
    run = sync_now(idle_connection)
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == SyncRun.ErrorKind.PERMANENT
    assert not Schedule.objects.filter(func="confluence.tasks.retry_sync").exists()
    idle_connection.refresh_from_db()
    assert idle_connection.status == Connection.Status.ATTENTION
    assert "acme-inc/wiki" in idle_connection.status_detail


def test_it_schedules_a_retry_when_confluence_stays_down(world, idle_connection, monkeypatch):
    from sandbox.core import FaultPlan

    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern="/wiki/"))
    run = sync_now(idle_connection)
    assert run.error_kind == SyncRun.ErrorKind.TRANSIENT
    retry = Schedule.objects.get(func="confluence.tasks.retry_sync")
    assert retry.next_run > timezone.now()


def test_a_long_rate_limit_hands_the_run_back_to_the_queue_instead_of_sleeping(world, idle_connection, monkeypatch):
    """Confluence asks for 15 minutes: the worker sleeps none of it, and the retry waits at least that long."""
    from sandbox.core import FaultPlan

    slept = []
    monkeypatch.setattr("connectors.http.sleep", slept.append)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("429",), path_pattern="/wiki/", retry_after=900))
    before = timezone.now()

    run = sync_now(idle_connection)

    assert run.error_kind == SyncRun.ErrorKind.TRANSIENT and slept == []
    retry = Schedule.objects.get(func="confluence.tasks.retry_sync")
    assert retry.next_run >= before + timedelta(seconds=900)


def test_a_successful_run_on_a_connection_in_error_queues_no_other_run(idle_connection):
    """The run that clears the error is the sync: becoming active again must not queue a second, full one."""
    idle_connection.set_status(Connection.Status.ERROR, "The last sync failed: boom")

    run = sync_now(idle_connection)

    idle_connection.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert idle_connection.status == Connection.Status.ACTIVE
    assert list(SyncRun.objects.filter(connection=idle_connection)) == [run]  # none queued (nor run inline) after it
