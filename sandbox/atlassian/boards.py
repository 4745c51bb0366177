"""Whiteboards, databases and embeds (smart links) of the simulated Confluence: content in a space's tree that is no
page and has no storage body. `create_board` makes one below a page (or at the space's top level, or below a
folder), `move_board` and `trash_board` change it; v2 `GET /whiteboards/{id}`, `/databases/{id}` and `/embeds/{id}`
read it, and CQL finds it only when its `type` clause names its kind.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-whiteboard/ (and …/database/,
…/smart-link/) — id, type, status, title, parentId, parentType, position, authorId, ownerId, createdAt, spaceId,
version, _links. Forge (https://developer.atlassian.com/platform/forge/events-reference/confluence/) sends
created, moved and copied events for all three, permissions_updated for whiteboards and databases, and no trashed
or deleted events: `trash_board` emits nothing. Boards are kept in `sim.pages` with their kind as `type` and listed
with the folders (`space_folder_ids`), so page and blog post endpoints never show them.
"""

from __future__ import annotations

from functools import partial

from sandbox.atlassian.confluence_v2 import PREFIX
from sandbox.atlassian.folders import get_tree_item
from sandbox.atlassian.models import Page

BOARD_KINDS = ("whiteboard", "database", "embed")


class BoardsMixin:
    def create_board(
        self,
        cloud_id: str,
        *,
        kind: str,
        space_key: str,
        title: str,
        parent_id: str | None,
        emit: bool = True,
    ) -> Page:
        """A whiteboard, database or embed, below `parent_id` (a page or folder of the space) or at the top (None)."""
        if kind not in BOARD_KINDS:
            raise ValueError(f"{kind!r} is no board kind")
        with self.lock:
            board = self.create_tree_item(cloud_id, kind=kind, space_key=space_key, title=title, parent_id=parent_id)
            if emit:
                self._emit_page("created", board)
            return board

    def move_board(self, board_id: str, *, parent_id: str | None, emit: bool = True) -> Page:
        with self.lock:
            board = self._board(board_id)
            self._detach(board)
            self._attach(board, parent_id, None)
            self.changed()
            if emit:
                self._emit_page("moved", board)
            return board

    def trash_board(self, board_id: str) -> Page:
        """Trashed: gone from searches and 404 by id. Confluence sends no event for it."""
        with self.lock:
            board = self._board(board_id)
            board.status = "trashed"
            self.changed()
            return board

    def _board(self, board_id: str) -> Page:
        board = self.pages[board_id]
        if board.type not in BOARD_KINDS:
            raise ValueError(f"{board_id} is no whiteboard, database or embed")
        return board


def register(sim) -> None:
    for kind in BOARD_KINDS:
        sim.route("GET", PREFIX + rf"/{kind}s/(?P<item_id>\d+)", partial(get_tree_item, sim, kind))
