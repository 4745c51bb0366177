"""Space events: a renamed space, a space whose permissions changed, a deleted space.

An event body is not signed, so a space leaves a scope (or is renamed in it) only once Confluence confirms it,
asked through the connection's own grant; while Confluence cannot answer, the event waits (RetryLater).
"""

from __future__ import annotations

from confluence.content import Space
from confluence.forge.outcome import Outcome, RetryLater, summarise
from confluence.forge.payload import SPACE_PERMISSIONS, SPACE_UPDATED, space_of, unwrap
from confluence.forge.runs import lookup_client, queue_run, site_readers
from confluence.gateway import AuthRevoked, ConfluenceError, ConfluenceUnavailable
from confluence.models import AtlassianSite, SyncScope, WebhookEvent


class MissingGrant(Exception):
    """The connection has no Atlassian grant to ask Confluence with."""


UNCONFIRMED = (AuthRevoked, ConfluenceError, MissingGrant)


def handle_space_event(event: WebhookEvent) -> Outcome:
    """A renamed space is renamed in each scope holding it, with the name Confluence gives (the body only says to
    look); a space in scope whose permissions changed is read again."""
    space = space_of(unwrap(event.payload))
    runs, skipped, updated = [], [], []
    for reader in site_readers(event.cloud_id):
        entry = next((s for s in reader.scope.spaces if same_space(s, space, event.space_key)), None)
        if entry is None:
            continue
        name = reader.connection.name
        if event.event_type == SPACE_UPDATED and space.get("name") and entry.get("name") != space["name"]:
            try:
                found = space_in_confluence(reader.site, entry)
            except UNCONFIRMED as error:
                skipped.append(f"{name}: {unconfirmed(error)}; the scope keeps the name")
                continue
            if found is None:
                skipped.append(f"{name}: Confluence shows no space {entry['key']}; the scope is unchanged")
            elif entry.get("name") != found.name:
                entry["name"] = found.name
                reader.scope.save(update_fields=["spaces", "updated_at"])
                updated.append(name)
        if event.event_type == SPACE_PERMISSIONS:
            queue_run(reader.connection, runs=runs, skipped=skipped)
    if updated and not runs:
        return Outcome(WebhookEvent.Status.PROCESSED, f"Space name updated in the scope of {', '.join(updated)}.")
    return summarise(runs, skipped, none=f"Space {event.space_key} is unchanged in every scope.")


def handle_space_deleted(event: WebhookEvent) -> Outcome:
    """Confluence sends no per-page events when a space is deleted, and the event's word is not enough to delete
    anything: a scope lets the space go only once Confluence confirms it is gone, and a full-scope run (which reads
    Confluence) then removes its pages. While Confluence still shows the space, nothing changes."""
    space, key = space_of(unwrap(event.payload)), event.space_key
    runs, skipped = [], []
    for reader in site_readers(event.cloud_id):
        entry = next((s for s in reader.scope.spaces if same_space(s, space, key)), None)
        trees = bool(key) and any(p.get("space_key") == key for p in reader.scope.pages)
        if not (entry or trees or (key and reader.holds_space(key))):
            continue
        note = ""
        if entry or trees:
            try:
                found = space_in_confluence(reader.site, entry or {"key": key})
            except UNCONFIRMED as error:
                skipped.append(f"{reader.connection.name}: {unconfirmed(error)}; nothing removed")
                continue
            if found is not None and found.status == "current":
                skipped.append(f"{reader.connection.name}: Confluence still has space {found.key}; nothing removed")
                continue
            # An archived space stays in the scope; the run leaves its pages out, as for any archived space.
            if found is None:
                note = drop_space(reader.scope, entry, key=key)
        queue_run(reader.connection, runs=runs, skipped=skipped, note=note)
    return summarise(runs, skipped, none=f"Space {key} was deleted; it is outside every scope.")


def drop_space(scope: SyncScope, entry: dict | None, *, key: str) -> str:
    """Take a space Confluence confirms is gone out of the scope, with the page trees selected in it; a note for
    the event's detail."""
    gone = entry["key"] if entry else key
    scope.spaces = [s for s in scope.spaces if s is not entry]
    scope.pages = [p for p in scope.pages if p.get("space_key") != gone]
    scope.save(update_fields=["spaces", "pages", "updated_at"])
    return " (space removed from the scope)"


def space_in_confluence(site: AtlassianSite, entry: dict) -> Space | None:
    """The scope's space as Confluence shows it to this site's grant now (by the id the scope stored, else by key),
    or None when Confluence confirms there is none. RetryLater when Confluence cannot answer now; AuthRevoked or
    ConfluenceError (a 403, say) when it answers something that confirms nothing."""
    if site.grant_status == AtlassianSite.Grant.REVOKED or not (site.access_token or site.refresh_token):
        raise MissingGrant("no Atlassian grant to confirm it with")
    client = lookup_client(site)
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


def same_space(entry: dict, space: dict, key: str) -> bool:
    """By id when both sides have one (the id is stable), else by key."""
    if entry.get("id") and space.get("id"):
        return str(entry["id"]) == str(space["id"])
    return entry.get("key") == key
