"""Folders of the simulated Confluence: content that holds pages (and other folders) in a space's tree but has no
body. `create_folder` makes one (pages are put in it with `create_page(parent_id=…)` or `move_page`), and v2
`GET /folders/{id}` reads it; a page below a folder names it as `parentId` with `parentType: "folder"`.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-folder/ — id, type, status, title,
parentId, parentType, position, authorId, ownerId, createdAt, spaceId, version, _links. Folders are kept in
`sim.pages` with `type = "folder"` and listed apart (`space_folder_ids`): page and blog post endpoints never show
them; CQL finds them only when it names `folder`.
"""

from __future__ import annotations

from functools import partial

from sandbox.atlassian.confluence_v2 import PREFIX, page_for, site_for
from sandbox.atlassian.models import Page, Version
from sandbox.atlassian.v2_shapes import page_links, version
from sandbox.core import SimRequest, SimResponse


class FoldersMixin:
    def create_folder(self, cloud_id: str, *, space_key: str, title: str, parent_id: str | None = None) -> Page:
        """A folder at the space's top level, or below a page or another folder of the space."""
        return self.create_tree_item(cloud_id, kind="folder", space_key=space_key, title=title, parent_id=parent_id)

    def create_tree_item(self, cloud_id: str, *, kind: str, space_key: str, title: str, parent_id: str | None) -> Page:
        """Content of the space's tree with no body (a folder, whiteboard, database or embed), at the top level or
        below `parent_id`; no event (the caller says whether its kind has one)."""
        with self.lock:
            space = self.existing_space(cloud_id, space_key)
            if parent_id and self.pages[parent_id].space_id != space.id:
                raise ValueError("the parent is in another space")
            author = self.default_user().account_id
            item = self.new_content(space, title=title, body="", author=author, at=self.clock.tick(), type=kind)
            self._attach(item, parent_id or None, None)
            self.index_page(item)
            return item

    def rename_folder(self, folder_id: str, title: str) -> Page:
        """A new title (Confluence sends no event for it: a run over the whole scope finds it)."""
        with self.lock:
            folder = self.pages[folder_id]
            if folder.type != "folder":
                raise ValueError(f"{folder_id} is not a folder")
            folder.title = title
            folder.version = Version(folder.version.number + 1, self.clock.tick(), folder.version.author_id)
            self.changed()
            return folder


def register(sim) -> None:
    sim.route("GET", PREFIX + r"/folders/(?P<item_id>\d+)", partial(get_tree_item, sim, "folder"))


def get_tree_item(sim, kind: str, request: SimRequest, cloud_id: str, item_id: str) -> SimResponse:
    """v2 `GET /folders/{id}` (and `/whiteboards/{id}`, `/databases/{id}`, `/embeds/{id}`): the same fields."""
    site = site_for(sim, request, cloud_id)
    item = page_for(sim, cloud_id, item_id, {"current"}, kind=kind)
    data = shape(sim, item)
    data["_links"]["base"] = site.wiki_url
    return SimResponse.json(data)


def shape(sim, item: Page) -> dict:
    space = sim.spaces[item.space_id]
    return {
        "id": item.id,
        "type": item.type,
        "status": item.status,
        "title": item.title,
        "parentId": item.parent_id,
        "parentType": sim.pages[item.parent_id].type if item.parent_id else None,
        "position": item.position,
        "authorId": item.author_id,
        "ownerId": item.author_id,
        "createdAt": version(item)["createdAt"],
        "spaceId": item.space_id,
        "version": version(item),
        "_links": {"webui": page_links(item, space)["webui"]},
    }
