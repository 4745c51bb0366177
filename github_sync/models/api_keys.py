"""Organizations' keys for the search API."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.models import Organization


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
