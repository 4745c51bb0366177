"""App lifecycle events: the Forge app installed on a site, or removed from it, recorded on its connections.

Reference: https://developer.atlassian.com/platform/forge/events-reference/life-cycle/
"""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime

from confluence.forge.outcome import Outcome, ignored
from confluence.forge.payload import unwrap
from confluence.models import WebhookEvent
from confluence.setup import steps


def handle_installed(event: WebhookEvent) -> Outcome:
    body = unwrap(event.payload)
    if mismatch := other_site(body, event.cloud_id):
        return ignored(mismatch)
    installation_id = str(body.get("id") or "")
    connections = steps.record_forge_installed(
        cloud_id=event.cloud_id, installation_id=installation_id, when=emitted_at(body) or event.received_at
    )
    return Outcome(WebhookEvent.Status.PROCESSED, f"Forge app installed; {count(connections)} updated.")


def handle_uninstalled(event: WebhookEvent) -> Outcome:
    body = unwrap(event.payload)
    if mismatch := other_site(body, event.cloud_id):
        return ignored(mismatch)
    connections = steps.record_forge_uninstalled(cloud_id=event.cloud_id, when=emitted_at(body) or event.received_at)
    return Outcome(WebhookEvent.Status.PROCESSED, f"Forge app removed; {count(connections)} updated.")


def other_site(body: dict, cloud_id: str) -> str:
    """Lifecycle bodies name the site as `ari:cloud:confluence::site/<cloud id>`; it must be the token's."""
    context = str(body.get("context") or "")
    if context and context.rsplit("/", 1)[-1] != cloud_id:
        return "The event names another site than its token."
    return ""


def emitted_at(body: dict) -> datetime | None:
    """When the event was emitted; None when the body does not say, or says a date that does not exist."""
    try:
        return parse_datetime(str(body.get("eventCreatedDate") or ""))
    except ValueError:  # well-formed but impossible ("2021-13-45T99:00:00Z")
        return None


def count(connections: list) -> str:
    return f"{len(connections)} connection{'s' if len(connections) != 1 else ''}"
