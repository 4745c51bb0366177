"""Where a connection reads from: the Atlassian site and OAuth grant, a grant awaiting a site choice, and the
Forge app installed in the site."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.crypto import EncryptedTextField
from connectors.models import Connection


class AtlassianSite(models.Model):
    """The Confluence Cloud site a connection reads, the Atlassian account that granted access, and the grant."""

    class Grant(models.TextChoices):
        ACTIVE = "active"
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
    def latest_for(cls, user, *, grant: str = "") -> PendingAtlassianLink | None:
        """The user's newest grant still valid, or, when a page named one (`grant`: the form the user answered
        showed that account and its sites; another tab may have linked another account since), that one."""
        valid = cls.objects.filter(user=user, created_at__gte=timezone.now() - cls.LIFETIME)
        if grant:
            return valid.filter(id=int(grant)).first() if grant.isdigit() else None
        return valid.order_by("-id").first()
