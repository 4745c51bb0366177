"""Page, blog post, attachment and label events: each is a targeted run of one page (or post), for each connection
that holds it or whose scope may select it. A blog post concerns only the connections whose scope syncs the blog of
its space (or whose repository holds the post, which then leaves it).

An attachment's run is its container page's, a label's the labelled page's (re-read with its labels, so an
excluded label moves it out of the selection or back in). Runs re-read the page through the API: nothing is
removed on the word of an event body.
"""

from __future__ import annotations

from confluence.forge.outcome import Outcome, ignored, summarise
from confluence.forge.payload import (
    ATTACHMENT_REMOVALS,
    EDITS,
    REMOVALS,
    content_version,
    label_name,
    previous_space_key,
    subject,
    unwrap,
)
from confluence.forge.runs import queue_run, site_readers
from confluence.models import WebhookEvent
from confluence.sync.blog import blog_spaces
from confluence.sync.index import PageEntry


def handle_page_event(event: WebhookEvent) -> Outcome:
    """Queue a targeted run for each connection whose scope may hold the page, or whose repository already does."""
    if not event.content_id:
        return ignored("The event names no page.")
    body = unwrap(event.payload)
    space_keys = {event.space_key, previous_space_key(body)} - {None, ""}
    return queue_page_runs(
        event,
        page_id=event.content_id,
        space_keys=space_keys,
        leaves=event.event_type in REMOVALS,
        version=content_version(body) if event.event_type in EDITS else None,
        post=event.event_type.endswith(":blogpost"),
    )


def queue_page_runs(
    event: WebhookEvent,
    *,
    page_id: str,
    space_keys: set[str],
    leaves: bool,
    version: dict | None = None,
    post: bool = False,
) -> Outcome:
    """One targeted run of `page_id` for each connection that holds the page, or whose scope may select it.

    `leaves`: the event says something left Confluence (nothing to do where we do not hold the page). `version`:
    an edit's version, which a connection whose repository holds it (or a later one) does not need to read again.
    `post`: the content is a blog post, which only scopes syncing its space's blog may select.
    """
    runs, skipped = [], []
    for reader in site_readers(event.cloud_id):
        held = reader.knows(page_id)
        selecting = blog_spaces(reader.scope) if post else set(reader.scope.space_keys)
        if not held and (leaves or not space_keys & selecting):
            continue
        if not held and page_id in {str(p.get("id")) for p in reader.scope.excluded_pages}:
            skipped.append(f"{reader.connection.name}: page excluded")
            continue
        if version is not None and synced_already(reader.index.pages.get(page_id), version):
            # A storm of edits: an earlier run read a later version than this event's. No run, no API call.
            skipped.append(f"{reader.connection.name}: this version is synced already")
            continue
        queue_run(reader.connection, runs=runs, skipped=skipped, page_ids=[page_id])
    where = ", ".join(sorted(space_keys)) or "?"
    what = "Blog post" if post else "Page"
    return summarise(runs, skipped, none=f"{what} {page_id} in {where} is outside every scope.")


def synced_already(entry: PageEntry | None, version: dict) -> bool:
    """Whether the repository's index holds this version of the page, or a later one (None: not synced)."""
    number, held = version.get("number"), entry.version if entry is not None else None
    return isinstance(number, int) and isinstance(held, int) and held >= number


def handle_attachment_event(event: WebhookEvent) -> Outcome:
    """An attachment added, replaced or removed changes no page version: re-read its page, whose file links it."""
    attachment = subject(unwrap(event.payload))
    container = attachment.get("container") if isinstance(attachment.get("container"), dict) else {}
    kind, page_id = str(container.get("type") or ""), str(container.get("id") or "")
    if kind not in ("page", "blogpost") or not page_id:
        # Custom content and anything else: the connector syncs pages and blog posts only.
        what = f"a {kind}" if kind else "no page"
        return ignored(f"Attachment {event.content_id or '?'} belongs to {what}: not synced.")
    space = container.get("space") if isinstance(container.get("space"), dict) else {}
    space_keys = {event.space_key, str(space.get("key") or "")} - {""}
    return queue_page_runs(
        event,
        page_id=page_id,
        space_keys=space_keys,
        leaves=event.event_type in ATTACHMENT_REMOVALS,
        post=kind == "blogpost",
    )


def handle_label_event(event: WebhookEvent) -> Outcome:
    """A label added to or removed from a page: its front matter changes, and an excluded label takes the page out
    of the selection or lets it back in. The run reads the page's labels again; the event's list is not used."""
    body = unwrap(event.payload)
    if not isinstance(body.get("content"), dict):
        return ignored("A label on a space or a template changes no synced page.")
    if event.content_type not in ("page", "blogpost") or not event.content_id:
        what = f"a {event.content_type}" if event.content_type else "content of no known type"
        return ignored(f"Label {label_name(body)!r} is on {what}: only pages and blog posts are synced.")
    space_keys = {event.space_key} - {""}
    post = event.content_type == "blogpost"
    return queue_page_runs(event, page_id=event.content_id, space_keys=space_keys, leaves=False, post=post)
