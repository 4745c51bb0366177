"""Confluence Cloud REST v2 blog posts under /api/ex/confluence/{cloudId}/wiki/api/v2: `GET /blogposts` (by id, by
space), `/blogposts/{id}`, `/spaces/{id}/blogposts` and what hangs off a post (labels, attachments).

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-blog-post/ — statuses current,
deleted, trashed (draft is not simulated); the page endpoints never answer with a blog post, nor these with a page.
"""

from __future__ import annotations

from sandbox.atlassian import v2_shapes as shapes
from sandbox.atlassian.confluence_v2 import (
    PAGE_SORTS,
    PREFIX,
    at_requested_version,
    ids_and_space_ids,
    list_attachments,
    list_labels,
    page_filter,
    page_for,
    paginate,
    route_gets,
    site_for,
    small_ordering,
    sort_of,
    statuses_of,
)
from sandbox.atlassian.pagination import v2_error
from sandbox.core import SimRequest, SimResponse

POST_STATUSES = ("current", "deleted", "trashed")


def register(sim) -> None:
    routes = {
        "/blogposts": list_blogposts,
        r"/blogposts/(?P<post_id>\d+)": get_blogpost,
        r"/spaces/(?P<space_id>\d+)/blogposts": list_space_blogposts,
        r"/blogposts/(?P<post_id>\d+)/labels": post_labels,
        r"/blogposts/(?P<post_id>\d+)/attachments": post_attachments,
    }
    route_gets(sim, PREFIX, routes)


def post_filter(sim, request: SimRequest):
    return page_filter(sim, request, kind="blogpost", allowed=POST_STATUSES)


def renderer(sim, request: SimRequest):
    body_format = request.arg("body-format")
    return lambda post_id: shapes.blogpost(sim, sim.pages[post_id], body_format=body_format)


def list_blogposts(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    post_ids, space_ids = ids_and_space_ids(request)
    sort = sort_of(request, PAGE_SORTS, "id")
    scope = tuple(s.id for s in sim.site_spaces(cloud_id) if not space_ids or s.id in space_ids)
    if post_ids:
        found = [p for p in dict.fromkeys(post_ids) if p in sim.pages and sim.pages[p].space_id in scope]
        ordered, index = small_ordering(sorted(found, key=int, reverse=sort.startswith("-")))
    else:
        ordered, index = sim.ordering(scope, sort, kind="blogpost")
    return paginate(request, site, cloud_id, ordered, index, post_filter(sim, request), renderer(sim, request))


def list_space_blogposts(sim, request: SimRequest, cloud_id: str, space_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    space = sim.spaces.get(space_id)
    if space is None or space.cloud_id != cloud_id or not sim.space_visible(space):
        raise v2_error(404, "NOT_FOUND", "Not Found")
    ordered, index = sim.ordering((space_id,), sort_of(request, PAGE_SORTS, "id"), kind="blogpost")
    return paginate(request, site, cloud_id, ordered, index, post_filter(sim, request), renderer(sim, request))


def get_blogpost(sim, request: SimRequest, cloud_id: str, post_id: str) -> SimResponse:
    site = site_for(sim, request, cloud_id)
    statuses = statuses_of(request, allowed=(*POST_STATUSES, "historical", "draft"), default=("current",))
    post = at_requested_version(page_for(sim, cloud_id, post_id, statuses, kind="blogpost"), request)
    data = shapes.blogpost(sim, post, body_format=request.arg("body-format"))
    data["_links"]["base"] = site.wiki_url
    return SimResponse.json(data)


def post_labels(sim, request: SimRequest, cloud_id: str, post_id: str) -> SimResponse:
    return list_labels(sim, request, cloud_id, post_id, kind="blogpost")


def post_attachments(sim, request: SimRequest, cloud_id: str, post_id: str) -> SimResponse:
    return list_attachments(sim, request, cloud_id, post_id, kind="blogpost")
