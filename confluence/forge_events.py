"""Forge events: record each authentic delivery as a WebhookEvent row, then decide in a task what it means.

The view calls `receive` (refuse a reused token, dedupe, insert, enqueue on commit) and answers at once;
`process_event` runs in a django-q2 worker. Whether a connection cares about an event is decided from its scope
(space keys) and its sync index (pages the repository holds), and the work itself is a targeted `enqueue_sync`,
which merges a burst of events into the connection's one queued run.

An event only ever triggers work. Its body is not signed (the token is), so nothing is removed and no scope is
edited on its word: runs re-read the pages they are about through the API, and a space leaves a scope (or is
renamed in it) only once Confluence confirms it. Page, attachment and label events are all targeted runs of one
page: an attachment's is its container page's, a label's the labelled page's (re-read with its labels, so an
excluded label moves it out of the selection or back in).

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
from confluence.auth import client_for
from confluence.client import AuthRevoked, ConfluenceError, ConfluenceUnavailable, Space
from confluence.forge import Invocation
from confluence.models import AtlassianSite, ForgeTokenUse, SyncRun, SyncScope, SyncState, WebhookEvent
from confluence.sync_queue import NotReady, enqueue_sync
from connectors.http import ApiSession
from connectors.models import Connection
from connectors.storable import storable

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
ATTACHMENT_VERBS = ("created", "updated", "trashed", "restored", "deleted", "archived", "unarchived")
ATTACHMENT_EVENTS = frozenset(f"avi:confluence:{verb}:attachment" for verb in ATTACHMENT_VERBS)
# An attachment leaving a page we do not hold changes nothing in any repository.
ATTACHMENT_REMOVALS = frozenset(f"avi:confluence:{verb}:attachment" for verb in ("trashed", "deleted", "archived"))
LABEL_EVENTS = frozenset({"avi:confluence:added:label", "avi:confluence:removed:label"})
SPACE_UPDATED = "avi:confluence:updated:space:V2"
SPACE_PERMISSIONS = "avi:confluence:permissions_updated:space:V2"
SPACE_DELETED = "avi:confluence:deleted:space:V2"
INSTALLED = "avi:forge:installed:app"
UNINSTALLED = "avi:forge:uninstalled:app"
# Rows still `received` after this long lost their task (broker down, worker killed): the sweeper redoes them.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500
# An event that needs Confluence to confirm something waits (still `received`) while Confluence is unavailable, and
# the sweeper tries it again each minute; after this long the reconciliation schedule is the better catch-up.
RETRY_FOR = timedelta(hours=6)
# A space lookup happens in the worker (and in the sweeper): one retry, short timeouts, then "try again later".
LOOKUP_TIMEOUT = (5.0, 15.0)
PROCESS_TASK = "confluence.forge_events.process_event"


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


class RetryLater(Exception):
    """Confluence could not confirm what the event claims right now: process the event again later."""


# Receiving (in the request) -------------------------------------------------------------------------------


def unwrap(body: dict) -> dict:
    """The event itself: at the top level (what Forge Remote sends today) or under `payload` (the contract doc)."""
    if "eventType" not in body and isinstance(body.get("payload"), dict):
        return body["payload"]
    return body


def subject(event: dict) -> dict:
    """What the event is about: the page or blog post (`content`, also the labelled content of a label event) or
    the attachment; {} for space and lifecycle events, or a malformed payload."""
    for key in ("content", "attachment"):
        if isinstance(event.get(key), dict):
            return event[key]
    return {}


def describe(event: dict) -> dict:
    """The columns of a WebhookEvent row, read tolerantly from a page, blog, attachment, label, space or lifecycle
    event."""
    content = subject(event)
    space = content.get("space") or event.get("space") or {}
    space = space if isinstance(space, dict) else {}
    return {
        "event_type": str(event.get("eventType") or "")[:100],
        "content_id": str(content.get("id") or "")[:64],
        "content_type": str(content.get("type") or "")[:30],
        "space_key": str(space.get("key") or "")[:255],
    }


def content_version(event: dict) -> dict:
    """The version object of what the event is about, or {} when the payload has none (or a malformed one)."""
    content = subject(event)
    return content.get("version") if isinstance(content.get("version"), dict) else {}


def label_name(event: dict) -> str:
    label = event.get("label") if isinstance(event.get("label"), dict) else {}
    return str(label.get("name") or "")


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
                    # The task row commits with the event row: one commit, and never one without the other.
                    async_task(PROCESS_TASK, row.id, task_name=f"forge-event-{row.id}")
        except IntegrityError:
            return Outcome(200, "Duplicate delivery; already received.")
    if not broker_is_the_database():
        transaction.on_commit(lambda: send(row.id))
    return Outcome(202, "Accepted.")


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
        return Outcome(200, "Duplicate delivery; already received.")
    logger.warning("Forge token %s… used again with another body; refused", invocation.token_id[:8])
    return Outcome(401, "token already used")


def body_digest(body: dict) -> str:
    """The body's hash, independent of key order and whitespace (what a resend may change)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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
        except RetryLater as error:
            # Nothing the handler did is kept: the next attempt decides afresh.
            status, detail, runs = retry_or_give_up(event, error)
        except Exception as error:
            logger.exception("Forge event %s failed", event_id)
            status, detail, runs = WebhookEvent.Status.FAILED, f"{type(error).__name__}: {error}"[:2000], []
        event.status, event.detail = status, detail
        event.processed_at = None if status == WebhookEvent.Status.RECEIVED else timezone.now()
        event.save(update_fields=["status", "detail", "processed_at"])
        if runs:
            event.runs.add(*runs)
    return status


def retry_or_give_up(event: WebhookEvent, error: RetryLater) -> Result:
    """Left `received`, the sweeper processes the event again in a minute or so, until RETRY_FOR has passed."""
    if timezone.now() - event.received_at < RETRY_FOR:
        return WebhookEvent.Status.RECEIVED, f"{error} Trying again in a minute.", []
    hours = int(RETRY_FOR.total_seconds() // 3600)
    detail = f"{error} Gave up after {hours} hours; the reconciliation schedule catches up."
    return WebhookEvent.Status.FAILED, detail, []


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
    return queue_page_runs(
        event,
        page_id=event.content_id,
        space_keys=space_keys,
        leaves=event.event_type in REMOVALS,
        version=content_version(body) if event.event_type in EDITS else None,
    )


def queue_page_runs(
    event: WebhookEvent, *, page_id: str, space_keys: set[str], leaves: bool, version: dict | None = None
) -> Result:
    """One targeted run of `page_id` for each connection that holds the page, or whose scope may select it.

    `leaves`: the event says something left Confluence (nothing to do where we do not hold the page). `version`:
    an edit's version, which a connection whose repository holds it (or a later one) does not need to read again.
    """
    runs, skipped = [], []
    for connection, scope, index_pages in site_connections(event.cloud_id):
        held = page_id in index_pages
        if not held and (leaves or not space_keys & set(scope.space_keys)):
            continue
        if not held and page_id in {str(p.get("id")) for p in scope.excluded_pages}:
            skipped.append(f"{connection.name}: page excluded")
            continue
        if held and version is not None and synced_already(index_pages[page_id], version):
            # A storm of edits: an earlier run read a later version than this event's. No run, no API call.
            skipped.append(f"{connection.name}: this version is synced already")
            continue
        queue_run(connection, runs=runs, skipped=skipped, page_ids=[page_id])
    where = ", ".join(sorted(space_keys)) or "?"
    return result(runs, skipped, none=f"Page {page_id} in {where} is outside every scope.")


def synced_already(entry: dict, version: dict) -> bool:
    """Whether the repository's index holds this version of the page, or a later one."""
    number, held = version.get("number"), entry.get("version")
    return isinstance(number, int) and isinstance(held, int) and held >= number


# Attachment and label events ---------------------------------------------------------------------------------


def handle_attachment_event(event: WebhookEvent) -> Result:
    """An attachment added, replaced or removed changes no page version: re-read its page, whose file links it."""
    attachment = subject(unwrap(event.payload))
    container = attachment.get("container") if isinstance(attachment.get("container"), dict) else {}
    kind, page_id = str(container.get("type") or ""), str(container.get("id") or "")
    if kind != "page" or not page_id:
        # Blog posts, custom content and anything else: the connector syncs pages only.
        what = f"a {kind}" if kind else "no page"
        return WebhookEvent.Status.IGNORED, f"Attachment {event.content_id or '?'} belongs to {what}: not synced.", []
    space = container.get("space") if isinstance(container.get("space"), dict) else {}
    space_keys = {event.space_key, str(space.get("key") or "")} - {""}
    return queue_page_runs(
        event, page_id=page_id, space_keys=space_keys, leaves=event.event_type in ATTACHMENT_REMOVALS
    )


def handle_label_event(event: WebhookEvent) -> Result:
    """A label added to or removed from a page: its front matter changes, and an excluded label takes the page out
    of the selection or lets it back in. The run reads the page's labels again; the event's list is not used."""
    body = unwrap(event.payload)
    if not isinstance(body.get("content"), dict):
        return WebhookEvent.Status.IGNORED, "A label on a space or a template changes no synced page.", []
    if event.content_type != "page" or not event.content_id:
        what = f"a {event.content_type}" if event.content_type else "content of no known type"
        return WebhookEvent.Status.IGNORED, f"Label {label_name(body)!r} is on {what}: only pages are synced.", []
    return queue_page_runs(event, page_id=event.content_id, space_keys={event.space_key} - {""}, leaves=False)


# Space events ----------------------------------------------------------------------------------------------


def handle_space_event(event: WebhookEvent) -> Result:
    """A renamed space is renamed in each scope holding it, with the name Confluence gives (the body only says to
    look); a space in scope whose permissions changed is read again."""
    space = unwrap(event.payload).get("space") or {}
    space = space if isinstance(space, dict) else {}
    runs, skipped, updated = [], [], []
    for connection, scope, _ in site_connections(event.cloud_id):
        entry = next((s for s in scope.spaces if _same_space(s, space, event.space_key)), None)
        if entry is None:
            continue
        if event.event_type == SPACE_UPDATED and space.get("name") and entry.get("name") != space["name"]:
            try:
                found = space_in_confluence(connection, entry)
            except (AuthRevoked, ConfluenceError, MissingGrant) as error:
                skipped.append(f"{connection.name}: {unconfirmed(error)}; the scope keeps the name")
                continue
            if found is None:
                skipped.append(f"{connection.name}: Confluence shows no space {entry['key']}; the scope is unchanged")
            elif entry.get("name") != found.name:
                entry["name"] = found.name
                scope.save(update_fields=["spaces", "updated_at"])
                updated.append(connection.name)
        if event.event_type == SPACE_PERMISSIONS:
            queue_run(connection, runs=runs, skipped=skipped)
    if updated and not runs:
        return WebhookEvent.Status.PROCESSED, f"Space name updated in the scope of {', '.join(updated)}.", []
    return result(runs, skipped, none=f"Space {event.space_key} is unchanged in every scope.")


def handle_space_deleted(event: WebhookEvent) -> Result:
    """Confluence sends no per-page events when a space is deleted, and the event's word is not enough to delete
    anything: a scope lets the space go only once Confluence confirms it is gone, and a full-scope run (which reads
    Confluence) then removes its pages. While Confluence still shows the space, nothing changes."""
    space = unwrap(event.payload).get("space") or {}
    space = space if isinstance(space, dict) else {}
    key = event.space_key
    runs, skipped = [], []
    for connection, scope, index_pages in site_connections(event.cloud_id):
        entry = next((s for s in scope.spaces if _same_space(s, space, key)), None)
        trees = bool(key) and any(p.get("space_key") == key for p in scope.pages)
        held = bool(key) and any(page.get("space_key") == key for page in index_pages.values())
        if not (entry or trees or held):
            continue
        left_scope = ""
        if entry or trees:
            try:
                found = space_in_confluence(connection, entry or {"key": key})
            except (AuthRevoked, ConfluenceError, MissingGrant) as error:
                skipped.append(f"{connection.name}: {unconfirmed(error)}; nothing removed")
                continue
            if found is not None and found.status == "current":
                skipped.append(f"{connection.name}: Confluence still has space {found.key}; nothing removed")
                continue
            if found is None:
                gone = entry["key"] if entry else key
                scope.spaces = [s for s in scope.spaces if s is not entry]
                scope.pages = [p for p in scope.pages if p.get("space_key") != gone]
                scope.save(update_fields=["spaces", "pages", "updated_at"])
                left_scope = " (space removed from the scope)"
            # An archived space stays in the scope; the run leaves its pages out, as for any archived space.
        queue_run(connection, runs=runs, skipped=skipped, note=left_scope)
    return result(runs, skipped, none=f"Space {key} was deleted; it is outside every scope.")


class MissingGrant(Exception):
    """The connection has no Atlassian grant to ask Confluence with."""


def space_in_confluence(connection: Connection, entry: dict) -> Space | None:
    """The scope's space as Confluence shows it to this connection now (by the id the scope stored, else by key),
    or None when Confluence confirms there is none. RetryLater when Confluence cannot answer now; AuthRevoked or
    ConfluenceError (a 403, say) when it answers something that confirms nothing."""
    site = AtlassianSite.objects.filter(connection=connection).first()
    revoked = site is None or site.grant_status == AtlassianSite.Grant.REVOKED
    if revoked or not (site.access_token or site.refresh_token):
        raise MissingGrant("no Atlassian grant to confirm it with")
    client = client_for(site, session=ApiSession(timeout=LOOKUP_TIMEOUT, max_retries=1))
    try:
        if entry.get("id"):
            return client.get_space(str(entry["id"]))
        return client.find_space(entry["key"])
    except ConfluenceUnavailable as error:
        raise RetryLater(f"Confluence could not confirm the change to space {entry['key']} ({error}).") from error


def unconfirmed(error: Exception) -> str:
    if isinstance(error, AuthRevoked):
        return "Atlassian access revoked, so Confluence could not confirm it"
    if isinstance(error, ConfluenceError):
        return f"Confluence did not confirm it (answered {error.status or 'an error'})"
    return f"Confluence could not confirm it ({error})"


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
    """(connection, scope, pages its index knows) for each Confluence connection reading this site that has a scope.
    The index knows the synced pages and their unsynced ancestors: a change to either reshapes the repository."""
    sites = AtlassianSite.objects.filter(cloud_id=cloud_id).select_related("connection")
    connections = {site.connection_id: site.connection for site in sites}
    scopes = SyncScope.objects.filter(connection_id__in=connections)
    indexes = dict(SyncState.objects.filter(connection_id__in=connections).values_list("connection_id", "index_file"))
    for scope in scopes.order_by("connection_id"):
        text = indexes.get(scope.connection_id)
        index = json.loads(text) if text else {}
        yield connections[scope.connection_id], scope, {**index.get("unsynced", {}), **index.get("pages", {})}


def queue_run(connection: Connection, *, runs: list, skipped: list, page_ids=None, note: str = "") -> None:
    """Queue the event's run, or note why the connection takes none now (the reconciliation run catches up later).
    The Forge step is not required (`enqueue_sync` does not ask for it): an event arriving proves the app is
    installed, whatever we recorded."""
    try:
        runs.append(enqueue_sync(connection, trigger=SyncRun.Trigger.FORGE, page_ids=page_ids))
    except NotReady as refused:
        skipped.append(f"{connection.name}: {refused.problem.message}{note}")


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
    **dict.fromkeys(ATTACHMENT_EVENTS, handle_attachment_event),
    **dict.fromkeys(LABEL_EVENTS, handle_label_event),
    SPACE_UPDATED: handle_space_event,
    SPACE_PERMISSIONS: handle_space_event,
    SPACE_DELETED: handle_space_deleted,
    INSTALLED: handle_installed,
    UNINSTALLED: handle_uninstalled,
}
