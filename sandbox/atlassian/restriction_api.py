"""The v1 content-restriction endpoints and the `restrictions` expansion: the restrictions set on the page itself.

Who may see what is `RestrictionsMixin`'s (restrictions.py).
Reference: https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions/
"""

from __future__ import annotations

import hashlib
import json
from functools import partial

from sandbox.atlassian import v1_shapes as shapes
from sandbox.atlassian.models import Page
from sandbox.atlassian.pagination import parse_limit, v1_error
from sandbox.atlassian.restrictions import OPERATIONS, subject_lists
from sandbox.core import SimError, SimRequest, SimResponse

# The subject lists of GET /restriction and /byOperation/{op} page by this many by default, as the real endpoints.
SUBJECTS_DEFAULT_LIMIT = 100
PREFIX = r"/api/ex/confluence/(?P<cloud_id>[^/]+)/wiki/rest/api/content/(?P<page_id>\d+)/restriction"
WRITE_SCOPES = {"write:confluence-content", "write:content.restriction:confluence"}


def group_shape(sim, group_id: str) -> dict:
    """A group as restrictions list it; a deleted group keeps its id (Confluence keeps such restrictions)."""
    group = sim.groups.get(group_id)
    site = next(iter(sim.sites.values()), None)
    return {
        "type": "group",
        "name": group.name if group else group_id,
        "id": group_id,
        "usageType": "USERBASE_GROUP",
        "managedBy": "ADMINS",
        "_links": {"self": f"{site.wiki_url if site else ''}/rest/api/group/by-id?id={group_id}"},
    }


def subject_listing(items: list[dict], *, start: int = 0, limit: int = 200, total: bool = False) -> dict:
    window = items[start : start + limit]
    listing = {"results": window, "start": start, "limit": limit, "size": len(window), "_links": {}}
    return {**listing, "totalSize": len(items)} if total else listing


def operation_shape(sim, page: Page, operation: str, expand: set[str], *, start: int = 0, limit: int = 200) -> dict:
    """One ContentRestriction: {operation, restrictions: {user, group}, content?, _expandable, _links}.

    `expand` is relative to the operation: "restrictions.user", "restrictions.group", "content".
    """
    wiki = sim.sites[page.cloud_id].wiki_url
    base = f"/rest/api/content/{page.id}/restriction/byOperation/{operation}"
    subjects = page.restrictions.get(operation, {})
    data: dict = {"operation": operation, "_expandable": {}}
    if "restrictions" in expand:
        restrictions: dict = {"_expandable": {}}
        if "restrictions.user" in expand:
            users = [shapes.user(sim, account_id) for account_id in subjects.get("user", ())]
            restrictions["user"] = subject_listing(users, start=start, limit=limit, total=True)
        else:
            restrictions["_expandable"]["user"] = f"{base}/user"
        if "restrictions.group" in expand:
            groups = [group_shape(sim, group_id) for group_id in subjects.get("group", ())]
            restrictions["group"] = subject_listing(groups, start=start, limit=limit)
        else:
            restrictions["_expandable"]["group"] = f"{base}/group"
        if not restrictions["_expandable"]:
            del restrictions["_expandable"]
        data["restrictions"] = restrictions
    else:
        data["_expandable"]["restrictions"] = ""
    if "content" in expand:
        data["content"] = shapes.content(sim, page, set())
    else:
        data["_expandable"]["content"] = f"/rest/api/content/{page.id}"
    data["_links"] = {"self": f"{wiki}{base}"}
    return data


def content_restrictions(sim, page: Page, expand: set[str]) -> dict:
    """The `restrictions` expansion of v1 content: `read` and `update` when expanded, else under `_expandable`."""
    wiki = sim.sites[page.cloud_id].wiki_url
    data: dict = {}
    expandable = {}
    for operation in OPERATIONS:
        prefix = f"restrictions.{operation}"
        if prefix in expand:
            data[operation] = operation_shape(sim, page, operation, _below(expand, prefix))
        else:
            expandable[operation] = f"/rest/api/content/{page.id}/restriction/byOperation/{operation}"
    data["_expandable"] = expandable
    data["_links"] = {"self": f"{wiki}/rest/api/content/{page.id}/restriction/byOperation"}
    return data


def _below(expand: set[str], prefix: str) -> set[str]:
    return {e[len(prefix) + 1 :] for e in expand if e.startswith(prefix + ".")}


# Endpoints --------------------------------------------------------------------------------------------------


def register(sim) -> None:
    routes = [
        ("GET", "", get_restrictions),
        ("PUT", "", update_restrictions),
        ("POST", "", add_restrictions),
        ("DELETE", "", delete_restrictions),
        ("GET", "/byOperation", by_operation),
        ("GET", r"/byOperation/(?P<operation>\w+)", for_operation),
        ("GET", r"/byOperation/(?P<operation>\w+)/user", user_status),
        ("PUT", r"/byOperation/(?P<operation>\w+)/user", add_user),
        ("DELETE", r"/byOperation/(?P<operation>\w+)/user", remove_user),
        ("GET", r"/byOperation/(?P<operation>\w+)/byGroupId/(?P<group>[^/]+)", group_status),
        ("PUT", r"/byOperation/(?P<operation>\w+)/byGroupId/(?P<group>[^/]+)", add_group),
        ("DELETE", r"/byOperation/(?P<operation>\w+)/byGroupId/(?P<group>[^/]+)", remove_group),
        # The older by-name forms, deprecated but still served.
        ("GET", r"/byOperation/(?P<operation>\w+)/group/(?P<group>[^/]+)", group_status),
        ("PUT", r"/byOperation/(?P<operation>\w+)/group/(?P<group>[^/]+)", add_group),
        ("DELETE", r"/byOperation/(?P<operation>\w+)/group/(?P<group>[^/]+)", remove_group),
    ]
    for method, path, handler in routes:
        sim.route(method, PREFIX + path, partial(handler, sim))


def _page(sim, request: SimRequest, cloud_id: str, page_id: str, *, write: bool = False) -> Page:
    """The page, if the token's account may see it (404 otherwise, as for missing content)."""
    token = sim.check_bearer(request, cloud_id)
    sim.viewer = sim.viewer_for(token)
    page = sim.pages.get(page_id)
    if page is None or page.cloud_id != cloud_id or not sim.visible(page) or page.status == "trashed":
        raise v1_error(404, f"No content found with id: ContentId{{id={page_id}}}", "Not Found")
    if write and token.kind == "access" and not WRITE_SCOPES & set(sim.grants[token.grant_id].scopes):
        raise SimError(403, {"code": 403, "message": "Unauthorized; scope does not match"})
    return page


def _operation(operation: str) -> str:
    if operation not in OPERATIONS:
        raise v1_error(400, f"Invalid operation key: {operation}", "Bad Request")
    return operation


def _expand(request: SimRequest, default: str) -> set[str]:
    return shapes.parse_expand(request.arg("expand") or default)


def _array(sim, request: SimRequest, page: Page) -> SimResponse:
    """ContentRestrictionArray: {results: [read, update], start, limit, size, restrictionsHash, _links}."""
    expand = _expand(request, "restrictions.user,restrictions.group")
    start = int(request.arg("start") or 0)
    limit = parse_limit(request, default=SUBJECTS_DEFAULT_LIMIT, maximum=SUBJECTS_DEFAULT_LIMIT)
    results = [operation_shape(sim, page, op, expand, start=start, limit=limit) for op in OPERATIONS]
    wiki = sim.sites[page.cloud_id].wiki_url
    digest = hashlib.sha256(json.dumps(page.restrictions, sort_keys=True).encode()).hexdigest()
    body = {
        "results": results,
        "start": start,
        "limit": limit,
        "size": len(results),
        "restrictionsHash": digest,
        "_links": {"base": wiki, "context": "/wiki", "self": f"{wiki}/rest/api/content/{page.id}/restriction"},
    }
    return SimResponse.json(body)


def get_restrictions(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    return _array(sim, request, _page(sim, request, cloud_id, page_id))


def _requested(sim, request: SimRequest) -> dict[str, dict[str, list[str]]]:
    """The body of PUT/POST /restriction: {"results": [...]} or a bare array of ContentRestrictionUpdate."""
    try:
        body = request.json()
    except ValueError:
        raise v1_error(400, "The request body is not JSON", "Bad Request") from None
    items = body.get("results") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise v1_error(400, "Expected a list of restrictions", "Bad Request")
    wanted: dict[str, dict[str, list[str]]] = {}
    for item in items:
        operation = _operation(str((item or {}).get("operation")))
        subjects = item.get("restrictions") or {}
        users = [u.get("accountId") for u in subjects.get("user") or [] if isinstance(u, dict)]
        groups = [g.get("id") or g.get("name") for g in subjects.get("group") or [] if isinstance(g, dict)]
        if not all(users) or not all(groups) or not (users or groups):
            raise v1_error(400, "Each restriction names users by accountId and groups by id or name", "Bad Request")
        unknown = [u for u in users if u not in sim.users] + [g for g in groups if not _group_exists(sim, g)]
        if unknown:
            raise v1_error(400, f"Unknown user or group: {unknown[0]}", "Bad Request")
        entry = wanted.setdefault(operation, {"user": [], "group": []})
        entry["user"] += users
        entry["group"] += [sim.group_for(g).id for g in groups]
    return wanted


def _group_exists(sim, id_or_name: str) -> bool:
    return id_or_name in sim.groups or sim.group_named(id_or_name) is not None


def update_restrictions(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    sim.replace_restrictions(page.id, _requested(sim, request))
    return _array(sim, request, page)


def add_restrictions(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    wanted = _requested(sim, request)
    for operation, subjects in wanted.items():
        sim.restrict_page(page.id, operation=operation, emit=False, **subject_lists(subjects))
    sim._restrictions_changed(page, emit=True)
    return _array(sim, request, page)


def delete_restrictions(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    sim.unrestrict_page(page.id)
    return _array(sim, request, page)


def by_operation(sim, request: SimRequest, cloud_id: str, page_id: str) -> SimResponse:
    """{"read": ContentRestriction, "update": ContentRestriction, "_links": …}: users and groups expanded by default."""
    page = _page(sim, request, cloud_id, page_id)
    expand = _expand(request, "restrictions.user,restrictions.group")
    wiki = sim.sites[page.cloud_id].wiki_url
    body: dict = {op: operation_shape(sim, page, op, expand) for op in OPERATIONS}
    body["_links"] = {
        "base": wiki,
        "context": "/wiki",
        "self": f"{wiki}/rest/api/content/{page.id}/restriction/byOperation",
    }
    return SimResponse.json(body)


def for_operation(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id)
    expand = _expand(request, "restrictions.user,restrictions.group")
    start = int(request.arg("start") or 0)
    limit = parse_limit(request, default=SUBJECTS_DEFAULT_LIMIT, maximum=SUBJECTS_DEFAULT_LIMIT)
    return SimResponse.json(operation_shape(sim, page, _operation(operation), expand, start=start, limit=limit))


def _account_of(request: SimRequest) -> str:
    account_id = request.arg("accountId") or ""
    if not account_id:
        raise v1_error(400, "accountId is required (username and key are not supported in Cloud)", "Bad Request")
    return account_id


def user_status(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str) -> SimResponse:
    """200 with no body when the page's own restriction names the user, 404 otherwise (inherited ones ignored)."""
    page = _page(sim, request, cloud_id, page_id)
    if not sim.subject_applies(page, _operation(operation), account_id=_account_of(request)):
        raise v1_error(404, "The restriction does not apply to this user", "Not Found")
    return SimResponse(200)


def add_user(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    account_id = _account_of(request)
    if account_id not in sim.users:
        raise v1_error(400, f"No user with accountId {account_id}", "Bad Request")
    sim.restrict_page(page.id, operation=_operation(operation), users=[account_id])
    return SimResponse(200)


def remove_user(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    account_id = _account_of(request)
    if not sim.subject_applies(page, _operation(operation), account_id=account_id):
        raise v1_error(404, "The restriction does not apply to this user", "Not Found")
    sim.unrestrict_page(page.id, operation=operation, users=[account_id])
    return SimResponse(200)


def _group_id(sim, group: str) -> str:
    return sim.group_for(group).id if _group_exists(sim, group) else group


def group_status(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str, group: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id)
    if not sim.subject_applies(page, _operation(operation), group_id=_group_id(sim, group)):
        raise v1_error(404, "The restriction does not apply to this group", "Not Found")
    return SimResponse(200)


def add_group(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str, group: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    if not _group_exists(sim, group):
        raise v1_error(400, f"No group {group}", "Bad Request")
    sim.restrict_page(page.id, operation=_operation(operation), groups=[group])
    return SimResponse(200)


def remove_group(sim, request: SimRequest, cloud_id: str, page_id: str, operation: str, group: str) -> SimResponse:
    page = _page(sim, request, cloud_id, page_id, write=True)
    if not sim.subject_applies(page, _operation(operation), group_id=_group_id(sim, group)):
        raise v1_error(404, "The restriction does not apply to this group", "Not Found")
    sim.unrestrict_page(page.id, operation=operation, groups=[group])
    return SimResponse(200)
