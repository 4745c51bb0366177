"""GitHub webhooks: read the body (capped), verify the signature (before anything parses it), record, dispatch.

The view (`views.github_webhook`) is a few lines around `read_body` and `receive`. Handlers live in `events.py`;
each takes the parsed payload and returns what it did, in words, for the delivery row. The Forge endpoint reads and
parses its bodies with the same `read_body` and `parse_json`.

# Reference: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from connectors.storable import storable
from github_sync import events
from github_sync.models import WebhookDelivery

logger = logging.getLogger(__name__)

HANDLERS = {
    "installation": events.handle_installation,
    "installation_repositories": events.handle_installation_repositories,
    "push": events.handle_push,
    "repository": events.handle_repository,
}
# Never stored: the signatures are derived from the secret, the others are not GitHub's to send.
DROPPED_HEADERS = frozenset({"x-hub-signature", "x-hub-signature-256", "authorization", "cookie"})
# Far deeper than any real payload (a push nests 4 levels, a Forge event 5), and shallow enough that whatever walks
# a payload after parsing (`storable`, the JSONField encoder, the dedupe hash, the admin's pretty-printer) stays far
# from Python's recursion limit, however deep the stack already is.
MAX_DEPTH = 64
READ_CHUNK_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is larger than the endpoint takes (→ 413)."""


def declared_length(request: HttpRequest) -> int:
    """The Content-Length header as a number; 0 when it is absent (a chunked body) or not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, read from the stream in chunks; BodyTooLarge once it is known to be over `limit` bytes.

    Not `request.body`, which refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, less than GitHub sends);
    `request.read` applies no such limit, so the limit is ours. A declared length over it is refused unread. The
    count still matters when the header is missing or lies: under WSGI Django reads no further than Content-Length,
    but under ASGI the stream is the whole body as received, whatever the header said.
    """
    if declared_length(request) > limit:
        raise BodyTooLarge
    body = bytearray()
    while len(body) <= limit:
        chunk = request.read(min(READ_CHUNK_BYTES, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise BodyTooLarge
    return bytes(body)


def parse_json(body: bytes):
    """The JSON value of a webhook body; ValueError for anything we do not take as JSON.

    Besides malformed text and bytes that are not UTF-8 (json.loads raises ValueError for those, and for integers of
    more than 4,300 digits), that is: NaN and Infinity, and numbers that overflow to it (1e999), which Python reads
    but JSON, SQLite's JSON check and PostgreSQL's jsonb do not; and nesting deeper than MAX_DEPTH. Past about 1,000
    levels json.loads raises RecursionError (a body of 100,000 brackets made both endpoints answer 500), and a
    shallower body would still break the recursive walks that follow, at a depth that depends on the stack.
    """
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as error:
        raise ValueError("The body nests too deeply.") from error
    if nesting_depth(value) > MAX_DEPTH:
        raise ValueError("The body nests too deeply.")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON.")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} overflows a float.")
    return number


def nesting_depth(value) -> int:
    """How deep arrays and objects nest in a parsed value (a scalar: 0), counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return deepest


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
        payload = parse_json(body)
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
        # Only the unique delivery id makes a duplicate; any other refusal of the row is a real error.
        if not WebhookDelivery.objects.filter(delivery_id=delivery_id[:100]).exists():
            raise
        return Outcome(200, "Duplicate delivery; already received.")
    process(delivery)
    return Outcome(500 if delivery.status == WebhookDelivery.Status.FAILED else 200, delivery.detail)


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
