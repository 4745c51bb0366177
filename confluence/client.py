"""Confluence Cloud REST (v2, plus the few v1 calls v2 lacks) through the Atlassian API gateway with a 3LO token.

Every call goes to `{ATLASSIAN_API_URL}/ex/confluence/{cloudId}/wiki/…` (site URLs reject 3LO tokens). Listings
use the largest page size (250) and bodies come in bulk, because Atlassian charges each call and each object
against hourly points quotas.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests
from django.conf import settings

from confluence.convert.links import FORMER_USER
from connectors.http import ApiSession, requested_wait
from connectors.storable import storable

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


class ConfluenceError(Exception):
    """A call failed in a way to report to the user (permanent)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class ConfluenceUnavailable(ConfluenceError):
    """Rate limited, 5xx or unreachable after retries: try again later."""


class AuthRevoked(ConfluenceError):
    """The grant is gone (invalid_grant, or 401 after a refresh): the user must reconnect."""


class NotFound(ConfluenceError):
    pass


@dataclass(frozen=True)
class Site:
    cloud_id: str
    name: str
    url: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Space:
    id: str
    key: str
    name: str
    type: str = "global"
    status: str = "current"
    homepage_id: str | None = None

    @classmethod
    def from_json(cls, d: dict) -> Space:
        return cls(
            id=str(d["id"]),
            key=d["key"],
            name=d.get("name", d["key"]),
            type=d.get("type", "global"),
            status=d.get("status", "current"),
            homepage_id=str(d["homepageId"]) if d.get("homepageId") else None,
        )


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    space_id: str
    status: str
    parent_id: str | None
    version: int
    modified_at: str
    created_at: str = ""
    author_id: str = ""
    version_author_id: str = ""
    version_message: str = ""
    position: int | None = None
    webui: str = ""
    body: str | None = None  # storage XHTML, when asked for

    @classmethod
    def from_json(cls, d: dict) -> Page:
        version = d.get("version") or {}
        body = ((d.get("body") or {}).get("storage") or {}).get("value")
        return cls(
            id=str(d["id"]),
            title=text(d.get("title", "")),
            space_id=str(d.get("spaceId", "")),
            status=d.get("status", "current"),
            parent_id=str(d["parentId"]) if d.get("parentId") and d.get("parentType", "page") == "page" else None,
            version=int(version.get("number", 0)),
            modified_at=version.get("createdAt", ""),
            created_at=d.get("createdAt", ""),
            author_id=d.get("authorId", ""),
            version_author_id=version.get("authorId", ""),
            version_message=version.get("message", ""),
            position=d.get("position"),
            webui=(d.get("_links") or {}).get("webui", ""),
            body=body,
        )


@dataclass(frozen=True)
class Attachment:
    id: str
    page_id: str
    title: str
    media_type: str
    file_size: int
    version: int
    status: str = "current"

    @classmethod
    def from_json(cls, d: dict, page_id: str) -> Attachment:
        version = d.get("version") or {}
        return cls(
            id=str(d["id"]),
            page_id=str(d.get("pageId") or page_id),
            title=d.get("title", ""),
            media_type=d.get("mediaType", "application/octet-stream"),
            file_size=int(d.get("fileSize") or 0),
            version=int(version.get("number", 1)),
            status=d.get("status") or "current",
        )

    @classmethod
    def from_v1(cls, d: dict) -> Attachment:
        """A v1 content object of type attachment, with `version` and `container` expanded."""
        extensions = d.get("extensions") or {}
        return cls(
            id=str(d["id"]),
            page_id=str((d.get("container") or {}).get("id", "")),
            title=d.get("title", ""),
            media_type=extensions.get("mediaType", "application/octet-stream"),
            file_size=int(extensions.get("fileSize") or 0),
            version=int((d.get("version") or {}).get("number", 1)),
            status=d.get("status") or "current",
        )


@dataclass(frozen=True)
class Person:
    """What the bulk user lookup says of an account: its display name, `accountStatus` (active, inactive, closed,
    unknown) and `accountType` (atlassian, app, customer, unknown)."""

    account_id: str
    display_name: str = ""
    account_status: str = "unknown"
    account_type: str = "unknown"

    @classmethod
    def from_json(cls, d: dict) -> Person:
        return cls(
            account_id=str(d["accountId"]),
            display_name=text(str(d.get("displayName") or d.get("publicName") or "")),
            account_status=str(d.get("accountStatus") or "unknown"),
            account_type=str(d.get("accountType") or "unknown"),
        )

    @property
    def shown_name(self) -> str | None:
        """The name a mention shows: deactivated people say so, closed ones are former users; None when the lookup
        knows no name (the converter then writes "@unknown user")."""
        if self.account_status == "closed":
            return FORMER_USER
        if not self.display_name:
            return None
        if self.account_status == "inactive":
            return f"{self.display_name} (deactivated)"
        return self.display_name


@dataclass(frozen=True)
class PageFacts:
    labels: list[str]
    restricted: bool  # a read (view) restriction on the page or on any of its ancestors


def read_restricted(content: dict) -> bool:
    """Whether v1 content (with `restrictions.read.restrictions.user,group` expanded) names anyone who may read it."""
    read = ((content.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
    return any((read.get(kind) or {}).get("results") for kind in ("user", "group"))


# Before a site is chosen -----------------------------------------------------------------------------------


def accessible_sites(access_token: str, *, session: ApiSession | None = None) -> list[Site]:
    """Sites the token can reach that carry Confluence scopes."""
    # Reference: https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/
    session = session or new_session()
    url = f"{settings.ATLASSIAN_API_URL}/oauth/token/accessible-resources"
    data = _json(session.request("GET", url, headers=_headers(access_token)))
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
        return _json(authorized(self.session, "GET", url, token=self.token))

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

    def get_page(self, page_id: str) -> Page | None:
        try:
            return Page.from_json(self.get(f"/wiki/api/v2/pages/{page_id}", {"body-format": "storage"}))
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
            labels = ((item.get("metadata") or {}).get("labels") or {}).get("results", [])
            found[str(item["id"])] = PageFacts(
                labels=sorted(text(label["name"]) for label in labels),
                restricted=any(read_restricted(d) for d in [item, *(item.get("ancestors") or [])]),
            )
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
        return _json(authorized(self.session, "POST", f"{self.base}{path}", token=self.token, json=body))

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

    def attachments(self, page_id: str) -> list[Attachment]:
        return [
            Attachment.from_json(d, page_id)
            for d in self.paginate(f"/wiki/api/v2/pages/{page_id}/attachments", {"limit": MAX_LIMIT})
        ]

    def download_attachment(self, attachment: Attachment) -> bytes:
        """The file's bytes via v1 download (the /download/attachments servlet refuses tokens)."""
        url = (
            f"{self.base}/wiki/rest/api/content/{attachment.page_id}/child/attachment/{attachment.id}/download"
            f"?version={attachment.version}"
        )
        response = self.session.request("GET", url, headers=_headers(self.token()), allow_redirects=False)
        if response.status_code in (301, 302, 303, 307, 308):
            # The media host gets no Authorization header: the signed redirect URL is the credential.
            response = self.session.request("GET", response.headers["Location"])
        if response.status_code >= 300:
            _json(response)
        return response.content


# The personal data reporting API ---------------------------------------------------------------------------

# Reference: https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/ ("Personal data reporting
# API"): at most 90 accounts a request; the grant needs the `report:personal-data` scope.
REPORT_MAX_ACCOUNTS = 90


@dataclass(frozen=True)
class AccountReport:
    """What Atlassian answered about a batch of reported accounts: those to erase and those to refresh (the others
    need nothing), and the `Cycle-Period` header (how often to report each account; None when absent)."""

    closed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    cycle_period: str | None = None


class ReportRateLimited(ConfluenceUnavailable):
    """429: reported too often. Try again after `retry_after` seconds (None when Atlassian did not say)."""

    def __init__(self, message: str, *, retry_after: float | None):
        super().__init__(message, status=429)
        self.retry_after = retry_after


def report_accounts(
    accounts: Mapping[str, datetime], *, token: Callable[..., str], session: ApiSession | None = None
) -> AccountReport:
    """Report up to 90 stored accounts (account id → when we last read the personal data we hold of it). `token`
    returns an access token of any working grant; `token(force=True)` refreshes it."""
    if not accounts or len(accounts) > REPORT_MAX_ACCOUNTS:
        raise ValueError(f"report 1 to {REPORT_MAX_ACCOUNTS} accounts a request, not {len(accounts)}")
    # No retries in the worker: a 429 here says "report less often", and the schedule is what waits.
    session = session or ApiSession(timeout=(5.0, 60.0), max_retries=0)
    url = f"{settings.ATLASSIAN_API_URL}/app/report-accounts/"
    body = {"accounts": [{"accountId": account_id, "updatedAt": _iso(when)} for account_id, when in accounts.items()]}
    response = authorized(session, "POST", url, token=token, json=body)
    cycle_period = response.headers.get("Cycle-Period")
    if response.status_code == 429:
        raise ReportRateLimited(
            f"Atlassian asks to report accounts less often: {_message(response)}", retry_after=requested_wait(response)
        )
    if response.status_code == 204:
        return AccountReport(cycle_period=cycle_period)
    data = _json(response)
    answers = [a for a in (data.get("accounts") or []) if isinstance(a, dict)] if isinstance(data, dict) else []
    return AccountReport(
        closed=tuple(str(a["accountId"]) for a in answers if a.get("status") == "closed" and a.get("accountId")),
        updated=tuple(str(a["accountId"]) for a in answers if a.get("status") == "updated" and a.get("accountId")),
        cycle_period=cycle_period,
    )


def account_profile(*, token: Callable[..., str], session: ApiSession | None = None) -> dict:
    """The profile (`account_id`, `name`, `email`, …) of the person whose grant `token` belongs to: `GET /me`."""
    # Reference: https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/ (needs read:me)
    session = session or new_session()
    url = f"{settings.ATLASSIAN_API_URL}/me"
    data = _json(authorized(session, "GET", url, token=token))
    if not isinstance(data, dict):
        raise ConfluenceError("Atlassian answered /me with something other than a profile")
    return data


def _iso(moment: datetime) -> str:
    """`2018-10-25T23:08:51.382Z`, the form the API documents."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Plumbing --------------------------------------------------------------------------------------------------


def new_session() -> ApiSession:
    return ApiSession(timeout=(5.0, 60.0), max_inline_wait=settings.HTTP_MAX_INLINE_WAIT_SECONDS)


def authorized(session: ApiSession, method: str, url: str, *, token: Callable[..., str], **kwargs) -> requests.Response:
    """The request with the grant's access token. Access tokens live an hour and one may expire mid-run: on a 401
    the token is refreshed once (`token(force=True)`); a second 401 means the grant is gone."""
    response = session.request(method, url, headers=_headers(token()), **kwargs)
    if response.status_code == 401:
        response = session.request(method, url, headers=_headers(token(force=True)), **kwargs)
        if response.status_code == 401:
            raise AuthRevoked("Confluence refused a freshly refreshed token", status=401)
    return response


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _json(response: requests.Response):
    status = response.status_code
    if status < 300:
        return response.json()
    message = _message(response)
    if status in (429, 500, 502, 503, 504):
        raise ConfluenceUnavailable(f"Confluence is unavailable or rate limiting ({status}): {message}", status=status)
    if status == 401:
        raise AuthRevoked(f"Confluence refused the token: {message}", status=status)
    if status == 404:
        raise NotFound(message or "Not found", status=status)
    raise ConfluenceError(f"Confluence answered {status}: {message}", status=status)


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        errors = data.get("errors") or []
        if errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("detail") or "")[:300]
        return str(data.get("message") or data.get("error_description") or data.get("error") or "")[:300]
    return str(data)[:300]


def text(value: str) -> str:
    """A title or label as we store it: no NUL or lone surrogate, which PostgreSQL cannot keep (U+FFFD instead)."""
    return storable(value)


def cql_quote(value: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", value) + '"'
