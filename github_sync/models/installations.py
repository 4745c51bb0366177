"""GitHub App installations an organization claimed, the repositories they reach, and the members' GitHub
accounts that vouch for installations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.crypto import EncryptedTextField
from connectors.models import Organization


class Installation(models.Model):
    """One installation of the ctx| GitHub App on a GitHub account, claimed by one organization."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
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
    # Read-only on GitHub: no sync can write to it. A database default too, so rows inserted by code that predates
    # the column (a migration replaying older models, a rolling deploy) still insert.
    archived = models.BooleanField(default=False, db_default=False)
    # When GitHub's API last told us the fields above (a sync's check, the installation's listing, a refresh).
    checked_at = models.DateTimeField(null=True, blank=True)
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
