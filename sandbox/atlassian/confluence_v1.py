"""The v1 endpoints that v2 lacks or that third-party loaders use: listings, CQL search, attachment download.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v1/
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlencode

from sandbox.atlassian import cql, search
from sandbox.atlassian import v1_shapes as shapes
from sandbox.atlassian.confluence_v2 import content_filter, route_gets, site_for
from sandbox.atlassian.models import Attachment, Site
from sandbox.atlassian.pagination import V1_MAX_LIMIT, decode_cursor, encode_cursor, parse_limit, v1_error
from sandbox.core import SimError, SimRequest, SimResponse

PREFIX = r"/api/ex/confluence/(?P<cloud_id>[^/]+)/wiki/rest/api"


def register(sim) -> None:
    routes = {
        "/space": list_spaces,
        "/content": list_content,
        "/content/search": search_content,
        r"/content/(?P<page_id>\d+)": get_content,
        r"/content/(?P<page_id>\d+)/child/attachment": list_attachments,
        r"/content/(?P<page_id>\d+)/child/attachment/(?P<attachment_id>att\d+)/download": download_attachment,
    }
    route_gets(sim, PREFIX, routes)


def v1_listing(
    request: SimRequest,
    site: Site,
    results: list,
    *,
    start: int,
    limit: int,
    more: bool,
    next_params: dict | None = None,
) -> SimResponse:
    """{results, start, limit, size, _links}; `next` is relative to `_links.base` (the wiki) as in v1."""
    path = request.path[request.path.index("/rest/api") :]
    query = {k: v for k, v in request.query.items() if k not in ("start", "cursor")}
    links = {"base": site.wiki_url, "context": "/wiki", "self": f"{site.wiki_url}{path}"}
    if more:
        params = next_params or {"start": start + limit}
        links["next"] = f"{path}?{urlencode({**query, **{k: [str(v)] for k, v in params.items()}}, doseq=True)}"
    body = {"results": results, "start": start, "limit": limit, "size": len(results), "_links": links}
    return SimResponse.json(body)


def offset_window(request: SimRequest, ids, accept) -> tuple[list[str], int, int, bool]:
    """The accepted ids from `start` on, at most `limit`, and whether more follow (v1's start/limit paging)."""
    start = int(request.arg("start") or 0)
    limit = parse_limit(request, default=25, maximum=V1_MAX_LIMIT)
    taken, seen = [], 0
    for item_id in ids:
        if not accept(item_id):
            continue
        if seen >= start:
            if len(taken) == limit:
                return taken, start, limit, True
            taken.append(item_id)
        seen += 1
    return taken, start, limit, False


def list_spaces(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    keys, types = set(request.args("spaceKey")), set(request.args("type"))
    status = request.arg("status")
    spaces = {s.id: s for s in sim.site_spaces(cloud_id)}

    def accept(space_id: str) -> bool:
        s = spaces[space_id]
        return (
            (not keys or s.key in keys)
            and (not types or s.type in types)
            and (not status or s.status == status)
            and sim.space_visible(s)
        )

    taken, start, limit, more = offset_window(request, list(spaces), accept)
    results = [shapes.space(sim, spaces[i]) for i in taken]
    return v1_listing(request, site, results, start=start, limit=limit, more=more)


def list_content(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    space_keys = request.args("spaceKey")
    scope = tuple(s.id for s in sim.site_spaces(cloud_id) if not space_keys or s.key in space_keys)
    statuses = set(request.args("status") or ["current"])
    content_type = request.arg("type") or "page"
    accept = content_filter(sim, kind=content_type, statuses=statuses, title=request.arg("title"))
    ordered, _ = sim.ordering(scope, "id", kind=content_type)
    taken, start, limit, more = offset_window(request, ordered, accept)
    expand = shapes.parse_expand(request.arg("expand"))
    results = [shapes.content(sim, sim.pages[i], expand) for i in taken]
    return v1_listing(request, site, results, start=start, limit=limit, more=more)


def get_content(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    site_for(sim, request, cloud_id)
    page = sim.pages.get(page_id)
    statuses = set(request.args("status") or ["current", "archived"])
    if page is None or page.cloud_id != cloud_id or page.status not in statuses or not sim.visible(page):
        raise v1_error(404, f"No content found with id: ContentId{{id={page_id}}}", "Not Found")
    return SimResponse.json(shapes.content(sim, page, shapes.parse_expand(request.arg("expand"))))


CQL_MAX_LIMIT = 250
# CQL search caps `limit` silently by what is expanded. Confluence Cloud's reference only says the limit "may be
# restricted by fixed system limits"
# (https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content/#api-wiki-rest-api-content-search-get);
# the figures Atlassian documents are in its knowledge base: "When the "body" expansion is specified, the limit is set
# to 50. If no expansions are specified, results are limited to 1000. And if other expansions besides "body" are
# specified, the limit is set to 200."
# (https://support.atlassian.com/confluence/kb/searching-for-content-with-the-rest-api-and-cql-always-limits-results-to-50/).
# The simulator applies 50 to body expansions and 200 to restriction expansions, and keeps its 250 for the rest
# (the label and attachment listings the connector makes).
CQL_BODY_MAX_LIMIT = 50
CQL_RESTRICTIONS_MAX_LIMIT = 200


def cql_limit_cap(expand: set[str]) -> int:
    if any(item == "body" or item.startswith("body.") for item in expand):
        return CQL_BODY_MAX_LIMIT
    if any("restrictions" in item.split(".") for item in expand):
        return CQL_RESTRICTIONS_MAX_LIMIT
    return CQL_MAX_LIMIT


def search_content(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    text = request.arg("cql") or ""
    try:
        query = cql.parse(text)
    except cql.CQLError:
        raise v1_error(400, f"Could not parse cql : {text}", "Bad Request") from None
    found = [item for item in search.run(sim, cloud_id, query) if sim.visible(_page_of(sim, item))]
    offset = int(decode_cursor(request.arg("cursor")).get("offset", request.arg("start") or 0))
    expand = shapes.parse_expand(request.arg("expand"))
    # Other v1 listings keep the 100 cap.
    limit = parse_limit(request, default=25, maximum=cql_limit_cap(expand))
    window = found[offset : offset + limit]
    results = [
        shapes.attachment(sim, item, expand) if isinstance(item, Attachment) else shapes.content(sim, item, expand)
        for item in window
    ]
    more = offset + limit < len(found)
    next_params = {"cursor": encode_cursor({"offset": offset + limit}), "limit": limit}
    return v1_listing(request, site, results, start=offset, limit=limit, more=more, next_params=next_params)


def _page_of(sim, item):
    return sim.pages[item.page_id] if isinstance(item, Attachment) else item


def list_attachments(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    page = sim.pages.get(page_id)
    if page is None or page.cloud_id != cloud_id or not sim.visible(page):
        raise v1_error(404, f"No content found with id: ContentId{{id={page_id}}}", "Not Found")
    filename, media_type = request.arg("filename"), request.arg("mediaType")

    def accept(attachment_id: str) -> bool:
        attachment = sim.attachments[attachment_id]
        return (filename is None or attachment.title == filename) and (
            media_type is None or attachment.latest.media_type == media_type
        )

    taken, start, limit, more = offset_window(request, page.attachment_ids, accept)
    expand = shapes.parse_expand(request.arg("expand"))
    results = [shapes.attachment(sim, sim.attachments[i], expand) for i in taken]
    return v1_listing(request, site, results, start=start, limit=limit, more=more)


def download_attachment(sim, request: SimRequest, cloud_id: str, page_id: str, attachment_id: str) -> SimResponse:
    """302 to the media host, which needs no bearer: the real one must not be sent the Atlassian token."""
    site_for(sim, request, cloud_id)
    attachment = sim.attachments.get(attachment_id)
    if attachment is None or attachment.page_id != page_id or sim.pages[page_id].cloud_id != cloud_id:
        raise v1_error(404, f"No attachment found with id: {attachment_id}", "Not Found")
    if not sim.visible(sim.pages[page_id]):
        raise v1_error(404, f"No attachment found with id: {attachment_id}", "Not Found")
    wanted = request.arg("version")
    versions = [v for v in attachment.versions if wanted is None or str(v.number) == wanted]
    if not versions:
        raise v1_error(404, f"No version {wanted} of attachment {attachment_id}", "Not Found")
    file_id = versions[-1].file_id
    query = urlencode({"token": media_token(sim, file_id), "name": attachment.title})
    return SimResponse.redirect(f"{request.base_url}/media/{file_id}?{query}")


def media_token(sim, file_id: str) -> str:
    return hmac.new(sim.media_secret.encode(), file_id.encode(), hashlib.sha256).hexdigest()[:32]


def serve_media(sim, request: SimRequest, file_id: str) -> SimResponse:
    if not hmac.compare_digest(request.arg("token", ""), media_token(sim, file_id)):
        raise SimError(403, {"error": "Forbidden"})
    data = sim.read_media(file_id)
    if data is None:
        raise SimError(404, {"error": "Not Found"})
    if request.header("authorization"):
        # Count clients that leak their Atlassian token to the media host, so tests can assert there are none.
        sim.media_requests_with_authorization += 1
    version = next((v for a in sim.attachments.values() for v in a.versions if v.file_id == file_id), None)
    response = SimResponse.binary(data, version.media_type if version else "application/octet-stream")
    name = request.arg("name") or file_id
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
