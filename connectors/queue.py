"""The one way background work is queued: a database row is the record of truth, the broker only rings the bell.

Every kind of work (a sync run, an ingestion, a Forge event) is a row written first. Then:

    send            hand the row's id to the broker (django-q2); a broker that refuses is logged, and the row stays
                    queued for the sweeper
    claim           queued → running with one conditional UPDATE, refused when another worker took the row or the
                    owner's partial unique index allows no second running row
    claim_locked    or, for work done inside one transaction, the row's lock (rows another worker holds are skipped)
    heartbeat       a running row's sign of life (a timestamp, or a lease pushed further); False once the sweeper
                    gave the row up, and the worker must then stop without writing
    hand_back       running → queued again in place (after a crash, or to wait out a rate limit)
    start_next      after a run: the owner's queued row goes to the broker
    recover_stale   the sweeper: running rows whose worker went silent are given up, one conditional UPDATE each
    lost            the sweeper: queued rows nobody picked up (the broker lost the task, or was down)

Each caller keeps its own `send(row_id)`, which names its task: the tests and the benchmarks replace that one
function to decide when the work runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django_q.tasks import async_task
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a broker raises when it cannot take a task: Redis down or slow (RedisError; a refused socket is an OSError),
# or the database broker's insert failing. Anything else is a bug and propagates.
BROKER_ERRORS = (RedisError, OSError, DatabaseError)


def send(task: str, row_id: int, *, name: str, **options) -> bool:
    """Hand a row to the broker: `task` is the dotted path django-q2 runs with the row's id, `name` the task's name;
    `options` go to `async_task` (a `group`, or keyword arguments of the task). Returns False when the broker did
    not take it: the row stays queued and the sweeper sends it again, so nothing is lost."""
    try:
        async_task(task, row_id, task_name=name, **options)
    except BROKER_ERRORS:
        logger.exception("could not send %s to the broker; the sweeper will send it again", name)
        return False
    return True


def claim(queued: QuerySet, **running) -> bool:
    """Take a queued row for this worker: `queued` selects it by id and queued state, `running` is what it becomes.
    False when another worker took it first, or when the owner already has a running row and a partial unique index
    refuses a second one (the running one starts this one when it finishes: `start_next`)."""
    return _update_unless_refused(queued, running)


def claim_locked(rows: QuerySet) -> Model | None:
    """For work short enough to do inside one transaction: lock the row for it, None when another worker holds it.
    Call inside `transaction.atomic()`; the lock lasts until that transaction ends."""
    return rows.select_for_update(skip_locked=True).first()


def heartbeat(running: QuerySet, **fields) -> bool:
    """Tell the sweeper the worker is alive (`fields`: a fresh timestamp, or a lease pushed past a wait). `running`
    selects the row by id and running state, so a row the sweeper gave up is not revived: False then, and the worker
    must stop without writing, because a recovery run may own the work."""
    return running.update(**fields) > 0


def hand_back(running: QuerySet, **queued) -> bool:
    """Running → queued again, in place (what it wrote stays, so the next attempt resumes): `queued` may carry a
    not-before time, when a service asked to wait longer than a worker should sleep. False when the owner has a
    queued row already (its partial unique index refuses a second one): that one covers this work."""
    return _update_unless_refused(running, queued)


def start_next(queued: QuerySet, send: Callable[[int], object]) -> None:
    """After a run, its finish committed: send the owner's queued row, if any (its claim waited for this run)."""
    row = queued.first()
    if row is not None:
        send(row.pk)


def recover_stale(stale: QuerySet, **given_up) -> list:
    """Running rows whose worker went silent (`stale` says how: a heartbeat too old, a lease run out), each moved
    to `given_up` by a conditional UPDATE of its own: a worker that beats in between keeps its row. A row a unique
    index refuses (`given_up` queues it and the owner has a queued row already) stays where it is. Returns the rows
    given up, as they were read."""
    given = []
    for row in stale:
        if _update_unless_refused(stale.filter(pk=row.pk), given_up):
            given.append(row)
    return given


def lost(queued: QuerySet, *, since: str = "created_at", after: timedelta | None = None) -> QuerySet:
    """Queued rows nobody picked up: queued longer than `after` (TASK_LOST_AFTER_SECONDS by default) by `since`."""
    after = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS) if after is None else after
    return queued.filter(**{f"{since}__lt": timezone.now() - after})


def _update_unless_refused(rows: QuerySet, fields: dict) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a refused UPDATE leaves the caller's transaction usable
            return rows.update(**fields) > 0
    except IntegrityError:
        return False
