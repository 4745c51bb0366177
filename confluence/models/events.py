"""Deliveries from the Forge app, and the Forge tokens that carried them (replay protection)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from confluence.models.runs import SyncRun
from connectors.models import DeliveryStatus


class WebhookEvent(models.Model):
    """One authentic delivery from the Forge app, as received, and what became of it."""

    Status = DeliveryStatus

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
