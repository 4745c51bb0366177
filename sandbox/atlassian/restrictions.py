"""Page restrictions, groups and space access: who may see what, and the v1 content-restriction endpoints.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions/
and https://support.atlassian.com/confluence-cloud/docs/what-are-page-restrictions/

A page's read (view) restriction applies to the page and its whole subtree: someone sees a page only when every
read-restricted page on its way up (itself included) names them, directly or through a group. The restriction
endpoints and the `restrictions` expansion list the restrictions set on the page itself, never inherited ones
("List all restrictions that exist directly on the given content", ContentRestrictionService), so a client must
combine a page's with its ancestors'.

Every API request is answered as the account behind its bearer token sees the site (`viewer`): what it may not read
is missing from listings and searches and answers 404 when asked for by id, as Confluence does. A Forge system token
stands for the app, which no restriction names. Python callers (tests, the manage pages, the seed) see everything.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial

from sandbox.atlassian import events
from sandbox.atlassian import v1_shapes as shapes
from sandbox.atlassian.models import Group, Page, Space
from sandbox.atlassian.pagination import parse_limit, v1_error
from sandbox.core import SimError, SimRequest, SimResponse

OPERATIONS = ("read", "update")
SUBJECT_KINDS = ("user", "group")
# What Python callers see: everything. Requests set the viewer to their token's account ("" for the app).
EVERYONE = None
# The subject lists of GET /restriction and /byOperation/{op} page by this many by default, as the real endpoints.
SUBJECTS_DEFAULT_LIMIT = 100
PREFIX = r"/api/ex/confluence/(?P<cloud_id>[^/]+)/wiki/rest/api/content/(?P<page_id>\d+)/restriction"
WRITE_SCOPES = {"write:confluence-content", "write:content.restriction:confluence"}


class RestrictionsMixin:
    viewer: str | None = EVERYONE

    # Groups ------------------------------------------------------------------------------------------------

    def create_group(self, name: str, *, members: tuple[str, ...] | list[str] = (), group_id: str = "") -> Group:
        with self.lock:
            if not name:
                raise ValueError("a group needs a name")
            if self.group_named(name):
                raise ValueError(f"a group named {name} exists already")
            group = Group(id=group_id or self.new_uuid(), name=name, member_ids=list(dict.fromkeys(members)))
            self.groups[group.id] = group
            return group

    def add_group_member(self, group: str, account_id: str) -> None:
        with self.lock:
            found = self.group_for(group)
            if account_id not in found.member_ids:
                found.member_ids.append(account_id)

    def group_named(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    def group_for(self, id_or_name: str) -> Group:
        """A group by id or by name (restrictions accept either); KeyError otherwise."""
        found = self.groups.get(id_or_name) or self.group_named(id_or_name)
        if found is None:
            raise KeyError(f"no group {id_or_name}")
        return found

    # Page restrictions -------------------------------------------------------------------------------------

    def restrict_page(
        self,
        page_id: str,
        *,
        operation: str = "read",
        users: tuple[str, ...] | list[str] = (),
        groups: tuple[str, ...] | list[str] = (),
        emit: bool = True,
    ) -> Page:
        """Add users (account ids) and groups (ids or names) to one of the page's restrictions."""
        with self.lock:
            page = self.pages[page_id]
            if operation not in OPERATIONS:
                raise ValueError(f"unknown operation {operation}")
            if not users and not groups:
                raise ValueError("a restriction names at least one user or group")
            subjects = page.restrictions.setdefault(operation, {"user": [], "group": []})
            for account_id in users:
                if account_id not in self.users:
                    raise KeyError(f"no user {account_id}")
                if account_id not in subjects["user"]:
                    subjects["user"].append(account_id)
            for group in groups:
                group_id = self.group_for(group).id
                if group_id not in subjects["group"]:
                    subjects["group"].append(group_id)
            self._restrictions_changed(page, emit)
            return page

    def unrestrict_page(
        self,
        page_id: str,
        *,
        operation: str | None = None,
        users: tuple[str, ...] | list[str] | None = None,
        groups: tuple[str, ...] | list[str] | None = None,
        emit: bool = True,
    ) -> Page:
        """Remove some subjects from a restriction, or (naming none) the restriction itself; every one by default."""
        with self.lock:
            page = self.pages[page_id]
            for op in [operation] if operation else list(OPERATIONS):
                subjects = page.restrictions.get(op)
                if subjects is None:
                    continue
                if users is None and groups is None:
                    del page.restrictions[op]
                    continue
                removed_groups = {self.group_for(g).id for g in groups or ()}
                subjects["user"] = [u for u in subjects["user"] if u not in set(users or ())]
                subjects["group"] = [g for g in subjects["group"] if g not in removed_groups]
                if not subjects["user"] and not subjects["group"]:
                    del page.restrictions[op]
            self._restrictions_changed(page, emit)
            return page

    def replace_restrictions(self, page_id: str, restrictions: dict, *, emit: bool = True) -> Page:
        """What PUT /restriction does: these restrictions instead of the page's."""
        with self.lock:
            page = self.pages[page_id]
            page.restrictions = {}
            for operation, subjects in restrictions.items():
                if subjects.get("user") or subjects.get("group"):
                    self.restrict_page(page.id, operation=operation, emit=False, **_as_lists(subjects))
            self._restrictions_changed(page, emit)
            return page

    def read_restricted(self, page: Page) -> bool:
        """Whether the page itself carries a read restriction."""
        return bool(page.restrictions.get("read"))

    def restricted_by(self, page: Page) -> list[Page]:
        """The read-restricted pages a page inherits from, itself included, top first: empty when unrestricted."""
        return [p for p in [*self.ancestors(page), page] if self.read_restricted(p)]

    def can_read(self, account_id: str, page: Page) -> bool:
        """Whether this account sees the page: space access, then every read restriction on its way up."""
        if account_id in self.spaces[page.space_id].denied_account_ids:
            return False
        ids = self._read_restricted_ids()
        if not ids:
            return True
        chain = [page, *self.ancestors(page)] if page.parent_id else [page]
        return all(self._named(account_id, p.restrictions["read"]) for p in chain if p.id in ids)

    def subject_applies(self, page: Page, operation: str, *, account_id: str = "", group_id: str = "") -> bool:
        """Whether the page's own `operation` restriction names this user or group (what the status endpoints say)."""
        subjects = page.restrictions.get(operation, {})
        return account_id in subjects.get("user", ()) if account_id else group_id in subjects.get("group", ())

    # Space access ------------------------------------------------------------------------------------------

    def revoke_space_access(self, cloud_id: str, key: str, account_id: str, *, emit: bool = True) -> Space:
        """Take the account out of the space's permissions: the space and everything in it answer it 404."""
        with self.lock:
            space = self._space(cloud_id, key)
            if account_id not in space.denied_account_ids:
                space.denied_account_ids.append(account_id)
            self._space_permissions_changed(space, emit)
            return space

    def grant_space_access(self, cloud_id: str, key: str, account_id: str, *, emit: bool = True) -> Space:
        with self.lock:
            space = self._space(cloud_id, key)
            if account_id in space.denied_account_ids:
                space.denied_account_ids.remove(account_id)
            self._space_permissions_changed(space, emit)
            return space

    # What the current request may see ----------------------------------------------------------------------

    def viewer_for(self, token) -> str:
        """The account a token acts as; "" for the Forge app's system token."""
        return self.grants[token.grant_id].account_id if token.kind == "access" else ""

    def visible(self, page: Page) -> bool:
        return self.viewer is EVERYONE or self.can_read(self.viewer, page)

    def space_visible(self, space: Space) -> bool:
        return self.viewer is EVERYONE or self.viewer not in space.denied_account_ids

    def _dispatch(self, request: SimRequest) -> SimResponse:
        # Handlers set the viewer once they know the token; nothing outlives the request.
        try:
            return super()._dispatch(request)
        finally:
            self.viewer = EVERYONE

    # Internals ---------------------------------------------------------------------------------------------

    def _named(self, account_id: str, subjects: dict[str, list[str]]) -> bool:
        if account_id and account_id in subjects.get("user", ()):
            return True
        groups = (self.groups.get(g) for g in subjects.get("group", ()))
        return any(g is not None and account_id and account_id in g.member_ids for g in groups)

    def _read_restricted_ids(self) -> set[str]:
        """Ids of read-restricted pages, cached until restrictions change or the world is restored."""
        cached = self.__dict__.get("_read_restricted")
        if cached is None or cached[0] is not self.pages:
            ids = {p.id for p in self.pages.values() if p.restrictions.get("read")}
            cached = self.__dict__["_read_restricted"] = (self.pages, ids)
        return cached[1]

    def _restrictions_changed(self, page: Page, emit: bool) -> None:
        self.__dict__.pop("_read_restricted", None)
        if emit:
            payload = events.page_event(self, events.content(self, page))
            self.emit_event("avi:confluence:permissions_updated:page", page.cloud_id, payload)

    def _space_permissions_changed(self, space: Space, emit: bool) -> None:
        if emit:
            payload = events.space_event(self, space)
            self.emit_event("avi:confluence:permissions_updated:space:V2", space.cloud_id, payload)

    def _space(self, cloud_id: str, key: str) -> Space:
        space = self.space_by_key(cloud_id, key)
        if space is None:
            raise KeyError(f"no space {key}")
        return space


def _as_lists(subjects: dict) -> dict:
    return {"users": list(subjects.get("user", ())), "groups": list(subjects.get("group", ()))}


# Shapes -----------------------------------------------------------------------------------------------------


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
    listing = {"results": window, "start": start, "limit": limit, "size": len(window)}
    if total:
        listing["totalSize"] = len(items)
    listing["_links"] = {}
    return listing


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
        sim.restrict_page(page.id, operation=operation, emit=False, **_as_lists(subjects))
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
