"""The connections a Forge event may concern, and the sync runs it queues for them.

The work an event triggers is always a `enqueue_sync`, which merges a burst of events into the connection's one
queued run; whether a connection cares is decided from its scope and its sync index (the pages its repository holds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from confluence.auth import client_for
from confluence.client import ConfluenceClient
from confluence.models import AtlassianSite, SyncRun, SyncScope, SyncState
from confluence.sync.index import Index, parse_index
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.http import ApiSession
from connectors.models import Connection

# A worker (or the sweeper) handling an event asks Confluence one thing (where a board is, whether a space is still
# there): one retry, short timeouts, then "try again later" (RetryLater), never a worker waiting.
LOOKUP_TIMEOUT = (5.0, 15.0)


def lookup_client(site: AtlassianSite) -> ConfluenceClient:
    """A client for an event's one lookup through the site's grant: a short timeout and a single retry."""
    return client_for(site, session=ApiSession(timeout=LOOKUP_TIMEOUT, max_retries=1))


class SiteReader(NamedTuple):
    """A Confluence connection reading the event's site, with its scope and the index of its repository."""

    connection: Connection
    site: AtlassianSite
    scope: SyncScope
    index: Index

    def knows(self, page_id: str) -> bool:
        """Whether the index holds the page, synced or as an unsynced ancestor of synced pages: a change to either
        reshapes the repository."""
        return page_id in self.index.pages or page_id in self.index.unsynced

    def holds_space(self, key: str) -> bool:
        """Whether the index holds a page (synced, or an unsynced ancestor) of the space."""
        known = [*self.index.pages.values(), *self.index.unsynced.values()]
        return any(page.space_key == key for page in known)


def site_readers(cloud_id: str) -> Iterator[SiteReader]:
    """Each Confluence connection reading this site that has a scope, in connection order."""
    site_query = AtlassianSite.objects.filter(cloud_id=cloud_id).select_related("connection")
    sites = {site.connection_id: site for site in site_query}
    indexes = indexes_of(list(sites))
    for scope in SyncScope.objects.filter(connection_id__in=sites).order_by("connection_id"):
        site = sites[scope.connection_id]
        yield SiteReader(site.connection, site, scope, indexes.get(scope.connection_id) or Index())


# A burst of events asks for the same indexes again and again, and parsing a 10,000-page index takes a good part
# of a second: each worker keeps the indexes it parsed, by connection, until the connection's sync state changes
# (a sync saves it with a new `updated_at`). Bounded, since a worker serves every connection.
parsed: dict[int, tuple[datetime, Index]] = {}
PARSED_MAX = 32


def indexes_of(connection_ids: list[int]) -> dict[int, Index]:
    """The sync index of each of these connections that has synced, parsed once per sync."""
    if len(parsed) > PARSED_MAX:
        parsed.clear()
    states = dict(SyncState.objects.filter(connection_id__in=connection_ids).values_list("connection_id", "updated_at"))
    stale = [cid for cid, updated_at in states.items() if parsed.get(cid, (None,))[0] != updated_at]
    rows = SyncState.objects.filter(connection_id__in=stale).values_list("connection_id", "updated_at", "index_file")
    for connection_id, updated_at, text in rows:
        parsed[connection_id] = (updated_at, parse_index(text.encode()) if text else Index())
    return {cid: parsed[cid][1] for cid in states if cid in parsed}


def queue_run(connection: Connection, *, runs: list, skipped: list, page_ids=None, note: str = "") -> None:
    """Queue the event's run, or note why the connection takes none now (the reconciliation run catches up later).
    The Forge step is not required (`enqueue_sync` does not ask for it): an event arriving proves the app is
    installed, whatever we recorded."""
    try:
        runs.append(enqueue_sync(connection, trigger=SyncRun.Trigger.FORGE, page_ids=page_ids))
    except NotReady as refused:
        skipped.append(f"{connection.name}: {refused.problem.message}{note}")
