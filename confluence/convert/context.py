"""What the converter needs to know beyond the page itself, and what it reports back.

The sync engine subclasses `ConvertContext` to point links at files in the repository; the default context
resolves nothing and links everything back to Confluence. Page-list macros list the pages of `site_tree`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus


@dataclass(frozen=True)
class PageRef:
    """A page as a link names it: by id, or by title within a space (None: the current page's space).

    A blog post named by title also has its posting day (`2024/05/01`): titles are unique per day, not per space.
    """

    page_id: str | None = None
    title: str | None = None
    space_key: str | None = None
    anchor: str | None = None
    posting_day: str | None = None

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.page_id or "", self.space_key or "", self.title or "", self.anchor or "", self.posting_day or "")


@dataclass(frozen=True)
class SitePage:
    """A synced page as the page-list macros see it. The engine passes its own records with these attributes."""

    id: str
    title: str
    space_key: str
    parent_id: str | None = None
    labels: tuple[str, ...] = ()
    modified_at: str = ""  # ISO 8601: sorts by time as text


class SiteTree:
    """The synced pages (id → anything with SitePage's attributes), for the page-list macros: children, pagetree,
    page-index, contentbylabel, recently-updated. Empty by default: those macros then link to Confluence.

    Built once per run and shared by every page's conversion; the parent and space indexes are made on first use.
    """

    def __init__(self, pages: Mapping[str, Any] | None = None):
        self.pages: Mapping[str, Any] = pages or {}
        self._children: dict[str, list] | None = None
        self._spaces: dict[str, list] = {}

    def _index(self) -> None:
        self._children = {}
        for page in self.pages.values():
            self._spaces.setdefault(page.space_key, []).append(page)
            if page.parent_id:
                self._children.setdefault(page.parent_id, []).append(page)

    def children(self, page_id: str) -> list:
        if self._children is None:
            self._index()
        return self._children.get(page_id, [])

    def in_space(self, space_key: str) -> list:
        if self._children is None:
            self._index()
        return self._spaces.get(space_key, [])

    def top_level(self, space_key: str) -> list:
        """The space's pages without a parent: its home page (Cloud), or its top-level pages (Server)."""
        return [page for page in self.in_space(space_key) if not page.parent_id]

    def find(self, space_key: str, title: str):
        return next((page for page in self.in_space(space_key) if page.title == title), None)


@dataclass(frozen=True)
class ConvertContext:
    """The page being converted and the site around it. Override the methods to resolve links into the repository.

    Every method returns None when it does not know; the converter then falls back to a Confluence URL (page
    and attachment links), a placeholder (user names) or a short note with a link (include, excerpt, children).

    `user_names` maps account ids (or Server user keys) to display names; people it does not name appear as
    "@unknown user", linked to their profile. The result's `mentions` lists the account ids a page mentions,
    so a caller can look names up in bulk and convert again. People whose account is in `closed_accounts` (the
    personal data reporting API said it was closed) appear as "Former user", with no link, and are not listed.
    """

    site_url: str = ""
    page_id: str | None = None
    space_key: str | None = None
    user_names: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    closed_accounts: Collection[str] = field(default_factory=frozenset, repr=False, hash=False)
    site_tree: SiteTree = field(default_factory=SiteTree, repr=False, hash=False, compare=False)
    # Storage bodies of synced pages (id → XHTML) that include, excerpt-include and detailssummary macros show;
    # and the pages whose content is being shown around this conversion, outermost first (cycles, depth).
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False, compare=False)
    including: tuple[str, ...] = ()

    def resolve_page(self, ref: PageRef) -> str | None:
        """A relative repository path or an absolute URL for a linked page."""
        return None

    def resolve_attachment(self, *, page_id: str | None, filename: str) -> str | None:
        """A relative repository path for an attachment of a page."""
        return None

    def resolve_space(self, space_key: str) -> str | None:
        """A relative repository path or an absolute URL for a linked space whose home page is not synced."""
        return None

    def space_home(self, space_key: str) -> PageRef | None:
        """The synced home page of a space, which links to the space go to: its one page without a parent in
        `site_tree` (a Cloud space's home page). None when that page is not synced, or the space has several."""
        roots = self.site_tree.top_level(space_key)
        return PageRef(page_id=roots[0].id) if len(roots) == 1 else None

    def synced_page_id(self, ref: PageRef) -> str | None:
        """The id of the synced page a link names by title (the owner of another page's attachment); None when it
        is not synced. `site_tree` holds pages, not blog posts."""
        page = None if ref.posting_day else self.source_page(ref)
        return page.id if page is not None else None

    def blog_posts(self) -> Mapping[str, list]:
        """Space key → its synced blog posts (SitePage attributes plus `created_at`), for the spaces whose blog the
        sync holds: the blog-posts macro lists them. None held by default: the macro links to Confluence."""
        return {}

    def user_name(self, account_id: str) -> str | None:
        """The display name for an account id (or a Server user key)."""
        return self.user_names.get(account_id)

    def shortcut_url(self, key: str, parameter: str) -> str | None:
        """Where a shortcut link (`parameter@key`) goes. Site administrators define shortcuts; the API does not
        list them, so by default the converter links to the page in Confluence, where the shortcut works."""
        return None

    def excerpt(self, ref: PageRef) -> str | None:
        """Markdown of another page's excerpt, for the excerpt-include macro."""
        return None

    def include(self, ref: PageRef) -> str | None:
        """Markdown of another page's body, for the include macro."""
        return None

    def source_page(self, ref: PageRef):
        """The synced page (from `site_tree`) a link names, for the inclusion macros; None when not synced."""
        if ref.page_id:
            return self.site_tree.pages.get(ref.page_id)
        if ref.title:
            return self.site_tree.find(ref.space_key or self.space_key or "", ref.title)
        return None

    def children(self, page_id: str | None) -> str | None:
        """Markdown listing a page's children, for the children macro."""
        return None

    def jira_url(self, server_id: str | None) -> str:
        """The Jira site a jira macro points at. Jira Cloud shares the Confluence site; override for Server."""
        return self.base_url

    @property
    def base_url(self) -> str:
        # Without a site URL, links stay site-relative: the target is still recorded, not invented.
        return self.site_url.rstrip("/")

    def page_url(self, ref: PageRef) -> str:
        """The Confluence URL of a page, built from the site URL alone."""
        if ref.page_id:
            url = f"{self.base_url}/wiki/pages/viewpage.action?pageId={quote(ref.page_id)}"
        elif ref.title and (ref.space_key or self.space_key):
            space = ref.space_key or self.space_key or ""
            day = f"{quote(ref.posting_day)}/" if ref.posting_day else ""  # a blog post: /display/KEY/2024/05/01/Title
            url = f"{self.base_url}/wiki/display/{quote(space)}/{day}{quote_plus(ref.title)}"
        elif ref.title:
            url = f"{self.base_url}/wiki/search?text={quote_plus(ref.title)}"
        elif self.page_id:
            url = f"{self.base_url}/wiki/pages/viewpage.action?pageId={quote(self.page_id)}"
        else:
            url = ""
        return f"{url}#{quote(ref.anchor)}" if ref.anchor else url

    def attachment_url(self, page_id: str | None, filename: str) -> str:
        """The Confluence download URL of an attachment; just the file name when the page is unknown."""
        if not page_id:
            return quote(filename)
        return f"{self.base_url}/wiki/download/attachments/{quote(page_id)}/{quote(filename)}"

    def user_url(self, account_id: str) -> str:
        return f"{self.base_url}/wiki/people/{quote(account_id)}"

    def username_url(self, username: str) -> str:
        """The profile of a person named by Server username: the URL Atlassian documents for it
        (`/users/viewuserprofile.action?username=USERNAME`, "Your User Profile"), under the site's `/wiki`."""
        return f"{self.base_url}/wiki/users/viewuserprofile.action?username={quote_plus(username)}"

    def space_url(self, space_key: str) -> str:
        return f"{self.base_url}/wiki/spaces/{quote(space_key)}"


@dataclass(frozen=True)
class ConversionResult:
    markdown: str
    attachments: tuple[tuple[str, str], ...] = ()
    linked_pages: tuple[PageRef, ...] = ()
    unknown_macros: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()  # account ids of the people the page mentions
    # Page-list macros (children, pagetree, contentbylabel…): the synced pages they listed, and the spaces they cover
    # ("*": every space), so the engine renders the page again when what those spaces hold changes.
    listed: tuple[str, ...] = ()
    listed_spaces: tuple[str, ...] = ()
    # Synced pages whose content the page shows (include, excerpt-include, detailssummary), at any depth.
    included: tuple[str, ...] = ()


@dataclass
class Report:
    """Collects what a conversion needs from the outside world, in any order; `result()` sorts it."""

    attachments: set[tuple[str, str]] = field(default_factory=set)
    linked_pages: set[PageRef] = field(default_factory=set)
    unknown_macros: set[str] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)
    mentions: set[str] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)
    listed_spaces: set[str] = field(default_factory=set)
    included: set[str] = field(default_factory=set)

    def result(self, markdown: str) -> ConversionResult:
        return ConversionResult(
            markdown=markdown,
            attachments=tuple(sorted(self.attachments)),
            linked_pages=tuple(sorted(self.linked_pages, key=PageRef.sort_key)),
            unknown_macros=tuple(sorted(self.unknown_macros)),
            warnings=tuple(sorted(self.warnings)),
            mentions=tuple(sorted(self.mentions)),
            listed=tuple(sorted(self.listed)),
            listed_spaces=tuple(sorted(self.listed_spaces)),
            included=tuple(sorted(self.included)),
        )
