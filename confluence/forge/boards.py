"""Whiteboard, database and embed (smart link) events: content that is no page, listed as links after the body of
the page it sits under (confluence.sync.elsewhere). Its event names the board, not that page (event bodies carry no
parentId), so the page is found with one request (v2 `GET /whiteboards/{id}`, `/databases/{id}`, `/embeds/{id}`),
asked once per event through the first connection that may care; each connection that holds the page, or lists the
board under another page (it moved away, or became restricted), gets a targeted run of those pages.

Confluence documents no trashed or deleted events for these kinds: a removed board leaves its page's list at the
next run over the whole scope.
"""

from __future__ import annotations

from confluence.content import Page
from confluence.forge.outcome import Outcome, RetryLater, ignored, summarise
from confluence.forge.runs import SiteReader, lookup_client, queue_run, site_readers
from confluence.gateway import AuthRevoked, ConfluenceError, ConfluenceUnavailable
from confluence.models import AtlassianSite, WebhookEvent
from confluence.sync.elsewhere import BOARD_KINDS


def handle_board_event(event: WebhookEvent) -> Outcome:
    """A targeted run of the pages whose board list the event may change, for each connection holding them."""
    kind = event.event_type.rsplit(":", 1)[-1]
    if kind not in BOARD_KINDS or not event.content_id:
        return ignored("The event names no whiteboard, database or embed.")
    readers = [reader for reader in site_readers(event.cloud_id) if concerned(reader, event)]
    if not readers:
        return ignored(f"The {kind} {event.content_id} is in no space of any scope.")
    board = look_up(readers, kind, event.content_id)
    runs, skipped = [], []
    for reader in readers:
        pages = pages_to_render(reader, event.content_id, board)
        if pages:
            queue_run(reader.connection, runs=runs, skipped=skipped, page_ids=pages)
    where = f" under page {board.parent_id}" if board is not None and board.parent_id else ""
    return summarise(runs, skipped, none=f"The {kind} {event.content_id}{where} is below no synced page.")


def concerned(reader: SiteReader, event: WebhookEvent) -> bool:
    """Whether the connection syncs pages of the board's space (a whole space or picked trees), or lists the
    board already."""
    in_scope = {*reader.scope.space_keys, *(str(p.get("space_key") or "") for p in reader.scope.pages)}
    return event.space_key in in_scope or bool(listing(reader, event.content_id))


def listing(reader: SiteReader, board_id: str) -> list[str]:
    """The synced pages whose file lists the board."""
    return [pid for pid, entry in reader.index.pages.items() if any(b[0] == board_id for b in entry.elsewhere)]


def pages_to_render(reader: SiteReader, board_id: str, board: Page | None) -> list[str]:
    """The board's page, when the connection holds it, and the pages that list the board now."""
    pages = listing(reader, board_id)
    if board is not None and board.parent_id in reader.index.pages and board.parent_id not in pages:
        pages.append(board.parent_id)
    return pages


def look_up(readers: list[SiteReader], kind: str, board_id: str) -> Page | None:
    """The board as Confluence shows it now (None: gone, or not shown to the grant), asked through the first
    connection with a grant. RetryLater while Confluence cannot answer."""
    site: AtlassianSite | None = next((r.site for r in readers if r.site.access_token or r.site.refresh_token), None)
    if site is None or site.grant_status == AtlassianSite.Grant.REVOKED:
        return None
    client = lookup_client(site)
    try:
        return client.get_board(kind, board_id)
    except ConfluenceUnavailable as error:
        raise RetryLater(f"Confluence could not say where {kind} {board_id} is ({error}).") from error
    except (AuthRevoked, ConfluenceError):
        return None
