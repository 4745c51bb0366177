"""Receiving a Forge event, in the request: refuse a reused token, dedupe, store a WebhookEvent row, hand it over.

Forge waits 5 s for an answer, so the request does nothing more: the row is applied by a django-q2 task
(`handle.process_event`), named here by its path so that the request side imports nothing of the worker side.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

from django.db import IntegrityError, transaction
from django_q.conf import Conf
from django_q.tasks import async_task

from confluence.forge.outcome import DUPLICATE, REFUSED, Outcome
from confluence.forge.payload import content_version, describe, label_name, unwrap
from confluence.forge.tokens import Invocation
from confluence.models import ForgeTokenUse, WebhookEvent
from connectors import queue
from connectors.storable import storable

logger = logging.getLogger(__name__)

PROCESS_TASK = "confluence.forge.handle.process_event"
ALREADY_RECEIVED = Outcome(DUPLICATE, "Duplicate delivery; already received.")


def dedupe_key(cloud_id: str, event: dict) -> str:
    """The same change delivered again (Forge retries up to 4 times) maps to the same key.

    Built from what identifies a change — type, content or space, version, the time Confluence emitted it —
    and not from the body as a whole, since a retry may add a `retryContext`. Lifecycle events carry no
    emission time and an app can be reinstalled with the same installation id, so each delivery of those is its
    own row; applying them twice is harmless (they are upserts).
    """
    fields = describe(event)
    if fields["event_type"].startswith("avi:forge:"):
        return f"{fields['event_type']}:{uuid.uuid4()}"
    version = content_version(event)
    parts = [
        cloud_id,
        fields["event_type"],
        fields["content_id"] or fields["space_key"],
        str(version.get("number", "")),
        # Labels change no version: two labels added at once differ by name only.
        label_name(event),
    ]
    created = event.get("eventCreatedDate")
    if created:
        parts.append(str(created))
    else:
        parts.append(hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest())
    # surrogatepass: a lone surrogate (a "\ud800" escape in the body) still hashes, the same way every time.
    return "forge:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def receive(invocation: Invocation, body: dict) -> Outcome:
    """Store one authentic delivery and enqueue its processing. A redelivery is acknowledged and dropped; a token
    that already carried another body is refused."""
    event = unwrap(body)
    fields = describe(event)
    with transaction.atomic():
        # The token is remembered even when the event turns out to be a redelivery: it must not carry anything else.
        refused = remember_token(invocation, body)
        if refused is not None:
            return refused
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    cloud_id=invocation.cloud_id,
                    dedupe_key=dedupe_key(invocation.cloud_id, event),
                    payload=storable(body),
                    **storable(fields),
                )
                if broker_is_the_database():
                    # The task row commits with the event row: one commit, and never one without the other. Not
                    # `queue.send`: a broker error here must roll the event back and fail the request (Forge
                    # retries it), not be logged while the view answers 202 for a row that was never stored.
                    async_task(PROCESS_TASK, row.id, task_name=f"forge-event-{row.id}")
        except IntegrityError:
            return ALREADY_RECEIVED
    if not broker_is_the_database():
        transaction.on_commit(lambda: send(row.id))
    return Outcome(WebhookEvent.Status.RECEIVED, "Accepted.")


def remember_token(invocation: Invocation, body: dict) -> Outcome | None:
    """Record the token's first use (None); a second request under it gets an answer instead.

    Forge signs a new token for each attempt (a retry comes about a minute later, when the first token has
    expired), so a token seen again is either the same request resent on the way (same body: acknowledged, nothing
    stored) or a replay (another body: refused like a bad token).
    """
    digest = body_digest(body)
    try:
        with transaction.atomic():
            ForgeTokenUse.objects.create(
                token_id=invocation.token_id, body_sha256=digest, expires_at=invocation.expires_at
            )
        return None
    except IntegrityError:
        used = ForgeTokenUse.objects.filter(token_id=invocation.token_id).first()
    if used is not None and used.body_sha256 == digest:
        return ALREADY_RECEIVED
    logger.warning("Forge token %s… used again with another body; refused", invocation.token_id[:8])
    return Outcome(REFUSED, "token already used")


def body_digest(body: dict) -> str:
    """The body's hash, independent of key order and whitespace (what a resend may change)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def broker_is_the_database() -> bool:
    """django-q2's ORM broker (the embedded default); not in sync mode, where the task would run right here."""
    return bool(Conf.ORM) and not Conf.SYNC


def send(event_id: int, **options) -> None:
    """Hand the row to the broker; if that fails the row stays `received` and the sweeper picks it up."""
    queue.send(PROCESS_TASK, event_id, name=f"forge-event-{event_id}", **options)
