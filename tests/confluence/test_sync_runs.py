"""Runs as rows: one running per connection, requests merged into one queued run, and how failures end."""

import os
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from confluence import tasks
from confluence.models import SyncRun
from confluence.sync import engine, outcome, queue
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
    assert not queued(idle_connection)


def test_it_reports_a_deleted_repository(world, idle_connection):
    sync_now(idle_connection)
    world.github.delete_repository("acme-inc", "wiki")
    run = sync_now(idle_connection)
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == SyncRun.ErrorKind.PERMANENT
    assert not queued(idle_connection)
    idle_connection.refresh_from_db()
    assert idle_connection.status == Connection.Status.ATTENTION
    assert "acme-inc/wiki" in idle_connection.status_detail


# Waiting out a service ---------------------------------------------------------------------------------------


def test_it_hands_the_run_back_to_the_queue_while_confluence_stays_down(world, idle_connection, monkeypatch):
    from sandbox.core import FaultPlan

    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern="/wiki/"))
    run = sync_now(idle_connection)

    assert run.status == SyncRun.Status.QUEUED and run.error_kind == SyncRun.ErrorKind.TRANSIENT
    assert run.not_before >= timezone.now() + outcome.MIN_RETRY_DELAY - timedelta(seconds=5)
    assert run.waiting_until == run.not_before
    assert f"Trying again after {run.not_before:%H:%M} UTC." in run.error
    assert SyncRun.objects.filter(connection=idle_connection).count() == 1  # the same run waits: no new one
    assert not Schedule.objects.filter(func="confluence.tasks.retry_sync").exists()


def test_a_long_rate_limit_hands_the_run_back_to_the_queue_instead_of_sleeping(world, idle_connection, monkeypatch):
    """Confluence asks for 15 minutes: the worker sleeps none of it, and the run waits at least that long."""
    from sandbox.core import FaultPlan

    slept = []
    monkeypatch.setattr("connectors.http.sleep", slept.append)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("429",), path_pattern="/wiki/", retry_after=900))
    before = timezone.now()

    run = sync_now(idle_connection)

    assert run.status == SyncRun.Status.QUEUED and slept == []
    assert run.not_before >= before + timedelta(seconds=900)


def test_a_waiting_run_is_not_started_before_its_time_then_resumes(world, idle_connection, monkeypatch):
    from sandbox.core import FaultPlan

    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern="/wiki/"))
    run = sync_now(idle_connection)
    world.atlassian.inject_faults(None)

    assert queue.resend_lost() == 0  # the sweeper leaves it alone while it waits
    tasks.run_sync(run.id)  # a stray task (a request merged into it, a follow-up sent) does not start it either
    assert SyncRun.objects.get(id=run.id).status == SyncRun.Status.QUEUED

    SyncRun.objects.filter(id=run.id).update(not_before=timezone.now() - timedelta(seconds=1))
    assert queue.resend_lost() == 1  # due: sent at once, and it runs here (sync mode)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.error == "" and run.not_before is None


def test_a_waiting_run_of_a_connection_paused_meanwhile_is_not_tried_again(idle_connection, monkeypatch):
    """As a new request would be refused: resuming syncs the whole scope."""
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: pytest.fail("sent"))
    run = enqueue(idle_connection)
    queue.claim(run.id)
    queue.hand_back(run, not_before=timezone.now() - timedelta(seconds=1), error="Confluence is rate limiting.")
    idle_connection.pause()

    assert queue.resend_lost() == 0

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error == "Not tried again: connection paused."


def test_a_queued_run_of_a_connection_paused_before_it_started_does_not_run(idle_connection):
    """Pausing says no sync runs until resumed: a run queued before the pause is failed when a worker takes it."""
    run = enqueue(idle_connection)
    idle_connection.pause()

    assert queue.claim(run.id) is None

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error == "Not run: connection paused."


def test_a_lost_run_of_a_paused_connection_is_failed_not_sent(idle_connection, monkeypatch):
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: pytest.fail("sent"))
    run = enqueue(idle_connection)
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1), sent_at=None)
    idle_connection.pause()

    assert queue.resend_lost() == 0

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error == "Not tried again: connection paused."


def test_waits_grow_with_the_time_the_work_has_waited(idle_connection):
    run = enqueue(idle_connection)
    assert outcome.retry_delay(run) == outcome.MIN_RETRY_DELAY
    assert outcome.retry_delay(run, declined=900) == timedelta(seconds=900)

    run.created_at = timezone.now() - timedelta(minutes=10)
    assert timedelta(minutes=10) <= outcome.retry_delay(run) < timedelta(minutes=11)
    run.created_at = timezone.now() - timedelta(days=1)
    assert outcome.retry_delay(run) == outcome.MAX_RETRY_DELAY


def test_a_run_that_cannot_wait_in_place_passes_its_work_and_wait_to_the_queued_run(
    world, idle_connection, monkeypatch
):
    """Requests came while it ran (one queued run per connection): that run takes over its pages, after its wait."""
    from sandbox.core import FaultPlan

    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection, page_ids=["1"])
    queue.claim(run.id)
    waiting = enqueue(idle_connection, page_ids=["2"])
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern="/wiki/"))

    engine.execute(SyncRun.objects.get(id=run.id))

    run.refresh_from_db()
    waiting.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error_kind == SyncRun.ErrorKind.TRANSIENT
    assert "The queued run takes over its work after" in run.error
    assert waiting.page_ids == ["1", "2"] and waiting.not_before > timezone.now()


# The sweeper -------------------------------------------------------------------------------------------------


def die_in_the_worker(run_id: int) -> None:
    """A worker takes the run and stops without a word; the sweeper finds its heartbeat old."""
    assert queue.claim(run_id) is not None
    SyncRun.objects.filter(id=run_id).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_recovery_run_carries_the_attempts_on(idle_connection, monkeypatch):
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection, page_ids=["1"])
    die_in_the_worker(run.id)

    assert queue.recover_stale() == 1

    [recovery] = queued(idle_connection)
    assert (recovery.trigger, recovery.page_ids, recovery.attempts) == (SyncRun.Trigger.RECOVERY, ["1"], 1)


def test_work_that_stops_its_worker_every_time_is_given_up(idle_connection, monkeypatch, settings):
    settings.TASK_MAX_ATTEMPTS = 3
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection)
    for _ in range(3):
        die_in_the_worker(run.id)
        queue.recover_stale()
        run = queued(idle_connection)[0] if queued(idle_connection) else SyncRun.objects.get(id=run.id)

    assert not queued(idle_connection)
    assert run.status == SyncRun.Status.FAILED and run.error_kind == SyncRun.ErrorKind.PERMANENT
    assert run.error == "Given up after 3 attempts: the worker stopped each time."
    idle_connection.refresh_from_db()
    assert idle_connection.status == Connection.Status.ERROR
    assert (
        idle_connection.status_detail
        == "The last sync failed: given up after 3 attempts: the worker stopped each time."
    )


def test_a_wait_handed_back_is_not_counted_as_a_stopped_worker(idle_connection, monkeypatch):
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection)
    queue.claim(run.id)
    assert queue.hand_back(run, not_before=timezone.now(), error="Confluence is rate limiting.")
    assert SyncRun.objects.get(id=run.id).attempts == 0


def test_a_crash_before_the_recovery_is_queued_leaves_the_run_for_the_next_sweep(idle_connection, monkeypatch):
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    run = enqueue(idle_connection)
    die_in_the_worker(run.id)

    def crash(*args, **kwargs):
        raise RuntimeError("the sweeper's process died")

    monkeypatch.setattr("confluence.sync.queue.enqueue_sync", crash)
    with pytest.raises(RuntimeError):
        queue.recover_stale()
    assert SyncRun.objects.get(id=run.id).status == SyncRun.Status.RUNNING  # not failed without its recovery

    monkeypatch.undo()
    monkeypatch.setattr("confluence.sync.queue.send", lambda run_id: None)
    assert queue.recover_stale() == 1
    assert SyncRun.objects.get(id=run.id).status == SyncRun.Status.FAILED and len(queued(idle_connection)) == 1


def test_a_lost_run_is_sent_again_once_per_the_lost_setting(idle_connection, monkeypatch, settings):
    """Measured from the last send: a run queued long ago is not sent again at every sweep."""
    settings.TASK_LOST_AFTER_SECONDS = 300
    sent = []
    monkeypatch.setattr("connectors.queue.async_task", lambda task, run_id, **options: sent.append(run_id))
    run = enqueue(idle_connection)
    SyncRun.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(hours=1))

    assert queue.resend_lost() == 1
    assert queue.resend_lost() == 0
    assert sent == [run.id]


def test_retries_scheduled_before_the_upgrade_become_waiting_runs(idle_connection):
    """Migration 0014: a pending one-off retry schedule becomes a queued run that waits until the schedule's time,
    merged into the connection's queued run; the schedule is gone (nothing calls confluence.tasks.retry_sync)."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("confluence.migrations.0014_syncrun_not_before")

    def retry(page_id: str, **fields) -> None:
        args = repr((idle_connection.id, [page_id], False))
        Schedule.objects.create(func=migration.RETRY, args=args, schedule_type="O", **fields)

    when = timezone.now() + timedelta(minutes=8)
    retry("1", next_run=when)
    retry("2", repeats=0)  # ran already
    migration.schedules_to_queued_runs(apps, None)
    [run] = queued(idle_connection)
    assert (run.page_ids, run.not_before, run.trigger) == (["1"], when, SyncRun.Trigger.RECOVERY)

    retry("3", next_run=when)
    migration.schedules_to_queued_runs(apps, None)
    assert [run.page_ids for run in queued(idle_connection)] == [["1", "3"]]
    assert not Schedule.objects.filter(func=migration.RETRY).exists()


def test_a_successful_run_on_a_connection_in_error_queues_no_other_run(idle_connection):
    """The run that clears the error is the sync: becoming active again must not queue a second, full one."""
    idle_connection.set_status(Connection.Status.ERROR, "The last sync failed: boom")

    run = sync_now(idle_connection)

    idle_connection.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert idle_connection.status == Connection.Status.ACTIVE
    assert list(SyncRun.objects.filter(connection=idle_connection)) == [run]  # none queued (nor run inline) after it
