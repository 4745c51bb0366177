"""The Atlassian simulator: auth.atlassian.com, api.atlassian.com (Confluence Cloud v1 + v2) and Forge.

Mount points under `base_url`: `/auth/...` plays auth.atlassian.com, `/api/...` plays api.atlassian.com,
`/forge/...` serves the JWKS and an install page, `/media/...` plays the media host attachments redirect to.

Composed like the GitHub simulator: the Python API that tests, benchmarks and the manage pages use to change the
world "from Atlassian's side" comes from one mixin per area (oauth, editing, attachments, forge, restrictions,
privacy); each HTTP area is a module of handler functions `handler(sim, request, ...)` that its `register(sim)`
routes.
"""

from __future__ import annotations

import bisect
import hashlib
import secrets
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from sandbox import credentials
from sandbox.atlassian import (
    auth_server,
    blogposts,
    boards,
    confluence_v1,
    confluence_v2,
    folders,
    forge,
    models,
    privacy,
    restriction_api,
    users,
)
from sandbox.atlassian.attachments import AttachmentsMixin
from sandbox.atlassian.blogging import BloggingMixin
from sandbox.atlassian.boards import BoardsMixin
from sandbox.atlassian.editing import EditingMixin
from sandbox.atlassian.folders import FoldersMixin
from sandbox.atlassian.forge import ForgeMixin
from sandbox.atlassian.models import Clock, Page, Space
from sandbox.atlassian.oauth import OAuthMixin
from sandbox.atlassian.privacy import PrivacyMixin
from sandbox.atlassian.restrictions import RestrictionsMixin
from sandbox.atlassian.v2_shapes import TREE_ONLY
from sandbox.core import Fault, SimRequest, SimResponse, Simulator

FIRST_ID = 98305
STATE_KINDS = tuple(models.MODELS)


class AtlassianSimulator(
    OAuthMixin,
    EditingMixin,
    BloggingMixin,
    FoldersMixin,
    BoardsMixin,
    AttachmentsMixin,
    ForgeMixin,
    RestrictionsMixin,
    PrivacyMixin,
    Simulator,
):
    name = "atlassian"

    def __init__(self, *, base_url: str, root: Path, site_url: str, seed: int = 0):
        super().__init__(seed=seed)
        self.base_url = base_url.rstrip("/")
        self.root = Path(root)
        self.site_url = site_url.rstrip("/")
        # The OAuth app's registered callback URL. Not part of the snapshot: like the other URLs of the site, it
        # follows the site's URL, so a saved world keeps working when the site moves to another port.
        self.callback_url = f"{self.site_url}{credentials.ATLASSIAN_CALLBACK_PATH}"
        self.deliver: Callable[[str, bytes, dict[str, str]], int] | None = None
        self.access_token_ttl = 3600
        # Not part of the snapshot: `report_rate_limits` answers that many next privacy reports 429.
        self.report_rate_limits = 0
        self.report_retry_after = 60
        self.reports: list[dict] = []
        self._reset()
        areas = (auth_server, forge, confluence_v2, blogposts, folders, boards, confluence_v1, restriction_api)
        areas += (users, privacy)
        for module in areas:
            module.register(self)
        self.route("GET", r"/media/(?P<file_id>[\w-]+)", partial(confluence_v1.serve_media, self))

    def _reset(self) -> None:
        for kind in STATE_KINDS:
            setattr(self, kind, {})
        self.clock = Clock()
        self.next_id = FIRST_ID
        self.label_ids: dict[str, str] = {}
        self.forge_keys: list[dict] = []
        self.media_secret = secrets.token_hex(16)
        self.deliveries: list[dict] = []
        # Every delivery's answer (status → count), where `deliveries` keeps only the last 50.
        self.delivery_totals: dict[int, int] = {}
        self.events_emitted = 0
        self.outbox: list[tuple[str, bytes, dict[str, str]]] = []
        self.defer_deliveries = False
        self.media_requests_with_authorization = 0
        self._rebuild_indexes()

    # Ids --------------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def new_uuid(self) -> str:
        """A UUID that depends only on the seed and how many ids were handed out before."""
        self.next_id += 1
        digest = hashlib.sha256(f"{self.seed}:{self.next_id}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    # Indexes: per-space page ids in id order, and cached orderings for the sorted listings ----------------

    def _rebuild_indexes(self) -> None:
        self.space_ids_by_key: dict[tuple[str, str], str] = {}
        self.space_page_ids: dict[str, list[int]] = {}
        # Blog posts apart: page listings, orderings and page searches never see them.
        self.space_post_ids: dict[str, list[int]] = {}
        self.space_folder_ids: dict[str, list[int]] = {}
        self._orders: dict[tuple, tuple[list[str], dict[str, int]]] = {}
        for space in self.spaces.values():
            self.space_ids_by_key[(space.cloud_id, space.key)] = space.id
            self.space_page_ids[space.id] = []
        for page in sorted(self.pages.values(), key=lambda p: int(p.id)):
            self.content_ids(page).append(int(page.id))

    def content_ids(self, page: Page) -> list[int]:
        """The space's id list the content belongs in: its pages' or its blog posts'."""
        if page.type == "blogpost":
            return self.space_post_ids.setdefault(page.space_id, [])
        if page.type in TREE_ONLY:  # folders, whiteboards, databases, embeds: no page listing shows them
            return self.space_folder_ids.setdefault(page.space_id, [])
        return self.space_page_ids[page.space_id]

    def space_content(self, space_id: str) -> list[list[int]]:
        """The space's id lists: pages, blog posts, folders."""
        return [
            self.space_page_ids[space_id],
            self.space_post_ids.get(space_id, []),
            self.space_folder_ids.get(space_id, []),
        ]

    def index_page(self, page: Page) -> None:
        bisect.insort(self.content_ids(page), int(page.id))
        self._orders.clear()

    def unindex_page(self, page: Page) -> None:
        ids = self.content_ids(page)
        del ids[bisect.bisect_left(ids, int(page.id))]
        self._orders.clear()

    def changed(self) -> None:
        """Forget cached orderings; called after every change that can reorder a listing."""
        self._orders.clear()

    def ordering(
        self, space_ids: tuple[str, ...], sort: str, *, kind: str = "page"
    ) -> tuple[list[str], dict[str, int]]:
        """Page (or blog post) ids of these spaces in `sort` order, with each id's position (cached until the next
        change)."""
        cache_key = (space_ids, sort, kind)
        if cache_key not in self._orders:
            listed = self.space_post_ids if kind == "blogpost" else self.space_page_ids
            ids = [str(i) for space_id in space_ids for i in listed.get(space_id, ())]
            if sort not in ("id", "") or len(space_ids) > 1:
                field, descending = sort.lstrip("-") or "id", sort.startswith("-")
                ids.sort(key=partial(_sort_key, self.pages, field), reverse=descending)
            self._orders[cache_key] = (ids, {page_id: n for n, page_id in enumerate(ids)})
        return self._orders[cache_key]

    # Lookups ----------------------------------------------------------------------------------------------

    def space_by_key(self, cloud_id: str, key: str) -> Space | None:
        space_id = self.space_ids_by_key.get((cloud_id, key))
        return self.spaces[space_id] if space_id else None

    def existing_space(self, cloud_id: str, key: str) -> Space:
        """The space of that key, for changes that need one: KeyError when the site has none."""
        space = self.space_by_key(cloud_id, key)
        if space is None:
            raise KeyError(f"no space {key}")
        return space

    def site_spaces(self, cloud_id: str) -> list[Space]:
        return sorted((s for s in self.spaces.values() if s.cloud_id == cloud_id), key=lambda s: int(s.id))

    def ancestors(self, page: Page) -> list[Page]:
        """From the top of the tree down to the page's parent."""
        chain = []
        while page.parent_id:
            page = self.pages[page.parent_id]
            chain.append(page)
        return chain[::-1]

    # Snapshot ---------------------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        data = {kind: models.dump(getattr(self, kind)) for kind in STATE_KINDS}
        data.update(
            clock=self.clock.now_ms,
            next_id=self.next_id,
            label_ids=self.label_ids,
            forge_keys=self.forge_keys,
            media_secret=self.media_secret,
            deliveries=self.deliveries[-50:],
            access_token_ttl=self.access_token_ttl,
        )
        return data

    def restore(self, data: dict) -> None:
        with self.lock:
            self._reset()
            for kind in STATE_KINDS:
                setattr(self, kind, models.load(kind, data.get(kind, {})))
            self.clock.now_ms = data["clock"]
            self.next_id = data["next_id"]
            self.label_ids = dict(data["label_ids"])
            self.forge_keys = list(data["forge_keys"])
            self.media_secret = data["media_secret"]
            self.deliveries = list(data.get("deliveries", []))
            self.access_token_ttl = data.get("access_token_ttl", 3600)
            self._rebuild_indexes()

    # Errors -----------------------------------------------------------------------------------------------

    def fault_response(self, fault: Fault) -> SimResponse:
        """Shaped like api.atlassian.com's gateway errors, with the rate-limit headers Confluence documents."""
        if fault.kind.startswith("429"):
            headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-NearLimit": "true"}
            if fault.kind == "429":
                headers["Retry-After"] = str(fault.retry_after)
            return SimResponse.json({"code": 429, "message": "Rate limit exceeded"}, 429, headers)
        status = int(fault.kind)
        messages = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        headers = {"Retry-After": str(fault.retry_after)} if status == 503 else {}
        return SimResponse.json({"code": status, "message": messages[status]}, status, headers)

    def not_found(self, request: SimRequest) -> SimResponse:
        return SimResponse.json({"code": 404, "message": f"No route for {request.method} {request.path}"}, 404)


def _sort_key(pages: dict[str, Page], field: str, page_id: str):
    page = pages[page_id]
    keys = {
        "id": lambda: (int(page.id),),
        "created-date": lambda: (page.created_at, int(page.id)),
        "modified-date": lambda: (page.version.created_at, int(page.id)),
        "title": lambda: (page.title.lower(), int(page.id)),
        "child-position": lambda: (page.position, int(page.id)),
    }
    return keys.get(field, keys["id"])()
