"""What every app's background work and received deliveries share, declared once: their states (so the sweepers,
the admin filters and the templates of each app read the same values), and the fields `connectors.queue` keeps on
a run."""

from __future__ import annotations

from django.db import models


class RunStatus(models.TextChoices):
    """A run of queued work (a sync, an ingestion): `connectors.queue` moves it along."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeliveryStatus(models.TextChoices):
    """A delivery a service sent to a webhook (a Forge event, a GitHub delivery), as stored and as handled."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class QueuedRun(models.Model):
    """A run `connectors.queue` moves along (SyncRun, IngestRun): when it may start, when the broker last took it,
    and how many workers stopped on it."""

    # Queued: not claimed before this (a service asked to wait longer than a worker sleeps; the sweeper sends it then).
    not_before = models.DateTimeField(null=True, blank=True)
    # When the broker last took the run: the sweeper sends a queued run again only once this is old (queue.lost).
    sent_at = models.DateTimeField(null=True, blank=True)
    # Workers that took this work in a row without ending it themselves (a sync's recovery run carries them on; a
    # wait handed back starts the count again): the sweeper gives the work up at TASK_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
