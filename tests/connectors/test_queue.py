"""connectors.queue on real rows: SyncRun (one queued and one running per connection) and IngestRun (one queued
per repository), the two queues that use every part of it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from confluence.models import SyncRun
from connectors import queue
from connectors.models import Connection
from github_sync.models import IngestRun, Installation, Repository

pytestmark = pytest.mark.django_db

QUEUED, RUNNING, FAILED = SyncRun.Status.QUEUED, SyncRun.Status.RUNNING, SyncRun.Status.FAILED


@pytest.fixture
def bare_connection(acme, alice):
    return Connection.create_with_tasks(org=acme, kind=Connection.Kind.CONFLUENCE, created_by=alice)


@pytest.fixture
def repository(acme, alice):
    installation = Installation.objects.create(org=acme, installation_id=7, account_login="acme-gh", created_by=alice)
    return Repository.objects.create(installation=installation, github_id=1, full_name="acme-gh/docs")


def sync_run(bare_connection, status=QUEUED, **fields) -> SyncRun:
    return SyncRun.objects.create(connection=bare_connection, trigger=SyncRun.Trigger.ADMIN, status=status, **fields)


def ingest_run(repository, status=QUEUED, **fields) -> IngestRun:
    return IngestRun.objects.create(repository=repository, trigger="push", status=status, **fields)


# send --------------------------------------------------------------------------------------------------------


def test_send_hands_the_row_id_to_the_broker(monkeypatch):
    calls = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: calls.append((args, kwargs)))

    assert queue.send("app.tasks.work", 12, name="work-12", group="work", replay=True) is True

    assert calls == [(("app.tasks.work", 12), {"task_name": "work-12", "group": "work", "replay": True})]


def test_send_records_when_the_broker_took_a_queued_row(monkeypatch, bare_connection):
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: None)
    run = sync_run(bare_connection)
    before = timezone.now()

    assert queue.send("app.tasks.work", run.id, name="work", stamp=SyncRun.objects.filter(id=run.id)) is True

    assert SyncRun.objects.get(id=run.id).sent_at >= before


def test_send_leaves_the_clock_of_a_row_that_waits(monkeypatch, bare_connection):
    """A worker handed the row back to wait meanwhile: the sweeper must still send it once the wait is over."""
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: None)
    run = sync_run(bare_connection, not_before=timezone.now() + timedelta(minutes=5))

    queue.send("app.tasks.work", run.id, name="work", stamp=SyncRun.objects.filter(id=run.id))

    assert SyncRun.objects.get(id=run.id).sent_at is None


@pytest.mark.parametrize(
    "error",
    [RedisConnectionError("Error 111 connecting"), ConnectionRefusedError(111, "refused"), OperationalError("locked")],
)
def test_a_broker_that_refuses_is_logged_and_the_row_waits_for_the_sweeper(monkeypatch, caplog, error):
    def broker_down(*args, **kwargs):
        raise error

    monkeypatch.setattr(queue, "async_task", broker_down)
    with caplog.at_level(logging.ERROR, logger="connectors.queue"):
        assert queue.send("app.tasks.work", 12, name="work-12") is False
    assert "could not send work-12 to the broker" in caplog.text


def test_a_bug_while_sending_is_not_swallowed(monkeypatch):
    def bug(*args, **kwargs):
        raise TypeError("unexpected keyword")

    monkeypatch.setattr(queue, "async_task", bug)
    with pytest.raises(TypeError):
        queue.send("app.tasks.work", 12, name="work-12")


# claim ---------------------------------------------------------------------------------------------------------


def test_only_one_worker_claims_a_row(bare_connection):
    run = sync_run(bare_connection)
    queued = SyncRun.objects.filter(id=run.id, status=QUEUED)

    assert queue.claim(queued, status=RUNNING) is True
    assert queue.claim(queued, status=RUNNING) is False
    assert SyncRun.objects.get(id=run.id).status == RUNNING


def test_the_owners_unique_index_refuses_a_second_running_row(bare_connection):
    sync_run(bare_connection, status=RUNNING)
    waiting = sync_run(bare_connection)

    with transaction.atomic():
        assert queue.claim(SyncRun.objects.filter(id=waiting.id, status=QUEUED), status=RUNNING) is False
        assert SyncRun.objects.filter(connection=bare_connection).count() == 2  # the transaction is still usable

    assert SyncRun.objects.get(id=waiting.id).status == QUEUED


def test_a_row_that_waits_is_not_claimed_before_its_time(bare_connection):
    run = sync_run(bare_connection, not_before=timezone.now() + timedelta(minutes=5))
    queued = SyncRun.objects.filter(id=run.id, status=QUEUED)

    assert queue.claim(queued, status=RUNNING) is False

    SyncRun.objects.filter(id=run.id).update(not_before=timezone.now() - timedelta(seconds=1))
    assert queue.claim(queued, status=RUNNING) is True


def test_claim_locked_takes_the_row_only_in_its_state(bare_connection):
    run = sync_run(bare_connection)
    with transaction.atomic():
        assert queue.claim_locked(SyncRun.objects.filter(id=run.id, status=QUEUED)) == run
        assert queue.claim_locked(SyncRun.objects.filter(id=run.id, status=RUNNING)) is None


# heartbeat and hand_back ------------------------------------------------------------------------------------------


def test_a_heartbeat_keeps_a_running_row_and_never_revives_a_given_up_one(bare_connection):
    run = sync_run(bare_connection, status=RUNNING)
    running = SyncRun.objects.filter(id=run.id, status=RUNNING)
    now = timezone.now()

    assert queue.heartbeat(running, heartbeat_at=now) is True
    assert SyncRun.objects.get(id=run.id).heartbeat_at == now

    SyncRun.objects.filter(id=run.id).update(status=FAILED)
    assert queue.heartbeat(running, heartbeat_at=timezone.now()) is False
    assert SyncRun.objects.get(id=run.id).status == FAILED


def test_hand_back_queues_the_run_in_place_with_a_not_before_time(repository):
    run = ingest_run(repository, status=RUNNING, attempts=2)
    not_before = timezone.now() + timedelta(minutes=15)

    running = IngestRun.objects.filter(id=run.id, status=RUNNING)
    assert queue.hand_back(running, not_before=not_before, status=QUEUED) is True

    run.refresh_from_db()
    # The worker ended its attempt itself: the attempts counted are those whose worker stopped.
    assert (run.status, run.not_before, run.attempts) == (QUEUED, not_before, 0)


def test_hand_back_gives_way_to_a_queued_run_of_the_same_owner(repository):
    run = ingest_run(repository, status=RUNNING)
    ingest_run(repository)

    assert queue.hand_back(IngestRun.objects.filter(id=run.id), not_before=timezone.now(), status=QUEUED) is False
    assert IngestRun.objects.get(id=run.id).status == RUNNING


# start_next, recover_stale, lost -------------------------------------------------------------------------------


def test_start_next_sends_the_owners_queued_row(bare_connection):
    sent = []
    queue.start_next(SyncRun.objects.filter(connection=bare_connection, status=QUEUED), sent.append)
    assert sent == []

    waiting = sync_run(bare_connection)
    queue.start_next(SyncRun.objects.filter(connection=bare_connection, status=QUEUED), sent.append)
    assert sent == [waiting.id]


def test_recover_stale_gives_up_only_silent_rows(bare_connection, acme, alice):
    other = Connection.create_with_tasks(org=acme, kind=Connection.Kind.CONFLUENCE, created_by=alice)
    silent = sync_run(bare_connection, status=RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    alive = sync_run(other, status=RUNNING, heartbeat_at=timezone.now())
    stale = SyncRun.objects.filter(status=RUNNING, heartbeat_at__lt=timezone.now() - timedelta(minutes=5))

    given_up = queue.recover_stale(stale, status=FAILED, error="The worker stopped.")

    assert [run.id for run in given_up] == [silent.id]
    assert given_up[0].status == RUNNING  # as it was read: the caller sees what the run was doing
    assert SyncRun.objects.get(id=silent.id).error == "The worker stopped."
    assert SyncRun.objects.get(id=alive.id).status == RUNNING


def test_recover_stale_gives_a_row_up_and_queues_its_recovery_in_one_transaction(bare_connection):
    """A crash after the row is given up and before its recovery is queued must leave the row for the next sweep."""
    silent = sync_run(bare_connection, status=RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    stale = SyncRun.objects.filter(status=RUNNING)

    def crash(row):
        raise RuntimeError("the sweeper died here")

    with pytest.raises(RuntimeError):
        queue.recover_stale(stale, then=crash, status=FAILED)

    assert SyncRun.objects.get(id=silent.id).status == RUNNING
    recovered = []
    assert [run.id for run in queue.recover_stale(stale, then=recovered.append, status=FAILED)] == [silent.id]
    assert [run.id for run in recovered] == [silent.id]


def test_poisoned_rows_stopped_their_worker_the_set_number_of_times(bare_connection, settings):
    settings.TASK_MAX_ATTEMPTS = 3
    run = sync_run(bare_connection, status=RUNNING, attempts=2)
    running = SyncRun.objects.filter(status=RUNNING)
    assert list(queue.poisoned(running)) == []

    SyncRun.objects.filter(id=run.id).update(attempts=3)
    assert list(queue.poisoned(running)) == [run]
    assert queue.gave_up_detail() == "given up after 3 attempts: the worker stopped each time"


def test_recover_stale_leaves_a_row_the_unique_index_refuses(repository):
    stale_run = ingest_run(repository, status=RUNNING, lease_until=timezone.now() - timedelta(seconds=1))
    ingest_run(repository)
    stale = IngestRun.objects.filter(status=RUNNING, lease_until__lt=timezone.now())

    assert queue.recover_stale(stale, status=QUEUED, lease_until=None) == []
    assert [run.id for run in queue.recover_stale(stale, status=FAILED)] == [stale_run.id]


def test_lost_rows_are_queued_longer_than_the_task_lost_setting(bare_connection, settings):
    settings.TASK_LOST_AFTER_SECONDS = 300
    run = sync_run(bare_connection)
    queued = SyncRun.objects.filter(status=QUEUED)
    assert list(queue.lost(queued)) == []
    assert list(queue.lost(queued, after=timedelta(0))) == [run]

    SyncRun.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(seconds=301))
    assert list(queue.lost(queued)) == [run]
    assert list(queue.lost(queued, since="heartbeat_at")) == []  # never beat: no time to compare


def test_an_old_row_sent_again_is_not_lost_again_before_the_setting(bare_connection, settings):
    """Measured from the last send, not from the row's creation: an old row is not re-sent at every sweep."""
    settings.TASK_LOST_AFTER_SECONDS = 300
    run = sync_run(bare_connection, created_at=timezone.now() - timedelta(hours=1))
    queued = SyncRun.objects.filter(status=QUEUED)
    SyncRun.objects.filter(id=run.id).update(sent_at=timezone.now() - timedelta(seconds=60))
    assert list(queue.lost(queued)) == []

    SyncRun.objects.filter(id=run.id).update(sent_at=timezone.now() - timedelta(seconds=301))
    assert list(queue.lost(queued)) == [run]


def test_a_row_that_waits_is_lost_once_its_wait_is_over_and_then_only_once(bare_connection, settings):
    settings.TASK_LOST_AFTER_SECONDS = 300
    sent = timezone.now() - timedelta(hours=1)
    run = sync_run(bare_connection, sent_at=sent, not_before=timezone.now() + timedelta(minutes=5))
    queued = SyncRun.objects.filter(status=QUEUED)
    assert list(queue.lost(queued)) == []  # not before its time, however long ago it was sent

    SyncRun.objects.filter(id=run.id).update(not_before=timezone.now() - timedelta(seconds=1))
    assert list(queue.lost(queued)) == [run]  # due, and not sent since: at once, not TASK_LOST_AFTER_SECONDS later

    SyncRun.objects.filter(id=run.id).update(sent_at=timezone.now())
    assert list(queue.lost(queued)) == []
