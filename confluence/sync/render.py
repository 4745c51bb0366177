"""One page file: YAML front matter plus the converted body, with links resolved between synced pages and blog
posts (a post's front matter is a page's plus `type: blogpost`)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from confluence.convert import (
    ConversionResult,
    ConvertContext,
    PageMeta,
    PageRef,
    SiteTree,
    convert,
    render_front_matter,
)
from confluence.sync.layout import attachment_path
from confluence.sync.plan import Placed


@dataclass(frozen=True)
class SiteMap:
    """What links can point at: synced pages by id and by (space, title), and the site's URL."""

    site_url: str
    pages: Mapping[str, Placed]
    by_title: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # (owner page id, file name) → path, for the rare attachment whose path its page's listing decides (a name an
    # older attachment of the page takes), or "" for one the repository does not hold (missing, too large); every
    # other attachment's path follows from its name alone.
    attachment_paths: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Account ids the personal data reporting API said are closed: such people show as "Former user", unlinked.
    closed_accounts: frozenset[str] = frozenset()
    # Account id → the name a mention shows (the site's known people); others show as "@unknown user".
    user_names: Mapping[str, str] = field(default_factory=dict)
    # The synced pages as page-list macros (children, pagetree, contentbylabel…) list them: Placed records carry
    # every attribute they need (parent, space, labels, modified time). Built once per run, indexed on first use.
    tree: SiteTree = field(default_factory=SiteTree)
    # Page id → storage body of the synced pages that inclusion macros show (confluence.sync.sources).
    sources: Mapping[str, str] = field(default_factory=dict)
    # Space key → its synced blog posts, for the spaces whose blog the scope syncs; and the posts as `ri:blog-post`
    # links name them: (space key, posting day "2026/01/02", title) → post id.
    blogs: Mapping[str, list[Placed]] = field(default_factory=dict)
    posts_by_day: Mapping[tuple[str, str, str], str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        site_url: str,
        pages: Mapping[str, Placed],
        *,
        attachment_paths: Mapping | None = None,
        closed_accounts: Iterable[str] = (),
        user_names: Mapping[str, str] | None = None,
        sources: Mapping[str, str] | None = None,
        blog_spaces: Iterable[str] = (),
    ) -> SiteMap:
        """`blog_spaces`: the spaces whose blog the scope syncs (a space with synced posts does in any case)."""
        by_title = {(p.space_key, p.title): pid for pid, p in pages.items() if not p.is_post}
        posts = [p for p in pages.values() if p.is_post]
        blogs: dict[str, list[Placed]] = {key: [] for key in blog_spaces}
        for post in posts:
            blogs.setdefault(post.space_key, []).append(post)
        return cls(
            site_url=site_url,
            pages=pages,
            by_title=by_title,
            attachment_paths=dict(attachment_paths or {}),
            closed_accounts=frozenset(closed_accounts),
            user_names=dict(user_names or {}),
            # Page lists (children, pagetree, contentbylabel…) list pages; the blog-posts macro lists posts.
            tree=SiteTree({pid: p for pid, p in pages.items() if not p.is_post}),
            sources=dict(sources or {}),
            blogs=blogs,
            posts_by_day={(p.space_key, p.created_at[:10].replace("-", "/"), p.title): p.id for p in posts},
        )


@dataclass(frozen=True)
class SyncContext(ConvertContext):
    """Links to synced pages and attachments become relative paths; everything else links back to Confluence."""

    site: SiteMap | None = None
    path: str = ""

    def resolve_page(self, ref: PageRef) -> str | None:
        target = self._target(ref)
        if target is None:
            return None
        relative = posixpath.relpath(self.site.pages[target].path, posixpath.dirname(self.path))
        return f"{relative}#{_anchor(ref.anchor)}" if ref.anchor else relative

    def _target(self, ref: PageRef) -> str | None:
        if ref.page_id and ref.page_id in self.site.pages:
            return ref.page_id
        if ref.title and ref.posting_day:
            return self.site.posts_by_day.get((ref.space_key or self.space_key or "", ref.posting_day, ref.title))
        if ref.title:
            return self.site.by_title.get((ref.space_key or self.space_key or "", ref.title))
        if ref.anchor and self.page_id in self.site.pages:
            return self.page_id
        return None

    def synced_page_id(self, ref: PageRef) -> str | None:
        """Pages by title, and blog posts by title and posting day (another page's attachment, by title)."""
        return self._target(ref) if ref.title else None

    def blog_posts(self) -> Mapping[str, list[Placed]]:
        """Space key → synced posts, for the spaces whose blog the scope syncs (the blog-posts macro)."""
        return self.site.blogs

    def resolve_attachment(self, *, page_id: str | None, filename: str) -> str | None:
        owner = page_id or self.page_id
        if owner not in self.site.pages:
            return None
        target = self.site.attachment_paths.get((owner, filename))
        if target == "":
            return None  # not in the repository: the converter links to Confluence's copy
        target = target or attachment_path(space_key=self.site.pages[owner].space_key, page_id=owner, filename=filename)
        return posixpath.relpath(target, posixpath.dirname(self.path))


def _anchor(anchor: str) -> str:
    # GitHub's heading ids: lowercase, spaces to dashes, punctuation dropped.
    return "".join(ch for ch in anchor.strip().lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


def source_url(site_url: str, page: Placed) -> str:
    if page.webui:
        return f"{site_url.rstrip('/')}/wiki{page.webui}"
    return f"{site_url.rstrip('/')}/wiki/pages/viewpage.action?pageId={page.id}"


def render_page(page: Placed, body: str, site: SiteMap) -> tuple[bytes, ConversionResult]:
    context = SyncContext(
        site_url=site.site_url,
        page_id=page.id,
        space_key=page.space_key,
        closed_accounts=site.closed_accounts,
        user_names=site.user_names,
        site_tree=site.tree,
        sources=site.sources,
        site=site,
        path=page.path,
    )
    result = convert(body, context)
    meta = PageMeta(
        title=page.title,
        page_id=page.id,
        space_key=page.space_key,
        version=page.version,
        last_modified=page.modified_at or None,
        source_url=source_url(site.site_url, page),
        labels=page.labels,
        ancestors=page.ancestors,
        parent_id=page.parent_id,
    )
    header = {**asdict(meta), "type": page.kind} if page.is_post else meta
    text = render_front_matter(header) + "\n" + result.markdown.rstrip("\n") + "\n"
    return text.encode("utf-8"), result
