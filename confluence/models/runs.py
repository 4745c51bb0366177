"""Sync runs (what each did and how it ended) and the sync state a connection's runs build on."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from connectors import queue
from connectors.models import Connection, QueuedRun, RunStatus


class RunSuperseded(Exception):
    """The sweeper gave up on this run (its worker was silent too long) and a recovery run owns the connection."""


class SyncRun(QueuedRun):
    """One sync of a connection: what triggered it, what it did, what it cost, and how it ended."""

    Status = RunStatus

    class Trigger(models.TextChoices):
        SETUP = "setup", "Setup completed"
        SCOPE = "scope", "Scope changed"
        MANUAL = "manual", "Sync now"
        ADMIN = "admin", "Admin action"
        SCHEDULE = "schedule", "Reconciliation schedule"
        FORGE = "forge", "Forge event"
        COMMAND = "command", "Management command"
        RECOVERY = "recovery", "Recovery of an interrupted run"

    class ErrorKind(models.TextChoices):
        NONE = "", "—"
        TRANSIENT = "transient", "Temporary (retried)"
        PERMANENT = "permanent", "Needs a fix"
        AUTH = "auth", "Access revoked"

    class WarningKind(models.TextChoices):
        PAGE_TOO_LARGE = "page_too_large", "Page skipped: too large"
        ATTACHMENT_TOO_LARGE = "attachment_too_large", "Attachment not copied: too large"

    # A run that writes thousands of pages could warn about each; the first ones tell the story.
    MAX_WARNINGS = 200

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    full = models.BooleanField(default=False, help_text="Re-read and re-render every page.")
    # Targeted runs name the pages a Forge event is about; null means "every page in scope".
    page_ids = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # host:pid of the worker process that claimed the run, so an operator can tell which one to look at.
    worker = models.CharField(max_length=100, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    commit_sha = models.CharField(max_length=40, blank=True)
    commit_url = models.URLField(max_length=500, blank=True)
    confluence_requests = models.PositiveIntegerField(default=0)
    github_requests = models.PositiveIntegerField(default=0)
    github_write_requests = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    rate_limit_waits = models.PositiveIntegerField(default=0)
    waited_seconds = models.FloatField(default=0)
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, default=ErrorKind.NONE, blank=True)
    error = models.TextField(blank=True)
    # What the run left out of the repository, and why, while still succeeding (at most MAX_WARNINGS):
    # {"kind": WarningKind, "page_id", "title", "space_key", "size", "limit", and per kind "kept" (the repository
    # keeps the page's previous version) or "filename"}. Repeated by every run while the cause persists.
    warnings = models.JSONField(default=list, blank=True)
    # [{"id", "title"}] of the pages this run found selected but restricted, and so left out (members and staff
    # see them in the run history and the admin; the repository never does).
    restricted_skipped = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["connection", "-created_at"]), models.Index(fields=["status", "heartbeat_at"])]
        constraints = [
            # The database itself guarantees one queued and one running run per connection, whatever the workers do.
            models.UniqueConstraint(
                fields=["connection"], condition=models.Q(status="queued"), name="one_queued_sync_per_connection"
            ),
            models.UniqueConstraint(
                fields=["connection"], condition=models.Q(status="running"), name="one_running_sync_per_connection"
            ),
        ]

    def __str__(self) -> str:
        return f"Sync #{self.pk} of {self.connection} ({self.status})"

    @property
    def is_targeted(self) -> bool:
        return self.page_ids is not None and not self.full

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def waiting_until(self) -> datetime | None:
        """When a queued run that waits out a service (rate limited, down) is tried again, for the card and the
        admin; None: it waits for nothing. Its error says which service, and why."""
        if self.status == SyncRun.Status.QUEUED and self.not_before and self.not_before > timezone.now():
            return self.not_before
        return None

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    def warning_summary(self) -> str:
        """One line for the connector card: "1 page skipped: too large · 2 attachments not copied: too large"."""
        counts = Counter(w.get("kind") for w in self.warnings)
        more = "+" if len(self.warnings) >= self.MAX_WARNINGS else ""
        what = {
            self.WarningKind.PAGE_TOO_LARGE: ("page", "skipped"),
            self.WarningKind.ATTACHMENT_TOO_LARGE: ("attachment", "not copied"),
        }
        parts = [
            f"{counts[kind]}{more} {noun}{'s' if counts[kind] != 1 else ''} {outcome}: too large"
            for kind, (noun, outcome) in what.items()
            if counts[kind]
        ]
        return " · ".join(parts)

    def warning_messages(self) -> list[str]:
        """Each warning as a sentence, for the run history and the admin."""
        return [warning_message(w) for w in self.warnings]

    def record_progress(self, *, done: int, total: int | None = None) -> None:
        """Progress for the card's bar, and the heartbeat that tells the sweeper this run is alive."""
        fields = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        self.heartbeat(**fields)

    def heartbeat(self, **fields) -> None:
        """Tell the sweeper this run is alive. RunSuperseded if it already gave up on the run: the run must then
        stop without writing, because a recovery run may be working on the connection."""
        fields["heartbeat_at"] = timezone.now()
        if not queue.heartbeat(SyncRun.objects.filter(pk=self.pk, status=SyncRun.Status.RUNNING), **fields):
            raise RunSuperseded(f"sync run {self.pk} was given up as stale; a recovery run redoes its work")
        for name, value in fields.items():
            setattr(self, name, value)


def warning_message(warning: dict) -> str:
    """A run's warning as a sentence that says what is missing, why, and what the repository holds instead."""
    page = f'"{warning.get("title", "")}" ({warning.get("space_key", "")}, page {warning.get("page_id", "")})'
    size, limit = filesizeformat(warning.get("size", 0)), filesizeformat(warning.get("limit", 0))
    if warning.get("kind") == SyncRun.WarningKind.ATTACHMENT_TOO_LARGE:
        return (
            f'Attachment "{warning.get("filename", "")}" shown on page {page} is {size}, over the {limit} limit: '
            "not copied into the repository; it stays in Confluence."
        )
    outcome = "the repository keeps its previous version" if warning.get("kept") else "not written to the repository"
    return f"Page {page} is {size} of Markdown, over the {limit} limit: {outcome}. Each sync tries again."


class SyncState(models.Model):
    """The index of what the repository holds for a connection (the text of .ctx/confluence-index.json as last
    committed), and the commit it describes. Lost or stale state is rebuilt from the repository's own index file."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="sync_state")
    # The file's own text, not a JSON column: a run already holds it rendered, and a 10,000-page index would
    # otherwise be built a second time as Python objects just to be saved.
    index_file = models.TextField(blank=True, default="")
    page_count = models.PositiveIntegerField(default=0)
    # Blob shas of .ctx/confluence.yml and .ctx/confluence-index.json at that commit, so an unchanged run
    # knows without asking GitHub that it has nothing to write.
    ctx_blobs = models.JSONField(default=dict, blank=True)
    commit_sha = models.CharField(max_length=40, blank=True)
    # Page id → title of the selected pages left out because they are restricted, as the runs last saw them (for
    # the organization's members and staff; never written to the repository).
    restricted_pages = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sync state of {self.connection} at {self.commit_sha[:10]}"
