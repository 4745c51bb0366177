"""The deliveries GitHub sends to our webhook, as received and as handled."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from connectors.models.states import DeliveryStatus


class WebhookDelivery(models.Model):
    """One delivery GitHub sent us, verified: headers (no signatures), payload, and what we did with it."""

    Status = DeliveryStatus

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
