"""Forge events: record each authentic delivery as a WebhookEvent row, then decide in a task what it means.

The view calls `receive` (parse, dedupe, insert, enqueue on commit) and answers at once; `process_event` runs in a
django-q2 worker. It never calls Confluence: whether a connection cares about an event is decided from its scope
(space keys) and its sync index (pages the repository holds), and the work itself is a targeted `enqueue_sync`,
which merges a burst of events into the connection's one queued run.

Reference: https://developer.atlassian.com/platform/forge/events-reference/confluence/
and https://developer.atlassian.com/platform/forge/events-reference/life-cycle/
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.conf import Conf
from django_q.tasks import async_task

from confluence import setup
from confluence.forge import Invocation
from confluence.models import AtlassianSite, SyncRun, SyncScope, SyncState, WebhookEvent
from confluence.tasks import enqueue_sync, ready_to_sync
from connectors.models import Connection
from github_sync.webhooks import storable

logger = logging.getLogger(__name__)

PAGE_VERBS = (
    "created",
    "updated",
    "moved",
    "copied",
    "trashed",
    "restored",
    "deleted",
    "archived",
    "unarchived",
    "permissions_updated",
)
PAGE_EVENTS = frozenset(f"avi:confluence:{verb}:{kind}" for verb in PAGE_VERBS for kind in ("page", "blogpost"))
# A page we do not hold that leaves Confluence changes nothing in any repository: no run, no API call.
REMOVALS = frozenset(
    f"avi:confluence:{verb}:{kind}" for verb in ("trashed", "deleted", "archived") for kind in ("page", "blogpost")
)
# Edits always make a new version; moves and restores need not, so only edits can be recognised as synced already.
EDITS = frozenset({"avi:confluence:updated:page", "avi:confluence:updated:blogpost"})
INSTALLED = "avi:forge:installed:app"
UNINSTALLED = "avi:forge:uninstalled:app"
# Rows still `received` after this long lost their task (broker down, worker killed): the sweeper redoes them.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500
PROCESS_TASK = "confluence.forge_events.process_event"


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


# Receiving (in the request) -------------------------------------------------------------------------------


def unwrap(body: dict) -> dict:
    """The event itself: at the top level (what Forge Remote sends today) or under `payload` (the contract doc)."""
    if "eventType" not in body and isinstance(body.get("payload"), dict):
        return body["payload"]
    return body


def describe(event: dict) -> dict:
    """The columns of a WebhookEvent row, read tolerantly from a page, blog, space or lifecycle event."""
    content = event.get("content") if isinstance(event.get("content"), dict) else {}
    space = content.get("space") or event.get("space") or {}
    space = space if isinstance(space, dict) else {}
    return {
        "event_type": str(event.get("eventType") or "")[:100],
        "content_id": str(content.get("id") or "")[:64],
        "content_type": str(content.get("type") or "")[:30],
        "space_key": str(space.get("key") or "")[:255],
    }


def content_version(event: dict) -> dict:
    """The event's `content.version` object, or {} when the payload has none (or a malformed one)."""
    content = event.get("content") if isinstance(event.get("content"), dict) else {}
    return content.get("version") if isinstance(content.get("version"), dict) else {}


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
    ]
    created = event.get("eventCreatedDate")
    if created:
        parts.append(str(created))
    else:
        parts.append(hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest())
    # surrogatepass: a lone surrogate (a "\ud800" escape in the body) still hashes, the same way every time.
    return "forge:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def receive(invocation: Invocation, body: dict) -> Outcome:
    """Store one authentic delivery and enqueue its processing; a redelivery is acknowledged and dropped."""
    event = unwrap(body)
    fields = describe(event)
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                cloud_id=invocation.cloud_id,
                dedupe_key=dedupe_key(invocation.cloud_id, event),
                payload=storable(body),
                **storable(fields),
            )
            if broker_is_the_database():
                # The task row commits with the event row: one commit, and never one without the other.
                async_task(PROCESS_TASK, row.id, task_name=f"forge-event-{row.id}")
    except IntegrityError:
        return Outcome(200, "Duplicate delivery; already received.")
    if not broker_is_the_database():
        transaction.on_commit(lambda: send(row.id))
    return Outcome(202, "Accepted.")


def broker_is_the_database() -> bool:
    """django-q2's ORM broker (the embedded default); not in sync mode, where the task would run right here."""
    return bool(Conf.ORM) and not Conf.SYNC


def send(event_id: int) -> None:
    """Hand the row to the broker; if that fails the row stays `received` and the sweeper picks it up."""
    try:
        async_task(PROCESS_TASK, event_id, task_name=f"forge-event-{event_id}")
    except Exception:  # the broker's own errors vary (Redis, database); the row is the record of truth
        logger.exception("could not send Forge event %s to the broker; the sweeper will retry", event_id)


# Processing (in a worker) ---------------------------------------------------------------------------------

Result = tuple[str, str, list[SyncRun]]


def process_event(event_id: int, *, replay: bool = False) -> str | None:
    """django-q2 entry point: claim the row, apply it, record what happened. Returns the new status."""
    with transaction.atomic():
        claimable = WebhookEvent.objects.select_for_update(skip_locked=True).filter(id=event_id)
        event = claimable.first() if replay else claimable.filter(status=WebhookEvent.Status.RECEIVED).first()
        if event is None:
            return None  # done already, or another worker holds it
        handler = HANDLERS.get(event.event_type, ignore_unused)
        try:
            with transaction.atomic():
                status, detail, runs = handler(event)
        except Exception as error:
            logger.exception("Forge event %s failed", event_id)
            status, detail, runs = WebhookEvent.Status.FAILED, f"{type(error).__name__}: {error}"[:2000], []
        event.status, event.detail, event.processed_at = status, detail, timezone.now()
        event.save(update_fields=["status", "detail", "processed_at"])
        if runs:
            event.runs.add(*runs)
    return status


def process_pending_events() -> int:
    """The outbox sweeper (scheduled every minute): rows whose task never ran get processed now."""
    cutoff = timezone.now() - SWEEP_AFTER
    pending = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, received_at__lt=cutoff)
    ids = list(pending.order_by("received_at").values_list("id", flat=True)[:SWEEP_BATCH])
    return sum(process_event(event_id) is not None for event_id in ids)


def replay(event: WebhookEvent) -> None:
    """The admin's "replay": apply the event again (enqueue_sync merges, so at worst one more run)."""
    transaction.on_commit(lambda: async_task(PROCESS_TASK, event.id, replay=True))


def ignore_unused(event: WebhookEvent) -> Result:
    return WebhookEvent.Status.IGNORED, f"{event.event_type or 'An event without eventType'} is not used.", []


# Page and blog post events ---------------------------------------------------------------------------------


def handle_page_event(event: WebhookEvent) -> Result:
    """Queue a targeted run for each connection whose scope may hold the page, or whose repository already does."""
    if not event.content_id:
        return WebhookEvent.Status.IGNORED, "The event names no page.", []
    body = unwrap(event.payload)
    before = (body.get("prevContent") or {}).get("space") or {}
    space_keys = {event.space_key, before.get("key") if isinstance(before, dict) else None} - {None, ""}
    runs, skipped = [], []
    for connection, scope, index_pages in site_connections(event.cloud_id):
        held = event.content_id in index_pages
        if not held and (event.event_type in REMOVALS or not space_keys & set(scope.space_keys)):
            continue
        if not held and event.content_id in {str(p.get("id")) for p in scope.excluded_pages}:
            skipped.append(f"{connection.name}: page excluded")
            continue
        if held and event.event_type in EDITS and synced_already(index_pages[event.content_id], body):
            # A storm of edits: an earlier run read a later version than this event's. No run, no API call.
            skipped.append(f"{connection.name}: this version is synced already")
            continue
        if reason := not_syncing(connection):
            skipped.append(f"{connection.name}: {reason}")
            continue
        runs.append(enqueue_sync(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[event.content_id]))
    return result(runs, skipped, none=f"Page {event.content_id} in {event.space_key or '?'} is outside every scope.")


def synced_already(entry: dict, body: dict) -> bool:
    """Whether the repository's index holds this event's version of the page, or a later one."""
    number, held = content_version(body).get("number"), entry.get("version")
    return isinstance(number, int) and isinstance(held, int) and held >= number


# Space events ----------------------------------------------------------------------------------------------


def handle_space_event(event: WebhookEvent) -> Result:
    """Keep each scope's view of the space current; a space in scope whose permissions changed is re-read."""
    space = unwrap(event.payload).get("space") or {}
    runs, skipped, updated = [], [], []
    for connection, scope, _ in site_connections(event.cloud_id):
        entry = next((s for s in scope.spaces if _same_space(s, space, event.space_key)), None)
        if entry is None:
            continue
        if space.get("name") and entry.get("name") != space["name"]:
            entry["name"] = space["name"]
            scope.save(update_fields=["spaces", "updated_at"])
            updated.append(connection.name)
        if event.event_type.startswith("avi:confluence:permissions_updated:"):
            if reason := not_syncing(connection):
                skipped.append(f"{connection.name}: {reason}")
            else:
                runs.append(enqueue_sync(connection, trigger=SyncRun.Trigger.FORGE))
    if updated and not runs:
        return WebhookEvent.Status.PROCESSED, f"Space name updated in the scope of {', '.join(updated)}.", []
    return result(runs, skipped, none=f"Space {event.space_key} is outside every scope.")


def handle_space_deleted(event: WebhookEvent) -> Result:
    """The space leaves every scope; the next run removes its pages (Confluence sends no per-page events)."""
    space = unwrap(event.payload).get("space") or {}
    runs, skipped = [], []
    for connection, scope, index_pages in site_connections(event.cloud_id):
        in_scope = any(_same_space(s, space, event.space_key) for s in scope.spaces) or any(
            p.get("space_key") == event.space_key for p in scope.pages
        )
        held = any(entry.get("space_key") == event.space_key for entry in index_pages.values())
        if in_scope:
            scope.spaces = [s for s in scope.spaces if not _same_space(s, space, event.space_key)]
            scope.pages = [p for p in scope.pages if p.get("space_key") != event.space_key]
            scope.save(update_fields=["spaces", "pages", "updated_at"])
        if not (in_scope or held):
            continue
        if reason := not_syncing(connection):
            skipped.append(f"{connection.name}: {reason} (space removed from the scope)")
            continue
        runs.append(enqueue_sync(connection, trigger=SyncRun.Trigger.FORGE))
    return result(runs, skipped, none=f"Space {event.space_key} was deleted; it is outside every scope.")


def _same_space(entry: dict, space: dict, key: str) -> bool:
    """By id when both sides have one (the id is stable), else by key."""
    if entry.get("id") and space.get("id"):
        return str(entry["id"]) == str(space["id"])
    return entry.get("key") == key


# Lifecycle -------------------------------------------------------------------------------------------------


def handle_installed(event: WebhookEvent) -> Result:
    body = unwrap(event.payload)
    if mismatch := _other_site(body, event.cloud_id):
        return WebhookEvent.Status.IGNORED, mismatch, []
    installation_id = str(body.get("id") or "")
    connections = setup.record_forge_installed(
        cloud_id=event.cloud_id, installation_id=installation_id, when=_emitted_at(body) or event.received_at
    )
    return WebhookEvent.Status.PROCESSED, f"Forge app installed; {_count(connections)} updated.", []


def handle_uninstalled(event: WebhookEvent) -> Result:
    body = unwrap(event.payload)
    if mismatch := _other_site(body, event.cloud_id):
        return WebhookEvent.Status.IGNORED, mismatch, []
    connections = setup.record_forge_uninstalled(cloud_id=event.cloud_id, when=_emitted_at(body) or event.received_at)
    return WebhookEvent.Status.PROCESSED, f"Forge app removed; {_count(connections)} updated.", []


def _other_site(body: dict, cloud_id: str) -> str:
    """Lifecycle bodies name the site as `ari:cloud:confluence::site/<cloud id>`; it must be the token's."""
    context = str(body.get("context") or "")
    if context and context.rsplit("/", 1)[-1] != cloud_id:
        return "The event names another site than its token."
    return ""


def _emitted_at(body: dict) -> datetime | None:
    return parse_datetime(str(body.get("eventCreatedDate") or "")) if body.get("eventCreatedDate") else None


def _count(connections: list) -> str:
    return f"{len(connections)} connection{'s' if len(connections) != 1 else ''}"


# Shared ----------------------------------------------------------------------------------------------------


def site_connections(cloud_id: str):
    """(connection, scope, index pages) for each Confluence connection reading this site that has a scope."""
    sites = AtlassianSite.objects.filter(cloud_id=cloud_id).select_related("connection")
    connections = {site.connection_id: site.connection for site in sites}
    scopes = SyncScope.objects.filter(connection_id__in=connections)
    indexes = dict(SyncState.objects.filter(connection_id__in=connections).values_list("connection_id", "index_file"))
    for scope in scopes.order_by("connection_id"):
        text = indexes.get(scope.connection_id)
        yield connections[scope.connection_id], scope, json.loads(text)["pages"] if text else {}


def not_syncing(connection: Connection) -> str:
    """Why a connection takes no sync now (empty when it does). The reconciliation run catches up later."""
    if connection.paused:
        return "connection paused"
    # The Forge step is not required: an event arriving proves the app is installed, whatever we recorded.
    if not ready_to_sync(connection):
        return "setup not finished"
    return ""


def result(runs: list[SyncRun], skipped: list[str], *, none: str) -> Result:
    if runs:
        queued = ", ".join(f"#{run.id}" for run in runs)
        detail = f"Queued sync run {queued}." + (f" Skipped: {'; '.join(skipped)}." if skipped else "")
        return WebhookEvent.Status.PROCESSED, detail, runs
    if skipped:
        return WebhookEvent.Status.IGNORED, f"Ignored: {'; '.join(skipped)}.", []
    return WebhookEvent.Status.IGNORED, none, []


HANDLERS: dict[str, Callable[[WebhookEvent], Result]] = {
    **dict.fromkeys(PAGE_EVENTS, handle_page_event),
    "avi:confluence:updated:space:V2": handle_space_event,
    "avi:confluence:permissions_updated:space:V2": handle_space_event,
    "avi:confluence:deleted:space:V2": handle_space_deleted,
    INSTALLED: handle_installed,
    UNINSTALLED: handle_uninstalled,
}
