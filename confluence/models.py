"""A Confluence connection's site and OAuth grant, its Forge installation, and its sync scope."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from connectors.crypto import EncryptedTextField
from connectors.models import Connection
from github_sync.models import Repository


class AtlassianSite(models.Model):
    """The Confluence Cloud site a connection reads, the Atlassian account that granted access, and the grant."""

    class Grant(models.TextChoices):
        ACTIVE = "active", "Active"
        REVOKED = "revoked", "Reconnect needed"

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="atlassian_site")
    cloud_id = models.CharField(max_length=64, db_index=True)
    url = models.URLField(max_length=300)
    name = models.CharField(max_length=200)
    account_id = models.CharField(max_length=128, db_index=True)
    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.CharField(max_length=254, blank=True)
    # The OAuth grant: rotating refresh token, short-lived access token. Encrypted, never displayed.
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    grant_status = models.CharField(max_length=20, choices=Grant.choices, default=Grant.ACTIVE)
    grant_detail = models.TextField(blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    forge_install_url = models.URLField(
        max_length=500, blank=True, help_text="Overrides CONFLUENCE_FORGE_INSTALL_URL for this connection."
    )

    class Meta:
        verbose_name = "Atlassian site"

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    @property
    def api_base_url(self) -> str:
        return f"{settings.ATLASSIAN_API_URL}/ex/confluence/{self.cloud_id}"

    def install_url(self) -> str:
        return self.forge_install_url or settings.CONFLUENCE_FORGE_INSTALL_URL

    def forge(self) -> ForgeInstallation | None:
        return ForgeInstallation.objects.filter(cloud_id=self.cloud_id).first()


class ForgeInstallation(models.Model):
    """The ctx| Forge app in one Confluence site, as its lifecycle events told us. Shared by every connection
    to that site."""

    cloud_id = models.CharField(max_length=64, unique=True)
    installation_id = models.CharField(max_length=200, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Forge app in {self.cloud_id} ({'installed' if self.is_installed else 'not installed'})"

    @property
    def is_installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None


class SyncTarget(models.Model):
    """The GitHub repository a Confluence connection writes to (its default branch).

    A repository has one writer: two connections syncing into one repository would each remove the other's pages
    on every run. Reading is not exclusive (any number of `github_sync.Source` rows may ingest the repository).
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="sync_target")
    repository = models.ForeignKey(Repository, on_delete=models.RESTRICT, related_name="sync_targets")
    # Pages in a public repository are public: the user confirmed that explicitly.
    public_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public_confirmed_at = models.DateTimeField(null=True, blank=True)
    selected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    selected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository"],
                name="one_writer_per_repository",
                violation_error_message="Another connection already writes to this repository.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection} → {self.repository}"


class PendingAtlassianLink(models.Model):
    """An OAuth grant just obtained, waiting for the user to pick a site or confirm taking over an account.

    The tokens are encrypted like a linked grant's; the row is deleted once used, and is useless after 30 minutes.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account_id = models.CharField(max_length=128)
    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.CharField(max_length=254, blank=True)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    sites = models.JSONField(default=list)  # accessible resources: [{"id", "name", "url"}]
    created_at = models.DateTimeField(default=timezone.now)

    LIFETIME = timedelta(minutes=30)

    def __str__(self) -> str:
        return f"Pending link of {self.account_name or self.account_id} by {self.user}"

    @classmethod
    def latest_for(cls, user) -> PendingAtlassianLink | None:
        return cls.objects.filter(user=user, created_at__gte=timezone.now() - cls.LIFETIME).order_by("-id").first()


class SyncScope(models.Model):
    """What a connection syncs: whole spaces, pages with or without descendants, and exclusions.

    `spaces`: [{"id", "key", "name"}]; `pages`: [{"id", "title", "space_key", "descendants": bool}];
    `excluded_pages`: [{"id", "title", "descendants": bool}]; `excluded_labels`: ["draft", …].
    The same content is written to the repository as .ctx/confluence.yml.
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="sync_scope")
    spaces = models.JSONField(default=list, blank=True)
    pages = models.JSONField(default=list, blank=True)
    excluded_pages = models.JSONField(default=list, blank=True)
    excluded_labels = models.JSONField(default=list, blank=True)
    # Pages with a view restriction (their own or an ancestor's) are left out unless an organization admin opts in:
    # the repository's readers are not the restricted page's.
    include_restricted = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Scope of {self.connection}"

    @property
    def space_keys(self) -> list[str]:
        return sorted({s["key"] for s in self.spaces} | {p["space_key"] for p in self.pages})

    def summary(self) -> str:
        parts = []
        if self.spaces:
            parts.append(f"{len(self.spaces)} space{'s' if len(self.spaces) != 1 else ''}")
        if self.pages:
            parts.append(f"{len(self.pages)} page tree{'s' if len(self.pages) != 1 else ''}")
        excluded = len(self.excluded_pages) + len(self.excluded_labels)
        text = " and ".join(parts) or "Nothing selected"
        return f"{text}; {excluded} exclusion{'s' if excluded != 1 else ''}" if excluded else text


class RunSuperseded(Exception):
    """The sweeper gave up on this run (its worker was silent too long) and a recovery run owns the connection."""


class SyncRun(models.Model):
    """One sync of a connection: what triggered it, what it did, what it cost, and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

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
    attempts = models.PositiveSmallIntegerField(default=0)
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
        if not SyncRun.objects.filter(pk=self.pk, status=SyncRun.Status.RUNNING).update(**fields):
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


class WebhookEvent(models.Model):
    """One authentic delivery from the Forge app, as received, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=100, db_index=True)
    cloud_id = models.CharField(max_length=64, db_index=True)
    content_id = models.CharField(max_length=64, blank=True, db_index=True)
    content_type = models.CharField(max_length=30, blank=True)
    space_key = models.CharField(max_length=255, blank=True)
    # A redelivery of the same change has the same key; the unique constraint makes redeliveries no-ops.
    dedupe_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    detail = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    processed_at = models.DateTimeField(null=True, blank=True)
    runs = models.ManyToManyField(SyncRun, blank=True, related_name="events")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.content_id or self.space_key} ({self.status})"

    @property
    def page_id(self) -> str:
        """The page the event is about: the content's id, or an attachment's page ("" when it names no page)."""
        body = self.payload if isinstance(self.payload, dict) else {}
        if "eventType" not in body and isinstance(body.get("payload"), dict):
            body = body["payload"]  # the event under `payload`, as the Forge contract documents it
        attachment = body.get("attachment") if isinstance(body.get("attachment"), dict) else None
        if attachment is None:
            return self.content_id if self.content_type in ("page", "") else ""
        container = attachment.get("container") if isinstance(attachment.get("container"), dict) else {}
        return str(container.get("id") or "") if container.get("type") == "page" else ""


class ForgeTokenUse(models.Model):
    """A Forge Invocation Token that carried a delivery, kept until the token expires.

    The token signs who sent a request, not its body: without this row, anyone holding a captured token could send
    any body with it until it expires. One token carries one delivery (its body's hash tells a network-level resend
    of that same delivery from a replay with another body)."""

    token_id = models.CharField(max_length=255, unique=True)  # the `jti` claim
    body_sha256 = models.CharField(max_length=64)
    # When the token stops verifying (`exp` plus our leeway): after that the row proves nothing and is pruned.
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Forge token {self.token_id[:12]}… (until {self.expires_at:%Y-%m-%d %H:%M:%S})"


class PersonalDataReport(models.Model):
    """When the Atlassian accounts ctx| stores data of, for one Confluence site, were last reported to Atlassian's
    personal data reporting API, and when the next report is due (`confluence.privacy`)."""

    cloud_id = models.CharField(max_length=64, unique=True)
    reported_at = models.DateTimeField(null=True, blank=True)  # the last complete report (every batch answered)
    # How often Atlassian wants each account reported (its `Cycle-Period` header; 7 days by default).
    cycle_seconds = models.PositiveIntegerField(default=7 * 86400)
    # Not before: set from Retry-After when Atlassian answered 429.
    retry_at = models.DateTimeField(null=True, blank=True)
    accounts = models.PositiveIntegerField(default=0)  # accounts reported the last time
    closed = models.PositiveIntegerField(default=0)  # of which Atlassian said were closed
    updated = models.PositiveIntegerField(default=0)  # of which Atlassian said changed
    error = models.TextField(blank=True)  # why the last attempt did not complete ("" when it did)
    attempted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Personal data report of {self.cloud_id} ({self.reported_at or 'never'})"

    @property
    def due_at(self):
        """When this site's accounts are to be reported next (None: now)."""
        due = self.reported_at + timedelta(seconds=self.cycle_seconds) if self.reported_at else None
        if self.retry_at and (due is None or self.retry_at > due):
            return self.retry_at
        return due


class ReportedAccount(models.Model):
    """An Atlassian account the personal data reporting API said something about. A closed account stays recorded
    so that nothing erased comes back (a page mentioning the person is rendered as "Former user" from then on);
    `profile_read_at` is when ctx| last read the profile (name, email) of an account whose profile changed."""

    account_id = models.CharField(max_length=128, unique=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    profile_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Atlassian account {self.account_id} ({'closed' if self.closed_at else 'active'})"


class KnownPerson(models.Model):
    """A person's display name as a Confluence site's bulk user lookup gave it, so mentions render as names.

    Kept per site (`cloud_id`) and read again once `NAME_LIFETIME` has passed (on the next run over the whole scope,
    which re-renders the pages mentioning someone whose name changed). Personal data: `confluence.privacy` reports
    these accounts and erases a closed person's row. People the lookup did not return are kept too (an empty name,
    status "unknown") so that they are not asked about again before the row expires."""

    NAME_LIFETIME = timedelta(days=7)

    cloud_id = models.CharField(max_length=64)
    account_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=255, blank=True)
    # What the lookup says: accountStatus ("active", "inactive", "closed", "unknown") and accountType ("atlassian",
    # "app", "customer", "unknown").
    account_status = models.CharField(max_length=32, blank=True)
    account_type = models.CharField(max_length=32, blank=True)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cloud_id", "account_id"], name="known_person_per_site")]

    def __str__(self) -> str:
        return f"{self.display_name or 'unknown person'} on {self.cloud_id}"
