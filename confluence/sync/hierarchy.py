"""The parents the synced pages' hierarchy names but the listings do not hold: pages the scope leaves out (archived
ones, or pages above a picked tree), and folders (v2 content that holds pages and has no body), read in bulk level
by level up to the space's top.

A page below a folder names it as its parent (`parentType: "folder"`): the folder's title and parent come from
`GET /wiki/api/v2/folders/{id}` (v2 reads folders one at a time), asked only for the parents the page lookup did not
return, so a site without folders makes no request more.
"""

from __future__ import annotations

from collections.abc import Mapping

from confluence.client import ConfluenceClient
from confluence.sync.index import FOLDER, UnsyncedPage, page_order

# Confluence nests pages far less deeply; the bound only stops a parent loop in stale data from spinning.
MAX_DEPTH = 50


def missing_parents(
    client: ConfluenceClient, known: Mapping[str, UnsyncedPage], *, spaces: Mapping[str, str]
) -> dict[str, UnsyncedPage]:
    """The parents the hierarchy names but does not hold, and theirs, read in bulk level by level (250 a request):
    an archived page keeps its children (listings hold current pages only), and a page moved or created below a page
    the scope leaves out appears under a parent the index does not know; a parent that is no page is read as a
    folder. No request when nothing is missing."""
    found: dict[str, UnsyncedPage] = {}
    asked: set[str] = set()
    for _ in range(MAX_DEPTH):
        wanted = {page.parent_id for page in [*known.values(), *found.values()] if page.parent_id}
        missing = sorted(wanted - known.keys() - found.keys() - asked, key=page_order)
        if not missing:
            break
        asked.update(missing)
        for page in client.get_pages(missing, body=False, statuses=("current", "archived")):
            found[page.id] = UnsyncedPage(page.title, spaces.get(page.space_id, ""), page.parent_id)
        found.update(folders(client, [pid for pid in missing if pid not in found], spaces=spaces))
    return found


def folders(client: ConfluenceClient, folder_ids: list[str], *, spaces: Mapping[str, str]) -> dict[str, UnsyncedPage]:
    """The folders among those ids (one request each); ids that are no folder (a page purged meanwhile) are absent."""
    found = {}
    for folder_id in folder_ids:
        folder = client.get_folder(folder_id)
        if folder is not None:
            found[folder.id] = UnsyncedPage(folder.title, spaces.get(folder.space_id, ""), folder.parent_id, FOLDER)
    return found
