"""Page restrictions, groups and space access: who may see what.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions/
and https://support.atlassian.com/confluence-cloud/docs/what-are-page-restrictions/

A page's read (view) restriction applies to the page and its whole subtree: someone sees a page only when every
read-restricted page on its way up (itself included) names them, directly or through a group. The restriction
endpoints and the `restrictions` expansion list the restrictions set on the page itself, never inherited ones
("List all restrictions that exist directly on the given content", ContentRestrictionService), so a client must
combine a page's with its ancestors'.

`RestrictionsMixin` is the simulator's Python API for them, and decides what each request's viewer may see;
restriction_api.py serves the v1 content-restriction endpoints.

Every API request is answered as the account behind its bearer token sees the site (`viewer`): what it may not read
is missing from listings and searches and answers 404 when asked for by id, as Confluence does. A Forge system token
stands for the app, which no restriction names. Python callers (tests, the manage pages, the seed) see everything.
"""

from __future__ import annotations

from sandbox.atlassian import events
from sandbox.atlassian.models import Group, Page, Space
from sandbox.core import SimRequest, SimResponse

OPERATIONS = ("read", "update")
# What Python callers see: everything. Requests set the viewer to their token's account ("" for the app).
EVERYONE = None


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
                    self.restrict_page(page.id, operation=operation, emit=False, **subject_lists(subjects))
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
            space = self.existing_space(cloud_id, key)
            if account_id not in space.denied_account_ids:
                space.denied_account_ids.append(account_id)
            self._space_permissions_changed(space, emit)
            return space

    def grant_space_access(self, cloud_id: str, key: str, account_id: str, *, emit: bool = True) -> Space:
        with self.lock:
            space = self.existing_space(cloud_id, key)
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


def subject_lists(subjects: dict) -> dict:
    """`{"user": [...], "group": [...]}` as the keyword arguments of `restrict_page`."""
    return {"users": list(subjects.get("user", ())), "groups": list(subjects.get("group", ()))}
