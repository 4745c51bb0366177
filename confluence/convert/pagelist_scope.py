"""What a page-list macro covers: its root (the page whose children or tree it lists, or a space's top level),
the synced pages below that root, and the spaces it names, split into synced ones and ones only Confluence holds."""

from __future__ import annotations

import re
from collections.abc import Iterable

SPACE_KEY = re.compile(r"~?[\w.@-]+")
ALL_SPACES = frozenset({"@all", "*", "@global", "@personal", "@favorite", "@favourite"})


def children_root(conv, macro) -> tuple[str, str | None, str | None]:
    """(space, page id, title) of the page whose children are listed; neither id nor title: the space's top level."""
    space = conv.context.space_key or ""
    ref = macro.param_ref("page")
    if ref is not None and not (ref.title or "").startswith("@"):
        return ref.space_key or space, ref.page_id, ref.title
    if ref is not None:
        return named_root(conv, ref.title or "@self", ref.space_key or space)
    value = macro.param("page")
    if value == "/":
        return space, None, None
    key, colon, title = value.partition(":")
    if colon and SPACE_KEY.fullmatch(key):
        return key, None, title or None
    return named_root(conv, value or "@self", space)


def named_root(conv, value: str, space: str) -> tuple[str, str | None, str | None]:
    lowered = value.lower()
    current = conv.context.site_tree.pages.get(conv.context.page_id or "")
    if lowered == "@self":
        return space, conv.context.page_id, None
    if lowered == "@parent":
        parent = current.parent_id if current is not None else None
        return space, parent, None
    if lowered in ("@home", "@none"):
        return space, None, None
    return space, None, value


def root_children(conv, space: str, page_id: str | None, title: str | None, *, home: bool = False) -> list | None:
    """The synced children of the root, or None when the root is not synced (the list is in Confluence)."""
    tree = conv.context.site_tree
    conv.report.listed_spaces.add(space)
    if page_id:
        return tree.children(page_id) if page_id in tree.pages else None
    if title:
        page = tree.find(space, title)
        return tree.children(page.id) if page is not None else None
    top = tree.top_level(space)
    if not top:
        return None
    if home and len(top) == 1:
        return tree.children(top[0].id)  # a Cloud space: everything hangs below its home page
    return top


def space_scope(conv, spaces: Iterable[str]) -> tuple[list[str], list[str]]:
    """(synced spaces the macro covers, spaces it covers that are not synced — ["*"] for every other space)."""
    synced_keys = {page.space_key for page in conv.context.site_tree.pages.values()}
    included, excluded, only, everything = [], set(), [], False
    for space in spaces:
        if space.lower() in ALL_SPACES:
            everything = True
        elif space.lower() == "@self":
            included.append(conv.context.space_key or "")
        elif space.startswith("-"):
            excluded.add(space[1:])
        elif space.startswith("+"):
            only.append(space[1:])
        else:
            included.append(space)
    if only:
        included, everything = only, False
    if everything:
        conv.report.listed_spaces.add("*")
        return sorted(synced_keys - excluded), ["*"]
    keys = [key for key in dict.fromkeys(included) if key and key not in excluded]
    conv.report.listed_spaces.update(keys)
    return [key for key in keys if key in synced_keys], [key for key in keys if key not in synced_keys]
