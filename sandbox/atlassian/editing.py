"""The Python API that changes the simulated Confluence, emitting the Forge event each change would cause."""

from __future__ import annotations

import re
from dataclasses import asdict

from sandbox.atlassian import events
from sandbox.atlassian.models import Page, Site, Space, User, Version

PAGE_STATUSES = ("current", "archived", "draft")
# Confluence Cloud: a space key "Can contain any alphanumeric character (a-z, 0-9)" and "Can be up to 255 characters
# long" (https://support.atlassian.com/confluence-cloud/docs/choose-a-space-key/). Personal spaces get a generated key
# instead: "~" and letters and digits.
SPACE_KEY_MAX_LENGTH = 255
_SPACE_KEY = re.compile(r"[A-Za-z0-9]+")
_PERSONAL_SPACE_KEY = re.compile(r"~[A-Za-z0-9]+")


def space_key_problem(key: str, *, personal: bool = False) -> str:
    """Why Confluence would refuse `key` for a new space, or "" if it would take it."""
    if not key:
        return "A space key is required."
    if len(key) > SPACE_KEY_MAX_LENGTH:
        return f"A space key can be at most {SPACE_KEY_MAX_LENGTH} characters long."
    if personal and not _PERSONAL_SPACE_KEY.fullmatch(key):
        return "A personal space key is ~ followed by letters and digits."
    if not personal and not _SPACE_KEY.fullmatch(key):
        return "A space key can only contain letters and digits (A-Z, a-z, 0-9)."
    return ""


class EditingMixin:
    # Sites and users --------------------------------------------------------------------------------------

    def create_site(self, *, name: str, url: str | None = None, cloud_id: str | None = None) -> Site:
        with self.lock:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "site"
            site = Site(cloud_id=cloud_id or self.new_uuid(), name=name, url=(url or f"https://{slug}.atlassian.net"))
            site.url = site.url.rstrip("/")
            self.sites[site.cloud_id] = site
            return site

    def create_user(self, *, account_id: str | None = None, name: str = "Sandbox User", email: str = "") -> User:
        with self.lock:
            account_id = account_id or f"557058:{self.new_uuid()}"
            user = User(account_id=account_id, name=name, email=email or f"{account_id.split(':')[-1][:8]}@example.com")
            self.users[account_id] = user
            self.mark_changed()  # also made on demand by a read (`default_user` on the authorize page)
            return user

    def default_user(self) -> User:
        """The signed-in user of the authorize page and the author of changes: the first user, made on demand."""
        if not self.users:
            self.create_user(
                account_id="557058:00000000-0000-4000-8000-000000000001",
                name="Sandbox User",
                email="sandbox.user@example.com",
            )
        return next(iter(self.users.values()))

    # Spaces -----------------------------------------------------------------------------------------------

    def create_space(
        self, cloud_id: str, *, key: str, name: str, type: str = "global", emit: bool = True, homepage: bool = True
    ) -> Space:
        """A space and, like the real product, its homepage (a root page titled like the space)."""
        with self.lock:
            if cloud_id not in self.sites:
                raise KeyError(f"no site {cloud_id}")
            problem = space_key_problem(key, personal=type == "personal")
            if problem:
                raise ValueError(problem)
            if self.space_by_key(cloud_id, key):
                raise ValueError(f"space key {key} already exists")
            author = self.default_user().account_id
            space = Space(
                id=self.new_id(),
                cloud_id=cloud_id,
                key=key,
                name=name,
                type=type,
                author_id=author,
                created_at=self.clock.tick(),
            )
            self.spaces[space.id] = space
            self.space_ids_by_key[(cloud_id, key)] = space.id
            self.space_page_ids[space.id] = []
            if homepage:
                body = f"<p>Welcome to {name}.</p>"
                space.homepage_id = self.create_page(cloud_id, space_key=key, title=name, body=body, emit=False).id
            if emit:
                self.emit_event("avi:confluence:created:space:V2", cloud_id, events.space_event(self, space))
            return space

    def update_space(
        self, cloud_id: str, key: str, *, name: str | None = None, description: str | None = None, emit: bool = True
    ) -> Space:
        with self.lock:
            space = self.existing_space(cloud_id, key)
            space.name = space.name if name is None else name
            space.description = space.description if description is None else description
            if emit:
                self.emit_event("avi:confluence:updated:space:V2", cloud_id, events.space_event(self, space))
            return space

    def delete_space(self, cloud_id: str, key: str, emit: bool = True) -> None:
        """Deleting a space purges its pages without per-page events, as the real product does."""
        with self.lock:
            space = self.existing_space(cloud_id, key)
            payload = events.space_event(self, space)
            for page_id in [str(i) for ids in self.space_content(space.id) for i in ids]:
                self._forget_page(self.pages[page_id])
            del self.spaces[space.id], self.space_ids_by_key[(cloud_id, key)], self.space_page_ids[space.id]
            self.space_post_ids.pop(space.id, None), self.space_folder_ids.pop(space.id, None)
            self.changed()
            if emit:
                self.emit_event("avi:confluence:deleted:space:V2", cloud_id, payload)

    # Pages ------------------------------------------------------------------------------------------------

    def new_content(self, space, *, title: str, body: str, author: str, at: int, **fields) -> Page:
        """A new content item of `space` (a page, blog post, folder…) at version 1, kept in `pages`; the caller
        places it in the tree and its listings."""
        item = Page(
            id=self.new_id(),
            cloud_id=space.cloud_id,
            space_id=space.id,
            title=title,
            body=body,
            author_id=author,
            created_at=at,
            version=Version(1, at, author),
            **fields,
        )
        self.pages[item.id] = item
        return item

    def create_page(
        self,
        cloud_id: str,
        *,
        space_key: str,
        title: str,
        body: str,
        parent_id: str | None = None,
        author_id: str | None = None,
        labels: tuple[str, ...] | list[str] = (),
        status: str = "current",
        emit: bool = True,
    ) -> Page:
        with self.lock:
            space = self.existing_space(cloud_id, space_key)
            if status not in PAGE_STATUSES:
                raise ValueError(f"cannot create a page with status {status}")
            if parent_id and self.pages[parent_id].space_id != space.id:
                raise ValueError("the parent page is in another space")
            author = author_id or self.default_user().account_id
            now = self.clock.tick()
            page = self.new_content(space, title=title, body=body, author=author, at=now, status=status)
            self._attach(page, parent_id or None, None)
            self.index_page(page)
            for label in labels:
                # Part of the creation: the created:page event below tells about the page, labels and all.
                self.add_label(page.id, label, emit=False)
            if emit and status == "current":
                self._emit_page("created", page)
            return page

    def update_page(
        self,
        page_id: str,
        *,
        body: str | None = None,
        title: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        emit: bool = True,
    ) -> Page:
        """A new version: a body edit, a rename, or both."""
        with self.lock:
            page = self.pages[page_id]
            page.history.append({"version": asdict(page.version), "title": page.title, "body": page.body})
            page.body = page.body if body is None else body
            page.title = page.title if title is None else title
            author = self.default_user().account_id
            page.version = Version(page.version.number + 1, self.clock.tick(), author, message, minor_edit)
            self.changed()
            if emit:
                self._emit_page("updated", page, updateTrigger="edit_page")
            return page

    def rename_page(self, page_id: str, title: str, *, emit: bool = True) -> Page:
        return self.update_page(page_id, title=title, emit=emit)

    def move_page(
        self,
        page_id: str,
        *,
        parent_id: str | None = None,
        space_key: str | None = None,
        position: int | None = None,
        emit: bool = True,
    ) -> Page:
        """Move under another parent (or to the root) of this or another space; descendants follow."""
        with self.lock:
            page = self.pages[page_id]
            before = events.content(self, page)
            space = self.existing_space(page.cloud_id, space_key) if space_key else self.spaces[page.space_id]
            if parent_id and (parent_id == page_id or page in self.ancestors(self.pages[parent_id])):
                raise ValueError("cannot move a page below itself")
            if parent_id and self.pages[parent_id].space_id != space.id:
                raise ValueError("the new parent is in another space")
            self._detach(page)
            self._attach(page, parent_id or None, position)
            if space.id != page.space_id:
                for moved in [page, *self.descendants(page)]:
                    self.unindex_page(moved)
                    moved.space_id = space.id
                    self.index_page(moved)
            self.changed()
            if emit:
                self._emit_page("moved", page, prevContent=before)
            return page

    def trash_page(self, page_id: str, *, emit: bool = True) -> Page:
        """To the space's trash. Its children move up to its parent, as when deleting only the page in the UI."""
        with self.lock:
            self._lift_children(self.pages[page_id])
            return self._set_status(page_id, "trashed", "trashed", emit)

    def restore_page(self, page_id: str, *, emit: bool = True) -> Page:
        with self.lock:
            page = self.pages[page_id]
            if page.status != "trashed":
                raise ValueError("only trashed pages can be restored")
            if page.parent_id and self.pages.get(page.parent_id, page).status == "trashed":
                self._detach(page)
                self._attach(page, None, None)
            return self._set_status(page_id, "current", "restored", emit)

    def purge_page(self, page_id: str, *, emit: bool = True) -> None:
        """Gone for good: the API answers 404 from now on."""
        with self.lock:
            page = self.pages[page_id]
            payload = events.content(self, page)
            payload["status"] = "deleted"
            self._lift_children(page)
            self._forget_page(page)
            if emit:
                self.emit_event(f"avi:confluence:deleted:{page.type}", page.cloud_id, events.page_event(self, payload))

    def archive_page(self, page_id: str, *, emit: bool = True) -> Page:
        return self._set_status(page_id, "archived", "archived", emit)

    def unarchive_page(self, page_id: str, *, emit: bool = True) -> Page:
        return self._set_status(page_id, "current", "unarchived", emit)

    # Labels -------------------------------------------------------------------------------------

    def add_label(self, page_id: str, name: str, *, emit: bool = True) -> None:
        """Label a page (no new version, as in Confluence); a label it already carries changes nothing."""
        with self.lock:
            page = self.pages[page_id]
            if not name:
                raise ValueError("a label needs a name")
            self.label_ids.setdefault(name, self.new_id())
            if name in page.labels:
                return
            page.labels.append(name)
            if emit:
                self.emit_event("avi:confluence:added:label", page.cloud_id, events.label_event(self, page, name))

    def remove_label(self, page_id: str, name: str, *, emit: bool = True) -> None:
        with self.lock:
            page = self.pages[page_id]
            if name not in page.labels:
                return
            page.labels.remove(name)
            if emit:
                self.emit_event("avi:confluence:removed:label", page.cloud_id, events.label_event(self, page, name))

    # Tree bookkeeping -------------------------------------------------------------------------------------

    def descendants(self, page: Page) -> list[Page]:
        found, stack = [], list(page.child_ids)
        while stack:
            child = self.pages[stack.pop()]
            found.append(child)
            stack.extend(child.child_ids)
        return found

    def _attach(self, page: Page, parent_id: str | None, position: int | None) -> None:
        page.parent_id = parent_id
        if parent_id is None:
            # Root pages keep their own arbitrary, increasing positions, as on a real site.
            page.position = position if position is not None else int(page.id) % 100000
            return
        siblings = self.pages[parent_id].child_ids
        index = len(siblings) if position is None else max(0, min(position, len(siblings)))
        siblings.insert(index, page.id)
        for n, sibling_id in enumerate(siblings):
            self.pages[sibling_id].position = n

    def _detach(self, page: Page) -> None:
        if page.parent_id and page.parent_id in self.pages:
            self.pages[page.parent_id].child_ids.remove(page.id)

    def _lift_children(self, page: Page) -> None:
        for child_id in list(page.child_ids):
            child = self.pages[child_id]
            self._detach(child)
            self._attach(child, page.parent_id, None)

    def _forget_page(self, page: Page) -> None:
        self._detach(page)
        for attachment_id in page.attachment_ids:
            self.attachments.pop(attachment_id, None)
        self.unindex_page(page)
        del self.pages[page.id]

    def _set_status(self, page_id: str, status: str, verb: str, emit: bool) -> Page:
        with self.lock:
            page = self.pages[page_id]
            page.status = status
            self.changed()
            if emit:
                self._emit_page(verb, page)
            return page

    def _emit_page(self, verb: str, page: Page, **extra) -> None:
        payload = events.page_event(self, events.content(self, page), **extra)
        self.emit_event(f"avi:confluence:{verb}:{page.type}", page.cloud_id, payload)
