"""GitHub webhooks: verify the signature (before anything reads the body), record the delivery, dispatch it.

The view (`views.github_webhook`) is three lines around `receive`. Handlers live in `events.py`; each takes the
parsed payload and returns what it did, in words, for the delivery row.

# Reference: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from github_sync import events
from github_sync.models import WebhookDelivery

logger = logging.getLogger(__name__)

HANDLERS = {
    "installation": events.handle_installation,
    "installation_repositories": events.handle_installation_repositories,
    "push": events.handle_push,
}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Never stored: the signatures are derived from the secret, the others are not GitHub's to send.
DROPPED_HEADERS = frozenset({"x-hub-signature", "x-hub-signature-256", "authorization", "cookie"})


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=` + the HMAC-SHA256 of the raw body under the secret (constant time)."""
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


def receive(*, event: str, delivery_id: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """Record a verified delivery and apply it; duplicates (same delivery id) are acknowledged and ignored."""
    try:
        payload = json.loads(body)
    except ValueError:
        return Outcome(400, "The body is not JSON.")
    if not isinstance(payload, dict) or not delivery_id:
        return Outcome(400, "A delivery needs an X-GitHub-Delivery header and a JSON object body.")
    payload = storable(payload)
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                delivery_id=delivery_id[:100],
                event=event[:60],
                action=events.text(payload.get("action"), 60),
                installation_id=events.github_id(events.obj(payload.get("installation")).get("id")),
                headers={k: v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS},
                payload=payload,
            )
    except IntegrityError:
        return Outcome(200, "Duplicate delivery; already received.")
    process(delivery)
    return Outcome(500 if delivery.status == WebhookDelivery.Status.FAILED else 200, delivery.detail)


def storable(value):
    """The payload with NUL characters and lone surrogates (a "\\ud800" escape) replaced: PostgreSQL's jsonb
    refuses \u0000 (a commit message can hold one), and no database encodes a lone surrogate."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd"))
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def process(delivery: WebhookDelivery) -> None:
    """Apply a stored delivery (again, from the admin); handlers are idempotent."""
    handler = HANDLERS.get(delivery.event)
    try:
        with transaction.atomic():
            if handler is None:
                status, detail = WebhookDelivery.Status.IGNORED, f"Event {delivery.event!r} is not used."
            else:
                status, detail = handler(delivery.payload)
    except Exception as error:
        logger.exception("GitHub delivery %s failed", delivery.delivery_id)
        status, detail = WebhookDelivery.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
    delivery.status, delivery.detail, delivery.processed_at = status, detail, timezone.now()
    delivery.save(update_fields=["status", "detail", "processed_at"])
