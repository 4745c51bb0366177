"""How page lists are written: nested outlines of synced pages in the macro's sort order, links into the repository,
and the one link to Confluence (a page, a space, a search) for what the sync does not hold."""

from __future__ import annotations

import re
from urllib.parse import quote

from .context import PageRef
from .escaping import escape
from .links import markdown_link


def outline(conv, pages, *, depth: int | None, order: tuple[str, bool], tags, level: int = 0, seen=None) -> list[str]:
    """Nested list lines for the pages, in the order given, and `depth` levels of their children (None: every
    level), each level sorted by `order` (sort, reverse)."""
    seen = set() if seen is None else seen
    lines = []
    for page in pages:
        if page.id in seen:
            continue  # a parent loop in a damaged tree must not recurse forever
        seen.add(page.id)
        lines.append(f"{'  ' * level}- {page_link(conv, page, tags)}")
        if depth is None or depth > 1:
            below = ordered(conv.context.site_tree.children(page.id), *order)
            lower = None if depth is None else depth - 1
            lines += outline(conv, below, depth=lower, order=order, tags=tags, level=level + 1, seen=seen)
    return lines


def ordered(pages, sort: str | None, reverse: bool) -> list:
    sort = (sort or "").lower()
    if sort == "creation":
        key = creation_key
    elif sort in ("modified", "lastmodified"):
        key = lambda page: (page.modified_at, creation_key(page))  # noqa: E731
    elif sort == "bitwise":
        key = lambda page: (page.title, creation_key(page))  # noqa: E731
    else:
        key = lambda page: (natural_key(page.title), creation_key(page))  # noqa: E731
    return sorted(pages, key=key, reverse=reverse)


def creation_key(page) -> tuple:
    return (0, int(page.id), "") if page.id.isdigit() else (1, 0, page.id)


def natural_key(title: str) -> list:
    """ "Page 2" before "Page 10"; letters ignoring case. Text and numbers alternate, so the parts always compare."""
    return [int(part) if n % 2 else part.casefold() for n, part in enumerate(re.split(r"(\d+)", title))]


def page_link(conv, page, parent_tags) -> str:
    conv.report.listed.add(page.id)
    ref = PageRef(page_id=page.id)
    href = conv.context.resolve_page(ref) or conv.context.page_url(ref)
    return markdown_link(escape(page.title or page.id), href, parent_tags)


def outside(conv, label: str, url: str, parent_tags, *, verb: str) -> str:
    return conv.block(f"*{outside_link(conv, label, url, parent_tags)} {verb} in Confluence.*", parent_tags)


def outside_link(conv, label: str, url: str, parent_tags) -> str:
    return markdown_link(escape(label), url, parent_tags)


def root_url(conv, space: str, page_id: str | None, title: str | None) -> str:
    if page_id or title:
        return conv.context.page_url(PageRef(page_id=page_id, title=title, space_key=space or None))
    return conv.context.space_url(space) if space else conv.context.page_url(PageRef())


def search_url(conv, cql: str, spaces: list[str], *, order: str = "") -> str:
    scoped = cql if not spaces or "*" in spaces else f"{cql} and {in_cql('space', spaces)}"
    query = f"{scoped} {order}".strip()
    return f"{conv.context.base_url}/wiki/search?cql={quote(query, safe='')}"


def in_cql(field: str, names: list[str]) -> str:
    quoted = ", ".join('"' + name.replace('"', "") + '"' for name in names)
    return f"{field} in ({quoted})"
