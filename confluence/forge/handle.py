"""Applying a stored Forge event, in a django-q2 worker: claim the row, run the handler for its type, record the
outcome. The handlers live by subject (pages, spaces, lifecycle); the sweeper redoes rows whose task was lost.

An event only ever triggers work: its body is not signed (the token is), so nothing is removed and no scope is
edited on its word. Runs re-read the pages they are about through the API, and a space leaves a scope (or is
renamed in it) only once Confluence confirms it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from confluence.forge import boards, lifecycle, pages, payload, receive, spaces
from confluence.forge.outcome import Outcome, RetryLater, ignored
from confluence.models import WebhookEvent
from connectors import queue

logger = logging.getLogger(__name__)

# Rows still `received` after this long lost their task (broker down, worker killed): the sweeper redoes them.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500
# An event that needs Confluence to confirm something waits (still `received`) while Confluence is unavailable, and
# the sweeper tries it again each minute; after this long the reconciliation schedule is the better catch-up.
RETRY_FOR = timedelta(hours=6)


def process_event(event_id: int, *, replay: bool = False) -> str | None:
    """django-q2 entry point (PROCESS_TASK): claim the row, apply it, record what happened. Returns the new status."""
    with transaction.atomic():
        rows = WebhookEvent.objects.filter(id=event_id)
        event = queue.claim_locked(rows if replay else rows.filter(status=WebhookEvent.Status.RECEIVED))
        if event is None:
            return None  # done already, or another worker holds it
        outcome = apply(event)
        event.status, event.detail = outcome.status, outcome.detail
        event.processed_at = None if outcome.status == WebhookEvent.Status.RECEIVED else timezone.now()
        event.save(update_fields=["status", "detail", "processed_at"])
        if outcome.runs:
            event.runs.add(*outcome.runs)
    return outcome.status


def apply(event: WebhookEvent) -> Outcome:
    """The handler's outcome; what it did is undone when it cannot finish (the next attempt decides afresh)."""
    handler = HANDLERS.get(event.event_type, ignore_unused)
    try:
        with transaction.atomic():
            return handler(event)
    except RetryLater as error:
        return retry_or_give_up(event, error)
    except Exception as error:
        logger.exception("Forge event %s failed", event.id)
        return Outcome(WebhookEvent.Status.FAILED, f"{type(error).__name__}: {error}"[:2000])


def retry_or_give_up(event: WebhookEvent, error: RetryLater) -> Outcome:
    """Left `received`, the sweeper processes the event again in a minute or so, until RETRY_FOR has passed."""
    if timezone.now() - event.received_at < RETRY_FOR:
        return Outcome(WebhookEvent.Status.RECEIVED, f"{error} Trying again in a minute.")
    hours = int(RETRY_FOR.total_seconds() // 3600)
    detail = f"{error} Gave up after {hours} hours; the reconciliation schedule catches up."
    return Outcome(WebhookEvent.Status.FAILED, detail)


def process_pending_events() -> int:
    """The outbox sweeper (scheduled every minute): rows whose task never ran get processed now."""
    received = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
    pending = queue.lost(received, since="received_at", after=SWEEP_AFTER)
    ids = list(pending.order_by("received_at").values_list("id", flat=True)[:SWEEP_BATCH])
    return sum(process_event(event_id) is not None for event_id in ids)


def replay(event: WebhookEvent) -> None:
    """The admin's "replay": apply the event again (enqueue_sync merges, so at worst one more run)."""
    transaction.on_commit(lambda: receive.send(event.id, replay=True))


def ignore_unused(event: WebhookEvent) -> Outcome:
    return ignored(f"{event.event_type or 'An event without eventType'} is not used.")


HANDLERS: dict[str, Callable[[WebhookEvent], Outcome]] = {
    **dict.fromkeys(payload.PAGE_EVENTS, pages.handle_page_event),
    **dict.fromkeys(payload.ATTACHMENT_EVENTS, pages.handle_attachment_event),
    **dict.fromkeys(payload.LABEL_EVENTS, pages.handle_label_event),
    **dict.fromkeys(payload.BOARD_EVENTS, boards.handle_board_event),
    payload.SPACE_UPDATED: spaces.handle_space_event,
    payload.SPACE_PERMISSIONS: spaces.handle_space_event,
    payload.SPACE_DELETED: spaces.handle_space_deleted,
    payload.INSTALLED: lifecycle.handle_installed,
    payload.UNINSTALLED: lifecycle.handle_uninstalled,
}
