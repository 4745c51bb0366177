"""Confluence Cloud REST v2 under /api/ex/confluence/{cloudId}/wiki/api/v2: spaces, pages and what hangs off pages.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/
"""

from __future__ import annotations

from functools import partial

from sandbox.atlassian import v2_shapes as shapes
from sandbox.atlassian.models import Page, Site
from sandbox.atlassian.pagination import (
    decode_cursor,
    listing,
    next_cursor,
    parse_limit,
    relative_link,
    take_after,
    v2_error,
)
from sandbox.core import SimRequest, SimResponse

PREFIX = r"/api/ex/confluence/(?P<cloud_id>[^/]+)/wiki/api/v2"
PAGE_SORTS = {f"{sign}{field}" for sign in ("", "-") for field in ("id", "created-date", "modified-date", "title")}
CHILD_SORTS = PAGE_SORTS | {"child-position", "-child-position"}
LIST_STATUSES = ("current", "archived", "deleted", "trashed")
MAX_IDS = 250


def register(sim) -> None:
    routes = {
        "/spaces": list_spaces,
        r"/spaces/(?P<space_id>\d+)": get_space,
        r"/spaces/(?P<space_id>\d+)/pages": list_space_pages,
        "/pages": list_pages,
        r"/pages/(?P<page_id>\d+)": get_page,
        r"/pages/(?P<page_id>\d+)/children": list_children,
        r"/pages/(?P<page_id>\d+)/ancestors": list_ancestors,
        r"/pages/(?P<page_id>\d+)/labels": list_labels,
        r"/pages/(?P<page_id>\d+)/attachments": list_attachments,
        r"/attachments/(?P<attachment_id>att\d+)": get_attachment,
    }
    route_gets(sim, PREFIX, routes)


def route_gets(sim, prefix: str, routes: dict) -> None:
    """Route GET `prefix + path` to each handler `handler(sim, request, ...)` of `{path: handler}`."""
    sim.route_handlers([("GET", prefix + path, handler) for path, handler in routes.items()])


# Shared checks ----------------------------------------------------------------------------------------------


def site_for(sim, request: SimRequest, cloud_id: str) -> Site:
    """The site, once the bearer token is known to reach it (401 otherwise); answers follow what its account sees."""
    sim.viewer = sim.viewer_for(sim.check_bearer(request, cloud_id))
    return sim.sites[cloud_id]


def page_for(sim, cloud_id: str, page_id: str, statuses: set[str] | None = None, *, kind: str = "page") -> Page:
    """The page (or blog post, by `kind`): the other kind of content answers 404 as on a real site."""
    page = sim.pages.get(page_id)
    if page is None or page.cloud_id != cloud_id or page.type != kind:
        raise v2_error(404, "NOT_FOUND", "Not Found")
    if statuses is not None and page.status not in statuses:
        raise v2_error(404, "NOT_FOUND", "Not Found")
    if not sim.visible(page):
        raise v2_error(404, "NOT_FOUND", "Not Found")
    return page


def at_requested_version(page: Page, request: SimRequest) -> Page:
    """The page, or blog post, at the `version` the request names: Confluence keeps every version, and an earlier
    one answers with its own title, body and version number."""
    wanted = request.arg("version")
    if not wanted:
        return page
    past = page.at_version(int(wanted)) if wanted.isdigit() else None
    if past is None:
        raise v2_error(404, "NOT_FOUND", "Not Found")
    return past


def statuses_of(request: SimRequest, *, allowed: tuple[str, ...], default: tuple[str, ...]) -> set[str]:
    values = request.args("status")
    unknown = set(values) - set(allowed)
    if unknown:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", f"Invalid status: {sorted(unknown)[0]}")
    return set(values or default)


def sort_of(request: SimRequest, allowed: set[str], default: str) -> str:
    sort = request.arg("sort") or default
    if sort not in allowed:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", f"Invalid sort: {sort}")
    return sort


def paginate(
    request: SimRequest,
    site: Site,
    cloud_id: str,
    ordered: list[str],
    index: dict,
    accept,
    render,
    *,
    default_limit: int = 25,
) -> SimResponse:
    limit = parse_limit(request, default=default_limit)
    taken, more = take_after(ordered, index, cursor=decode_cursor(request.arg("cursor")), limit=limit, accept=accept)
    next_link = None
    if more:
        next_link = relative_link(
            request, strip_prefix=f"/ex/confluence/{cloud_id}", changes={"cursor": next_cursor(index, taken)}
        )
    return listing(map(render, taken), base=site.wiki_url, next_link=next_link)


def small_ordering(ids: list[str]) -> tuple[list[str], dict[str, int]]:
    return ids, {item_id: n for n, item_id in enumerate(ids)}


# Spaces -----------------------------------------------------------------------------------------------------


def list_spaces(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    ids, keys = set(request.args("ids")), set(request.args("keys"))
    if len(ids) > MAX_IDS or len(keys) > MAX_IDS:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "Too many ids or keys (at most 250)")
    types, statuses = set(request.args("type")), set(request.args("status"))
    description_format = request.arg("description-format")

    def accept(space_id: str) -> bool:
        space = sim.spaces[space_id]
        return (
            (not ids or space.id in ids)
            and (not keys or space.key in keys)
            and (not types or space.type in types)
            and (not statuses or space.status in statuses)
            and sim.space_visible(space)
        )

    ordered, index = small_ordering([s.id for s in sim.site_spaces(cloud_id)])
    render = lambda space_id: shapes.space(sim.spaces[space_id], description_format=description_format)  # noqa: E731
    return paginate(request, site, cloud_id, ordered, index, accept, render)


def get_space(sim, request: SimRequest, cloud_id: str, space_id: str) -> SimResponse:
    site_for(sim, request, cloud_id)
    space = sim.spaces.get(space_id)
    if space is None or space.cloud_id != cloud_id or not sim.space_visible(space):
        raise v2_error(404, "NOT_FOUND", "Not Found")
    return SimResponse.json(shapes.space(space, description_format=request.arg("description-format")))


# Pages ------------------------------------------------------------------------------------------------------


def page_filter(
    sim, request: SimRequest, *, root_only: bool = False, kind: str = "page", allowed: tuple[str, ...] = LIST_STATUSES
):
    statuses = statuses_of(request, allowed=allowed, default=("current", "archived"))
    return content_filter(sim, kind=kind, statuses=statuses, title=request.arg("title"), root_only=root_only)


def content_filter(sim, *, kind: str, statuses, title: str | None, root_only: bool = False):
    """Whether a listing shows a content id: of `kind`, in one of `statuses`, titled `title` when one is asked for,
    at the top of the tree when `root_only`, and visible to the caller (v1 and v2 listings alike)."""

    def accept(page_id: str) -> bool:
        page = sim.pages[page_id]
        return (
            page.type == kind
            and page.status in statuses
            and (title is None or page.title == title)
            and (not root_only or page.parent_id is None)
            and sim.visible(page)
        )

    return accept


def page_renderer(sim, request: SimRequest):
    body_format = request.arg("body-format")
    return lambda page_id: shapes.page(sim, sim.pages[page_id], body_format=body_format)


def list_space_pages(sim, request: SimRequest, cloud_id: str, space_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    space = sim.spaces.get(space_id)
    if space is None or space.cloud_id != cloud_id or not sim.space_visible(space):
        raise v2_error(404, "NOT_FOUND", "Not Found")
    depth = request.arg("depth") or "all"
    if depth not in ("all", "root"):
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", f"Invalid depth: {depth}")
    ordered, index = sim.ordering((space_id,), sort_of(request, PAGE_SORTS, "id"))
    accept = page_filter(sim, request, root_only=depth == "root")
    return paginate(request, site, cloud_id, ordered, index, accept, page_renderer(sim, request))


def ids_and_space_ids(request: SimRequest) -> tuple[list[str], list[str]]:
    """The `id` and `space-id` filters of a v2 content listing, refused past their documented sizes."""
    content_ids, space_ids = request.args("id"), request.args("space-id")
    if len(content_ids) > MAX_IDS:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "id: size must be between 0 and 250")
    if len(space_ids) > 100:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "space-id: size must be between 0 and 100")
    return content_ids, space_ids


def list_pages(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    page_ids, space_ids = ids_and_space_ids(request)
    sort = sort_of(request, PAGE_SORTS, "id")
    site_space_ids = [s.id for s in sim.site_spaces(cloud_id)]
    scope = tuple(s for s in site_space_ids if not space_ids or s in space_ids)
    if page_ids:
        found = [p for p in dict.fromkeys(page_ids) if p in sim.pages and sim.pages[p].space_id in scope]
        field, descending = sort.lstrip("-"), sort.startswith("-")
        key = {
            "id": lambda p: int(p),
            "title": lambda p: sim.pages[p].title.lower(),
            "created-date": lambda p: sim.pages[p].created_at,
            "modified-date": lambda p: sim.pages[p].version.created_at,
        }[field]
        ordered, index = small_ordering(sorted(found, key=key, reverse=descending))
    else:
        ordered, index = sim.ordering(scope, sort)
    return paginate(request, site, cloud_id, ordered, index, page_filter(sim, request), page_renderer(sim, request))


def get_page(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    allowed = ("current", "archived", "trashed", "deleted", "historical", "draft")
    # A trashed page is only returned when asked for, like in the listings.
    page = page_for(sim, cloud_id, page_id, statuses_of(request, allowed=allowed, default=("current", "archived")))
    page = at_requested_version(page, request)
    data = shapes.page(sim, page, body_format=request.arg("body-format"))
    if request.arg("include-labels") == "true":
        results = [shapes.label(sim, name) for name in page.labels]
        data["labels"] = {"results": results, "meta": {"hasMore": False, "cursor": None}, "_links": {}}
    data["_links"]["base"] = site.wiki_url
    return SimResponse.json(data)


def list_children(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    page = page_for(sim, cloud_id, page_id)
    sort = sort_of(request, CHILD_SORTS, "child-position")
    field, descending = sort.lstrip("-"), sort.startswith("-")
    children = [sim.pages[c] for c in page.child_ids]
    key = {
        "child-position": lambda p: p.position,
        "id": lambda p: int(p.id),
        "title": lambda p: p.title.lower(),
        "created-date": lambda p: p.created_at,
        "modified-date": lambda p: p.version.created_at,
    }[field]
    ordered, index = small_ordering([p.id for p in sorted(children, key=key, reverse=descending)])
    # Child pages only: folders, whiteboards, databases and embeds in the tree are not pages.
    accept = lambda child_id: is_current_page(sim, sim.pages[child_id])  # noqa: E731
    render = lambda child_id: shapes.child_page(sim.pages[child_id])  # noqa: E731
    return paginate(request, site, cloud_id, ordered, index, accept, render)


def list_ancestors(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    """Top to bottom; with `limit`, the nearest ones (callers page upwards from the highest ancestor)."""
    site = site_for(sim, request, cloud_id)
    page = page_for(sim, cloud_id, page_id)
    limit = parse_limit(request, default=25)
    chain = sim.ancestors(page)[-limit:]
    return listing(({"id": a.id, "type": "page"} for a in chain), base=site.wiki_url, next_link=None)


def list_labels(sim, request: SimRequest, cloud_id: str, page_id: str, *, kind: str = "page") -> SimResponse:
    site = site_for(sim, request, cloud_id)
    page = page_for(sim, cloud_id, page_id, kind=kind)
    prefixes = set(request.args("prefix"))
    ordered, index = small_ordering(list(page.labels))
    accept = lambda name: not prefixes or "global" in prefixes  # noqa: E731
    return paginate(request, site, cloud_id, ordered, index, accept, partial(shapes.label, sim))


def list_attachments(sim, request: SimRequest, cloud_id: str, page_id: str, *, kind: str = "page") -> SimResponse:
    site = site_for(sim, request, cloud_id)
    page = page_for(sim, cloud_id, page_id, kind=kind)
    statuses = statuses_of(request, allowed=("current", "archived", "trashed"), default=("current",))
    media_type, filename = request.arg("mediaType"), request.arg("filename")

    def accept(attachment_id: str) -> bool:
        attachment = sim.attachments[attachment_id]
        return (
            attachment.status in statuses
            and (media_type is None or attachment.latest.media_type == media_type)
            and (filename is None or attachment.title == filename)
        )

    ordered, index = small_ordering(list(page.attachment_ids))
    render = lambda attachment_id: shapes.attachment(sim, sim.attachments[attachment_id])  # noqa: E731
    return paginate(request, site, cloud_id, ordered, index, accept, render, default_limit=50)


def get_attachment(sim, request: SimRequest, cloud_id: str, attachment_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    attachment = sim.attachments.get(attachment_id)
    if attachment is None or sim.pages[attachment.page_id].cloud_id != cloud_id:
        raise v2_error(404, "NOT_FOUND", "Not Found")
    if not sim.visible(sim.pages[attachment.page_id]):
        raise v2_error(404, "NOT_FOUND", "Not Found")
    data = shapes.attachment(sim, attachment)
    data["_links"]["base"] = site.wiki_url
    return SimResponse.json(data)


def is_current_page(sim, page) -> bool:
    return page.type == "page" and page.status == "current" and sim.visible(page)
