"""Page-list macros, rendered from the synced pages (`ConvertContext.site_tree`).

Synced pages become links into the repository (`resolve_page`); what a macro covers beyond them — a root page or a
space the sync leaves out — becomes one link to Confluence, where the full list is. Parameters, after Atlassian's
macro reference:

- children: `page` (a title, `KEY:Title`, `KEY:` or `/` for a space's top level; default the page itself), `depth`
  (default 1), `all` (every level), `sort` (title, creation, modified; default title: the manual order is not in
  the tree), `reverse`, `first` (how many of the first level), `style` (h1 to h6: the first level as headings).
- pagetree: `root` (@self, @parent, @home — the default — or a title), `spaceKey`, `sort`, `reverse`. Every level
  is shown: `startDepth` only says how many levels Confluence unfolds at first, and a Markdown list cannot fold.
- page-index (pageindex, index): every page of the current space, alphabetical, under its initial (digits and
  symbols first, then A to Z, then other letters).
- contentbylabel (content-by-label): `labels` (comma or space separated), `operator` (OR, AND), `spaces` (default
  @all), `max` (default 15), `sort` (default: newest first), `reverse`; Cloud's `cql` (its label and space terms).
- recently-updated: `spaces` (default @self), `labels`, `max` (default 15), newest first (as of the last render).
- blog-posts: the synced posts of the covered spaces that sync their blog (`spaces`, default @self; `labels`,
  `match-labels`, `sort` — creation, title, modified —, `reverse`, `max`), as titles; one link to Confluence for
  covered spaces whose blog is not synced (all of them: the macro stays that one link).

Creation order is id order: Confluence hands out ids in increasing order. Lists ordered by modification time keep
the order of their last render: the engine renders a listing again when pages come, go, move or change title,
parent or labels, not on every edit. Each listing reports the pages it listed
and the spaces it covers, so the engine knows when to render the page again.

What a macro covers is worked out in `pagelist_scope`, how its list is written in `pagelist_output`.
"""

from __future__ import annotations

import re

from .escaping import escape
from .pagelist_output import (
    creation_key,
    in_cql,
    ordered,
    outline,
    outside,
    outside_link,
    page_link,
    root_url,
    search_url,
)
from .pagelist_scope import ALL_SPACES, children_root, named_root, root_children, space_scope

DEFAULT_MAX = 15
HEADING_STYLE = re.compile(r"h([1-6])")
# `label = "a"`, `label in ("a", "b")`, `space = currentSpace()`, `space in (currentSpace(), "OPS")`.
CQL_TERM = re.compile(
    r"""\b(label|space)\s*(?:=|\bin\b)\s*(\((?:[^()]|\(\))*\)|"[^"]*"|'[^']*'|[\w.~-]+(?:\(\))?)""", re.I
)
CQL_VALUE = re.compile(r""""([^"]*)"|'([^']*)'|([\w.~-]+\(\))|([\w.~-]+)""")


def children(conv, macro, parent_tags) -> str:
    hooked = conv.context.children(conv.context.page_id)
    if hooked:
        return conv.block(hooked, parent_tags)
    space, page_id, title = children_root(conv, macro)
    pages = root_children(conv, space, page_id, title)
    if pages is None:
        label = f"Child pages of {title}" if title else "Child pages"
        return outside(conv, label, root_url(conv, space, page_id, title), parent_tags, verb="are listed")
    depth = None if macro.param("all").lower() == "true" else whole_number(macro.param("depth"), 1)
    first = whole_number(macro.param("first"), 0)
    sort, reverse = macro.param("sort"), macro.param("reverse").lower() == "true"
    style = HEADING_STYLE.fullmatch(macro.param("style").lower())
    top = ordered(pages, sort, reverse)[: first or None]
    if style and not {"_inline", "_cell", "_quoted", "li"} & parent_tags:
        blocks = []
        for page in top:
            blocks.append(f"{'#' * int(style.group(1))} {page_link(conv, page, parent_tags)}")
            if depth is None or depth > 1:
                below = ordered(conv.context.site_tree.children(page.id), sort, reverse)
                lower = None if depth is None else depth - 1
                lines = outline(conv, below, depth=lower, order=(sort, reverse), tags=parent_tags)
                blocks.append("\n".join(lines))
        return conv.block("\n\n".join(b for b in blocks if b), parent_tags)
    lines = outline(conv, top, depth=depth, order=(sort, reverse), tags=parent_tags)
    return conv.block("\n".join(lines), parent_tags)


def pagetree(conv, macro, parent_tags) -> str:
    space = macro.param("spaceKey") or conv.context.space_key or ""
    ref = macro.param_ref("root")
    # Confluence stores the root as a page link, the special roots too (`<ri:page ri:content-title="@self"/>`).
    root = (ref.title if ref is not None and not ref.page_id else None) or macro.param("root") or "@home"
    if ref is not None and not root.startswith("@"):
        space, page_id, title = ref.space_key or space, ref.page_id, ref.title
    else:
        space, page_id, title = named_root(conv, root, space)
    pages = root_children(conv, space, page_id, title, home=root.lower() == "@home")
    if pages is None:
        label = f"Page tree of {title}" if title else "Page tree"
        return outside(conv, label, root_url(conv, space, page_id, title), parent_tags, verb="is")
    sort, reverse = macro.param("sort"), macro.param("reverse").lower() == "true"
    lines = outline(conv, ordered(pages, sort, reverse), depth=None, order=(sort, reverse), tags=parent_tags)
    return conv.block("\n".join(lines), parent_tags)


def page_index(conv, macro, parent_tags) -> str:
    space = conv.context.space_key or ""
    conv.report.listed_spaces.add(space)
    pages = conv.context.site_tree.in_space(space)
    if not pages:
        url = conv.context.space_url(space)
        return outside(conv, f"Pages of the {space} space", url, parent_tags, verb="are listed")
    groups: dict[str, list[str]] = {}
    for page in ordered(pages, "title", False):
        initial = next((ch.upper() for ch in page.title if ch.isalnum()), "#")
        group = groups.setdefault(initial if initial.isalpha() else "0-9", [])
        group.append(f"- {page_link(conv, page, parent_tags)}")
    blocks = [f"**{escape(initial)}**\n\n" + "\n".join(groups[initial]) for initial in sorted(groups, key=group_order)]
    return conv.block("\n\n".join(blocks), parent_tags)


def group_order(initial: str) -> tuple[int, str]:
    """Confluence's order of page-index groups: digits and symbols first, then A to Z, then other letters."""
    if not initial.isalpha():
        return (0, initial)
    return (1, initial) if "A" <= initial <= "Z" else (2, initial)


def content_by_label(conv, macro, parent_tags) -> str | None:
    labels = words(macro.param("labels") or macro.param("label"))
    spaces = words(macro.param("spaces") or macro.param("space") or macro.param("key"))
    match_all = macro.param("operator").upper() == "AND"
    cql = macro.param("cql")
    if cql:
        terms = CQL_TERM.findall(cql)
        label_terms = [values(value) for field, value in terms if field.lower() == "label"]
        labels = [label for term in label_terms for label in term]
        spaces = [space for field, value in terms if field.lower() == "space" for space in values(value)]
        match_all = len(label_terms) > 1 and " or " not in f" {cql.lower()} "
    if not labels:
        return None
    wanted = {label.lower() for label in labels}
    synced, outer = space_scope(conv, spaces or ["@all"])
    matched = [
        page
        for space in synced
        for page in conv.context.site_tree.in_space(space)
        if (wanted <= labelled(page) if match_all else wanted & labelled(page))
    ]
    sort = macro.param("sort")
    reverse = macro.param("reverse").lower() == "true"
    pages = ordered(matched, sort, reverse) if sort else ordered(matched, "modified", True)
    label_cql = " and ".join(f'label = "{label}"' for label in labels) if match_all else in_cql("label", labels)
    lines = [f"- {page_link(conv, page, parent_tags)}" for page in pages[: whole_number(macro_max(macro), DEFAULT_MAX)]]
    if outer:
        text = f"Content labelled {', '.join(labels)}"
        lines.append(f"- {outside_link(conv, text, search_url(conv, label_cql, outer), parent_tags)}")
    return conv.block("\n".join(lines), parent_tags)


def recently_updated(conv, macro, parent_tags) -> str:
    synced, outer = space_scope(conv, words(macro.param("spaces") or macro.param("space")) or ["@self"])
    wanted = {label.lower() for label in words(macro.param("labels"))}
    pages = [
        page
        for space in synced
        for page in conv.context.site_tree.in_space(space)
        if not wanted or wanted & labelled(page)
    ]
    # No dates: the engine renders a listing again when pages come, go, move or change title or labels, not on
    # every edit, so a date shown here could be stale; the order is the last render's.
    newest = ordered(pages, "modified", True)[: whole_number(macro_max(macro), DEFAULT_MAX)]
    lines = [f"- {page_link(conv, page, parent_tags)}" for page in newest]
    if outer:
        cql = f"type = page and {in_cql('label', sorted(wanted))}" if wanted else "type = page"
        url = search_url(conv, cql, outer, order="order by lastmodified desc")
        lines.append(f"- {outside_link(conv, 'Recently updated', url, parent_tags)}")
    return conv.block("\n".join(lines), parent_tags)


def blog_posts(conv, macro, parent_tags) -> str:
    """The synced posts of the spaces that sync their blog (`ConvertContext.blog_posts`), newest first by default;
    one link to Confluence for the covered spaces whose blog is not synced. Posts show as titles with their
    posting day whatever `content` asks (titles, excerpts, entire): a list does not hold whole posts."""
    spaces = words(macro.param("spaces") or macro.param("space")) or ["@self"]
    keys = [conv.context.space_key or "" if space == "@self" else space for space in spaces]
    blogs = conv.context.blog_posts()
    everything = any(key.lower() in ALL_SPACES for key in keys)
    synced = sorted(blogs) if everything else [key for key in dict.fromkeys(keys) if key in blogs]
    if not synced:
        if len(keys) == 1 and keys[0] not in ALL_SPACES and keys[0]:
            url = f"{conv.context.space_url(keys[0])}/blog"
        else:
            url = search_url(conv, "type = blogpost", keys, order="order by created desc")
        return outside(conv, "Blog posts", url, parent_tags, verb="are")
    conv.report.listed_spaces.update(["*"] if everything else synced)
    lines = [f"- {post_line(conv, post, parent_tags)}" for post in chosen_posts(macro, blogs, synced)]
    outer = ["*"] if everything else [key for key in keys if key and key not in blogs]
    if outer:
        url = search_url(conv, "type = blogpost", outer, order="order by created desc")
        lines.append(f"- {outside_link(conv, 'Blog posts', url, parent_tags)}")
    return conv.block("\n".join(lines) or "*No blog posts.*", parent_tags)


def chosen_posts(macro, blogs, spaces: list[str]) -> list:
    """The posts the macro shows: `labels` (any, or all with `match-labels=all`), `sort` (creation — posting
    time —, title, modified), `reverse`, `max` (default 15). Newest first unless sorted by title."""
    wanted = {label.lower() for label in words(macro.param("labels") or macro.param("label"))}
    match_all = macro.param("match-labels").lower() == "all"
    posts = [
        post
        for space in spaces
        for post in blogs[space]
        if not wanted or (wanted <= labelled(post) if match_all else wanted & labelled(post))
    ]
    sort, reverse = macro.param("sort").lower(), macro.param("reverse").lower() == "true"
    if sort == "title":
        posts = ordered(posts, "title", reverse)
    else:
        field = "modified_at" if sort in ("modified", "lastmodified") else "created_at"
        posts = sorted(posts, key=lambda post: (getattr(post, field), creation_key(post)), reverse=not reverse)
    return posts[: whole_number(macro_max(macro), DEFAULT_MAX)]


def post_line(conv, post, parent_tags) -> str:
    day = post.created_at[:10]
    return f"{page_link(conv, post, parent_tags)} ({day})" if day else page_link(conv, post, parent_tags)


def labelled(page) -> set[str]:
    return {label.lower() for label in page.labels}


def words(value: str) -> list[str]:
    return [word for word in re.split(r"[,\s]+", value) if word]


def values(cql_value: str) -> list[str]:
    found = []
    for quoted, single, function, bare in CQL_VALUE.findall(cql_value):
        if function:
            found.append("@self" if function.lower() == "currentspace()" else function)
        else:
            found.append(quoted or single or bare)
    return [value for value in found if value]


def macro_max(macro) -> str:
    return macro.param("max") or macro.param("maxResults")


def whole_number(value: str, default: int) -> int:
    value = value.strip()
    return int(value) if value.isdigit() and int(value) > 0 else default
