"""Confluence Cloud REST (v2, plus the few v1 calls v2 lacks) through the Atlassian API gateway with a 3LO token.

Every call goes to `{ATLASSIAN_API_URL}/ex/confluence/{cloudId}/wiki/…` (site URLs reject 3LO tokens). Listings
use the largest page size (250) and bodies come in bulk, because Atlassian charges each call and each object
against hourly points quotas. Sending and errors live in `confluence.gateway`, the answers' types in
`confluence.content`, calls about accounts (personal data reporting, `/me`) in `confluence.account_api`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

from django.conf import settings

from confluence.content import Attachment, Page, PageFacts, Person, Site, Space
from confluence.gateway import (
    AuthRevoked,
    ConfluenceError,
    ConfluenceUnavailable,
    NotFound,
    authorized,
    bearer_headers,
    new_session,
    read_answer,
)
from connectors.http import ApiSession

# Other modules import the errors and the content types from here, with the client that raises and returns them.
__all__ = [
    "Attachment",
    "AuthRevoked",
    "ConfluenceClient",
    "ConfluenceError",
    "ConfluenceUnavailable",
    "NotFound",
    "Page",
    "PageFacts",
    "Person",
    "Site",
    "Space",
    "accessible_sites",
    "cql_quote",
    "new_session",
]

MAX_LIMIT = 250
# v2 `POST /wiki/api/v2/users-bulk` (scope read:user:confluence) takes the ids in the body, so a batch is not bound
# by the URL length that makes v1 `GET /wiki/rest/api/user/bulk` (200 ids documented) fail with 400/414 before 200
# ids (CONFCLOUD-76894). v2 documents no maximum; 100 a request is the budget the sync promises.
USERS_BULK_MAX = 100
# CQL search with expansions besides the body answers at most 200 results a request.
RESTRICTED_SEARCH_LIMIT = 200
FACT_EXPANSIONS = (
    "metadata.labels",
    "restrictions.read.restrictions.user",
    "restrictions.read.restrictions.group",
    "ancestors.restrictions.read.restrictions.user",
    "ancestors.restrictions.read.restrictions.group",
)


# Before a site is chosen -----------------------------------------------------------------------------------


def accessible_sites(access_token: str, *, session: ApiSession | None = None) -> list[Site]:
    """Sites the token can reach that carry Confluence scopes."""
    # Reference: https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/
    session = session or new_session()
    url = f"{settings.ATLASSIAN_API_URL}/oauth/token/accessible-resources"
    data = read_answer(session.request("GET", url, headers=bearer_headers(access_token)))
    sites = [
        Site(cloud_id=r["id"], name=r.get("name", ""), url=r.get("url", ""), scopes=tuple(r.get("scopes", [])))
        for r in data
    ]
    return [s for s in sites if not s.scopes or any("confluence" in scope for scope in s.scopes)]


# A site's content ------------------------------------------------------------------------------------------


class ConfluenceClient:
    """Calls to one site. `token` returns a valid access token; `token(force=True)` refreshes it."""

    def __init__(self, *, cloud_id: str, token: Callable[..., str], session: ApiSession | None = None):
        self.base = f"{settings.ATLASSIAN_API_URL}/ex/confluence/{cloud_id}"
        self.token = token
        self.session = session or new_session()

    @property
    def stats(self):
        return self.session.stats

    def get(self, path: str, params: dict | list | None = None) -> dict:
        url = path if path.startswith("http") else f"{self.base}{path}"
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        return read_answer(authorized(self.session, "GET", url, token=self.token))

    def paginate(self, path: str, params: dict | list) -> Iterator[dict]:
        """Every result of a cursor-paginated listing (v2, or v1 CQL search), following `_links.next`."""
        data = self.get(path, params)
        while True:
            yield from data.get("results", [])
            next_link = (data.get("_links") or {}).get("next")
            if not next_link:
                return
            # v2 links start at the site (/wiki/api/v2/…), v1 links at `_links.base` (the site's /wiki); with 3LO
            # both go through the gateway prefix.
            path = next_link if next_link.startswith("/wiki/") else f"/wiki{next_link}"
            data = self.get(f"{self.base}{path}")

    def list_spaces(self, *, keys: list[str] | None = None, ids: list[str] | None = None) -> list[Space]:
        """The current spaces with those keys (or ids), or every space when neither is given (an empty list asks
        for none: the API would read a missing `keys` as "all")."""
        if (keys is not None and not keys) or (ids is not None and not ids):
            return []
        params: dict = {"limit": MAX_LIMIT, "status": "current"}
        if keys:
            params["keys"] = ",".join(keys)
        if ids:
            params["ids"] = ",".join(ids)
        return [Space.from_json(d) for d in self.paginate("/wiki/api/v2/spaces", params)]

    def get_space(self, space_id: str) -> Space | None:
        """A space by id, current or archived; None when Confluence answers 404 (it has no such space, or does not
        show it to this grant)."""
        try:
            return Space.from_json(self.get(f"/wiki/api/v2/spaces/{space_id}"))
        except NotFound:
            return None

    def find_space(self, key: str) -> Space | None:
        """A space by key, current or archived (no status filter); None when Confluence lists none with that key."""
        data = self.get("/wiki/api/v2/spaces", {"keys": key, "limit": MAX_LIMIT})
        return next((space for space in map(Space.from_json, data.get("results", [])) if space.key == key), None)

    def iter_space_pages(self, space_id: str, *, body: bool, depth: str = "all") -> Iterator[Page]:
        """Current pages of a space (bodies in storage format when asked), 250 per request."""
        params: dict = {"limit": MAX_LIMIT, "status": "current", "depth": depth}
        if body:
            params["body-format"] = "storage"
        for d in self.paginate(f"/wiki/api/v2/spaces/{space_id}/pages", params):
            yield Page.from_json(d)

    def get_pages(self, ids: list[str], *, body: bool, statuses: tuple[str, ...] = ("current",)) -> list[Page]:
        """Pages by id, 250 per request; ids that are missing (purged) or in other states are simply absent."""
        pages: list[Page] = []
        for start in range(0, len(ids), MAX_LIMIT):
            chunk = ids[start : start + MAX_LIMIT]
            params: list = [("id", ",".join(chunk)), ("limit", MAX_LIMIT)] + [("status", s) for s in statuses]
            if body:
                params.append(("body-format", "storage"))
            pages += [Page.from_json(d) for d in self.paginate("/wiki/api/v2/pages", params)]
        return pages

    def iter_space_blogposts(self, space_id: str, *, body: bool) -> Iterator[Page]:
        """Current blog posts of a space (bodies in storage format when asked), 250 per request. A post is read as a
        Page without parent: v2's BlogPostBulk has a page's fields but `parentId` and `position`."""
        params: dict = {"limit": MAX_LIMIT, "status": "current"}
        if body:
            params["body-format"] = "storage"
        for d in self.paginate(f"/wiki/api/v2/spaces/{space_id}/blogposts", params):
            yield Page.from_json(d)

    def get_blogposts(self, ids: list[str], *, body: bool) -> list[Page]:
        """Current blog posts by id, 250 per request; trashed, deleted or purged ones (and pages) are absent."""
        posts: list[Page] = []
        for start in range(0, len(ids), MAX_LIMIT):
            params: list = [
                ("id", ",".join(ids[start : start + MAX_LIMIT])),
                ("limit", MAX_LIMIT),
                ("status", "current"),
            ]
            if body:
                params.append(("body-format", "storage"))
            posts += [Page.from_json(d) for d in self.paginate("/wiki/api/v2/blogposts", params)]
        return posts

    def get_folder(self, folder_id: str) -> Page | None:
        """A folder (read as a Page without body: id, title, spaceId, parentId); None when Confluence answers 404
        (no such folder, or the id is a page's)."""
        try:
            return Page.from_json(self.get(f"/wiki/api/v2/folders/{folder_id}"))
        except NotFound:
            return None

    def get_board(self, kind: str, board_id: str) -> Page | None:
        """A whiteboard, database or embed (smart link) by id, read as a Page without body (id, title, spaceId,
        parentId: its parent is the page it sits under only when `parentType` is page or folder); None on 404."""
        # References: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-whiteboard/, …/database/
        # and …/smart-link/ (GET /whiteboards/{id}, /databases/{id}, /embeds/{id}).
        try:
            return Page.from_json(self.get(f"/wiki/api/v2/{kind}s/{board_id}"))
        except NotFound:
            return None

    def get_page(self, page_id: str) -> Page | None:
        try:
            return Page.from_json(self.get(f"/wiki/api/v2/pages/{page_id}", {"body-format": "storage"}))
        except NotFound:
            return None

    def get_version(self, content_id: str, version: int, *, post: bool = False) -> Page | None:
        """A page (or blog post) as it was at `version`, with its storage body; None on 404."""
        kind = "blogposts" if post else "pages"
        params = {"version": version, "body-format": "storage"}
        try:
            return Page.from_json(self.get(f"/wiki/api/v2/{kind}/{content_id}", params))
        except NotFound:
            return None

    def children(self, page_id: str) -> list[Page]:
        return [
            Page.from_json(d) for d in self.paginate(f"/wiki/api/v2/pages/{page_id}/children", {"limit": MAX_LIMIT})
        ]

    def labels_by_page(self, cql: str) -> dict[str, list[str]]:
        """Labels of every page matching `cql`, in bulk through v1 CQL search (v2 has one call per page)."""
        return {page_id: facts.labels for page_id, facts in self.page_facts(cql).items()}

    def page_facts(self, cql: str) -> dict[str, PageFacts]:
        """Labels and read restrictions (the page's own and its ancestors') of every page matching `cql`, in bulk
        through v1 CQL search: Confluence applies a page's view restriction to its whole subtree, and the
        restrictions expansion lists only a page's own, so each result carries its ancestors' as well."""
        # References: https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-search/ and
        # .../api-group-content-restrictions/. With expansions other than the body, search pages by 200 at most.
        params = {"cql": cql, "limit": RESTRICTED_SEARCH_LIMIT, "expand": ",".join(FACT_EXPANSIONS)}
        found: dict[str, PageFacts] = {}
        for item in self.paginate("/wiki/rest/api/content/search", params):
            found[str(item["id"])] = PageFacts.from_v1(item)
        return found

    def attachments_by_page(self, cql: str) -> dict[str, list[Attachment]]:
        """Current attachments matching `cql` (which must select `type = attachment`), by page, through v1 CQL
        search: one request per 250 attachments, where v2 lists them one page at a time."""
        params = {"cql": cql, "limit": MAX_LIMIT, "expand": "version,container"}
        found: dict[str, list[Attachment]] = {}
        for item in self.paginate("/wiki/rest/api/content/search", params):
            if item.get("type") == "attachment":
                attachment = Attachment.from_v1(item)
                found.setdefault(attachment.page_id, []).append(attachment)
        return found

    def post(self, path: str, body: dict) -> dict:
        return read_answer(authorized(self.session, "POST", f"{self.base}{path}", token=self.token, json=body))

    def people(self, account_ids: list[str]) -> dict[str, Person]:
        """Account id → what the bulk user lookup says of it, 100 ids a request. Every id asked about is in the
        answer: one the lookup did not return (no such account, or not visible) as an unknown person."""
        # Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-user/ ("Create bulk user
        # lookup using ids": POST /users-bulk with {"accountIds": [...]}).
        ids = sorted(set(account_ids))
        found: dict[str, Person] = {}
        for start in range(0, len(ids), USERS_BULK_MAX):
            chunk = ids[start : start + USERS_BULK_MAX]
            data = self.post("/wiki/api/v2/users-bulk", {"accountIds": chunk})
            for d in data.get("results") or []:
                if isinstance(d, dict) and d.get("accountId") in chunk:
                    found[str(d["accountId"])] = Person.from_json(d)
        return {account_id: found.get(account_id, Person(account_id)) for account_id in ids}

    def attachments(self, page_id: str, *, blogpost: bool = False) -> list[Attachment]:
        """The current attachments of a page, or of a blog post (`/blogposts/{id}/attachments`)."""
        kind = "blogposts" if blogpost else "pages"
        return [
            Attachment.from_json(d, page_id)
            for d in self.paginate(f"/wiki/api/v2/{kind}/{page_id}/attachments", {"limit": MAX_LIMIT})
        ]

    def download_attachment(self, attachment: Attachment) -> bytes:
        """The file's bytes via v1 download (the /download/attachments servlet refuses tokens)."""
        url = (
            f"{self.base}/wiki/rest/api/content/{attachment.page_id}/child/attachment/{attachment.id}/download"
            f"?version={attachment.version}"
        )
        response = self.session.request("GET", url, headers=bearer_headers(self.token()), allow_redirects=False)
        if response.status_code in (301, 302, 303, 307, 308):
            # The media host gets no Authorization header: the signed redirect URL is the credential.
            response = self.session.request("GET", response.headers["Location"])
        if response.status_code >= 300:
            read_answer(response)
        return response.content


def cql_quote(value: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", value) + '"'
