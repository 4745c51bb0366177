"""What we ingest from repositories: why (Source), each ingestion (IngestRun), and the result (Document, Section).

A repository is ingested and searchable while at least one connection uses it (a Source row): the GitHub
connection's chosen repositories, and the repository a Confluence connection writes to.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone

from connectors.models.states import QueuedRun, RunStatus
from github_sync.models.installations import Repository
from github_sync.sections import SEPARATOR


class Source(models.Model):
    """A connection's use of a repository: why the repository is ingested, and whose status its trouble affects."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="sources")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="sources")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "repository"], name="one_source_per_repository")]

    def __str__(self) -> str:
        return f"{self.repository} → {self.connection}"

    @classmethod
    def connect(cls, connection, repository: Repository, *, by=None) -> Source:
        source, _ = cls.objects.get_or_create(connection=connection, repository=repository, defaults={"created_by": by})
        return source


class IngestRun(QueuedRun):
    """One ingestion of a repository at a commit: queued, claimed by a worker, finished with counts or an error."""

    MAX_WARNINGS = 100

    Status = RunStatus

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="ingest_runs")
    # Blank: the tip of the default branch, resolved when the run starts (admin re-ingest, unsuspend).
    commit_sha = models.CharField(max_length=40, blank=True)
    trigger = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Running: the run's lock on its repository; past it, the worker is presumed dead and
    # the sweeper (tasks.recover_stale) puts the run back in the queue.
    lease_until = models.DateTimeField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_by_reason = models.JSONField(default=dict, blank=True)  # {"binary": 3, "vendored": 120, …}
    blobs_fetched = models.PositiveIntegerField(default=0)
    bytes_fetched = models.BigIntegerField(default=0)
    github_requests = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Files ingested with something left out, for staff: [{"path": …, "reason": …}], the first MAX_WARNINGS.
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One queued run per repository: later requests merge into it (tasks.enqueue_ingest).
            models.UniqueConstraint(
                fields=["repository"], condition=models.Q(status="queued"), name="one_queued_ingest_per_repository"
            )
        ]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"{self.repository} @ {self.commit_sha[:12] or 'HEAD'} ({self.status})"


class Document(models.Model):
    """A text file of an ingested repository, as of the last ingested commit that contains it."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="documents")
    path = models.CharField(max_length=1024)
    blob_sha = models.CharField(max_length=40)
    title = models.CharField(max_length=500)
    text = models.TextField()  # the whole file, front matter included
    metadata = models.JSONField(default=dict, blank=True)  # the front matter
    commit_sha = models.CharField(max_length=40)
    source_url = models.URLField(max_length=1000, blank=True)  # where the content came from (front matter)
    size = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["repository", "path"]
        constraints = [models.UniqueConstraint(fields=["repository", "path"], name="one_document_per_path")]
        indexes = [models.Index(fields=["repository", "blob_sha"])]

    def __str__(self) -> str:
        return f"{self.repository}:{self.path}"

    @property
    def github_url(self) -> str:
        return f"{self.repository.html_url}/blob/{self.commit_sha}/{self.path}" if self.repository.html_url else ""


class Section(models.Model):
    """A part of a document under one heading: the unit search ranks and returns."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    heading_path = models.TextField(blank=True)  # outer headings to this one, joined by HEADING_SEPARATOR
    anchor = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    # PostgreSQL only, filled on write by search.index_sections() (weights A title, B heading path, C body);
    # its GIN index is created by migration 0002 on PostgreSQL. SQLite keeps an FTS5 table instead.
    search_vector = SearchVectorField(null=True, editable=False)

    HEADING_SEPARATOR = SEPARATOR

    class Meta:
        ordering = ["document", "position"]

    def __str__(self) -> str:
        return f"{self.document.path} #{self.anchor or self.position}"

    @property
    def headings(self) -> list[str]:
        return self.heading_path.split(self.HEADING_SEPARATOR) if self.heading_path else []
