"""The one way background work is queued: a database row is the record of truth, the broker only rings the bell.

Every kind of work (a sync run, an ingestion, a Forge event) is a row written first. Then:

    send            hand the row's id to the broker (django-q2) and note when (`sent_at`); a broker that refuses
                    is logged, and the row stays queued for the sweeper
    claim           queued → running with one conditional UPDATE, refused when another worker took the row, when
                    the row waits (`not_before` still ahead), or when the owner's partial unique index allows no
                    second running row
    claim_locked    or, for work done inside one transaction, the row's lock (rows another worker holds are skipped)
    heartbeat       a running row's sign of life (a timestamp, or a lease pushed further); False once the sweeper
                    gave the row up, and the worker must then stop without writing
    hand_back       running → queued again in place, not before a given time (a service asked to wait longer than
                    a worker should sleep)
    start_next      after a run: the owner's queued row goes to the broker
    recover_stale   the sweeper: running rows whose worker went silent are given up, one conditional UPDATE each
    lost            the sweeper: queued rows the broker does not hold (it lost the task, or was down, or the row's
                    wait is over), each sent at most once per TASK_LOST_AFTER_SECONDS

The fields a run (SyncRun, IngestRun) keeps for this: `sent_at` (when the broker last took it), `not_before`, and
`attempts` (workers that took the work in a row without ending it themselves: the sweeper gives the work up after
TASK_MAX_ATTEMPTS, so work that kills its worker does not loop forever spending API quota).

Each caller keeps its own `send(row_id)`, which names its task: the tests and the benchmarks replace that one
function to decide when the work runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a broker raises when it cannot take a task: Redis down or slow (RedisError; a refused socket is an OSError),
# or the database broker's insert failing. Anything else is a bug and propagates.
BROKER_ERRORS = (RedisError, OSError, DatabaseError)


def send(task: str, row_id: int, *, name: str, stamp: QuerySet | None = None, **options) -> bool:
    """Hand a row to the broker: `task` is the dotted path django-q2 runs with the row's id, `name` the task's name;
    `options` go to `async_task` (a `group`, or keyword arguments of the task). Once the broker took it, the rows
    of `stamp` (the row, while queued) record when in `sent_at`: the sweeper's clock. Returns False when the broker
    did not take it: the row stays queued and the sweeper sends it again, so nothing is lost."""
    try:
        async_task(task, row_id, task_name=name, **options)
    except BROKER_ERRORS:
        logger.exception("could not send %s to the broker; the sweeper will send it again", name)
        return False
    if stamp is not None:
        # Not a row that waits: one a worker handed back meanwhile is sent again once its wait is over.
        due(stamp).update(sent_at=timezone.now())
    return True


def due(queued: QuerySet) -> QuerySet:
    """The rows of `queued` that wait for nothing: no not-before time, or one that has passed."""
    return queued.filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))


def claim(queued: QuerySet, **running) -> bool:
    """Take a queued row for this worker: `queued` selects it by id and queued state, `running` is what it becomes.
    False when another worker took it first, when it waits (its not-before time is ahead: the sweeper sends it
    then), or when the owner already has a running row and a partial unique index refuses a second one (the
    running one starts this one when it finishes: `start_next`)."""
    return _update_unless_refused(due(queued), running)


def claim_locked(rows: QuerySet) -> Model | None:
    """For work short enough to do inside one transaction: lock the row for it, None when another worker holds it.
    Call inside `transaction.atomic()`; the lock lasts until that transaction ends."""
    return rows.select_for_update(skip_locked=True).first()


def heartbeat(running: QuerySet, **fields) -> bool:
    """Tell the sweeper the worker is alive (`fields`: a fresh timestamp, or a lease pushed past a wait). `running`
    selects the row by id and running state, so a row the sweeper gave up is not revived: False then, and the worker
    must stop without writing, because a recovery run may own the work."""
    return running.update(**fields) > 0


def hand_back(running: QuerySet, *, not_before: datetime, **queued) -> bool:
    """Running → queued again, in place (what it wrote stays, so the next attempt resumes), not before `not_before`:
    a service asked to wait longer than a worker should sleep. The worker ended its attempt itself, so the count of
    attempts whose worker stopped starts again. False when the owner has a queued row already (its partial unique
    index refuses a second one): that one covers the owner's new work, not necessarily this row's."""
    return _update_unless_refused(running, {**queued, "not_before": not_before, "attempts": 0})


def start_next(queued: QuerySet, send: Callable[[int], object]) -> None:
    """After a run, its finish committed: send the owner's queued row, if any (its claim waited for this run),
    unless it waits (the sweeper sends it when its wait is over)."""
    row = due(queued).first()
    if row is not None:
        send(row.pk)


def recover_stale(stale: QuerySet, *, then: Callable[[Model], object] | None = None, **given_up) -> list:
    """Running rows whose worker went silent (`stale` says how: a heartbeat too old, a lease run out), each moved
    to `given_up` by a conditional UPDATE of its own: a worker that beats in between keeps its row. `then(row)` runs
    in the same transaction as the row's UPDATE (queueing what redoes its work): a crash between the two leaves the
    row as it was, for the next sweep. A row a unique index refuses (`given_up` queues it and the owner has a
    queued row already) stays where it is. Returns the rows given up, as they were read."""
    given = []
    for row in stale:
        with transaction.atomic():
            if not _update_unless_refused(stale.filter(pk=row.pk), given_up):
                continue
            if then is not None:
                then(row)
        given.append(row)
    return given


def poisoned(stale: QuerySet) -> QuerySet:
    """The stale rows whose work stopped its worker TASK_MAX_ATTEMPTS times in a row: given up, not redone."""
    return stale.filter(attempts__gte=settings.TASK_MAX_ATTEMPTS)


def gave_up_detail() -> str:
    """Why the sweeper failed a poisoned run, for its record and its owner's status."""
    return f"given up after {settings.TASK_MAX_ATTEMPTS} attempts: the worker stopped each time"


def lost(queued: QuerySet, *, since: str = "created_at", after: timedelta | None = None) -> QuerySet:
    """Queued rows the broker does not hold: not handed to it for `after` (TASK_LOST_AFTER_SECONDS by default),
    by `sent_at`, or by `since` for a row never handed over. A row that waits (`not_before`) is lost once its
    wait is over and it was not sent since; never before. So a run is re-sent at most once per `after`.
    A model without `sent_at` (Forge events: the sweeper processes them itself, and tries one Confluence could
    not confirm again at each sweep) is measured by `since` alone."""
    after = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS) if after is None else after
    cutoff = timezone.now() - after
    if not any(field.name == "sent_at" for field in queued.model._meta.concrete_fields):
        return queued.filter(**{f"{since}__lt": cutoff})
    unsent = Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, **{f"{since}__lt": cutoff})
    waited = Q(not_before__isnull=False) & (Q(sent_at__isnull=True) | Q(sent_at__lt=F("not_before")))
    return due(queued.filter(unsent | waited))


def _update_unless_refused(rows: QuerySet, fields: dict) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a refused UPDATE leaves the caller's transaction usable
            return rows.update(**fields) > 0
    except IntegrityError:
        return False
