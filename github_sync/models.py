"""GitHub App installations an organization claimed, the repositories they reach, and what we ingest from them."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone

from connectors.crypto import EncryptedTextField
from connectors.models import Organization
from github_sync.sections import SEPARATOR


class Installation(models.Model):
    """One installation of the ctx| GitHub App on a GitHub account, claimed by one organization."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REMOVED = "removed", "Removed from GitHub"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="github_installations")
    installation_id = models.BigIntegerField(unique=True)
    account_login = models.CharField(max_length=100)
    account_type = models.CharField(max_length=20, default="User")
    repository_selection = models.CharField(max_length=20, default="selected")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_login"]

    def __str__(self) -> str:
        return f"{self.account_login} (installation {self.installation_id})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Repository(models.Model):
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="repositories")
    github_id = models.BigIntegerField()
    full_name = models.CharField(max_length=200)
    default_branch = models.CharField(max_length=255, default="main")
    private = models.BooleanField(default=True)
    html_url = models.URLField(max_length=500, blank=True)
    # False once the installation no longer reaches the repository (removed from the selection, deleted).
    accessible = models.BooleanField(default=True)
    # Why the repository cannot be ingested right now ("" when it can), in words for the admin and the wizard.
    status_detail = models.CharField(max_length=300, blank=True)
    ingested_sha = models.CharField(max_length=40, blank=True)  # the last commit ingested completely
    ingested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "github_id"], name="one_row_per_repository_and_installation"
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def org(self) -> Organization:
        return self.installation.org

    @property
    def visibility(self) -> str:
        return "private" if self.private else "public"


class InstallationRequest(models.Model):
    """A member who cannot install the App on a GitHub organization asked its owners to (`setup_action=request`).

    GitHub tells us nothing more until an owner approves: then the `installation` webhook (`created`) names the
    member as its `requester`. That, and the account when the member named it, say which request it fulfils, so
    the installation goes to the organization and the connection that asked."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="github_installation_requests")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="github_installation_requests"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The GitHub user who asked (their linked identity): the webhook's `requester`.
    requester_login = models.CharField(max_length=100)
    requester_github_id = models.BigIntegerField(null=True, blank=True)
    # The GitHub account the App was requested for, as the member named it ("" until they do).
    account_login = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    installation = models.ForeignKey(
        Installation, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        account = self.account_login or "a GitHub account"
        return f"{self.requester_login} asked for {account} ({self.org})"

    @property
    def is_pending(self) -> bool:
        return self.fulfilled_at is None


class GitHubIdentity(models.Model):
    """A user's linked GitHub account and its user-to-server token (encrypted), used to verify installations."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="github_identity")
    login = models.CharField(max_length=100)
    github_user_id = models.BigIntegerField()
    access_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "GitHub identity"
        verbose_name_plural = "GitHub identities"

    def __str__(self) -> str:
        return f"{self.login} ({self.user})"

    @property
    def token_usable(self) -> bool:
        return bool(self.access_token) and (self.token_expires_at is None or self.token_expires_at > timezone.now())


# Ingestion -------------------------------------------------------------------------------------------------
# A repository is ingested and searchable while at least one connection uses it (a Source row): the GitHub
# connection's chosen repositories, and the repository a Confluence connection writes to.


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


class IngestRun(models.Model):
    """One ingestion of a repository at a commit: queued, claimed by a worker, finished with counts or an error."""

    MAX_WARNINGS = 100

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="ingest_runs")
    # Blank: the tip of the default branch, resolved when the run starts (admin re-ingest, unsuspend).
    commit_sha = models.CharField(max_length=40, blank=True)
    trigger = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Running: the run's lock on its repository; past it, the worker is presumed dead and
    # requeue_stale_ingests() puts the run back in the queue. Queued: not before (waiting out a rate limit).
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


class WebhookDelivery(models.Model):
    """One delivery GitHub sent us, verified: headers (no signatures), payload, and what we did with it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=60)
    action = models.CharField(max_length=60, blank=True)
    installation_id = models.BigIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    detail = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event}.{self.action} {self.delivery_id}" if self.action else f"{self.event} {self.delivery_id}"


class ApiKey(models.Model):
    """An organization's key for the search API. Only its SHA-256 is stored; the key is shown once."""

    PREFIX = "ctx_"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # the key's first characters, to tell keys apart in lists
    # Keys are 256 random bits, so a fast hash is enough: no one can guess a preimage, and lookups stay cheap.
    hashed_key = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, org: Organization, name: str, by) -> tuple[ApiKey, str]:
        """Create a key; returns the row and the full key, which exists nowhere else afterwards."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(org=org, name=name, prefix=key[:12], hashed_key=cls.hash(key), created_by=by)
        return row, key

    @classmethod
    def find(cls, key: str) -> ApiKey | None:
        if not key.startswith(cls.PREFIX):
            return None
        return cls.objects.select_related("org").filter(hashed_key=cls.hash(key), revoked_at=None).first()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
