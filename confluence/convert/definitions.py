"""Definition lists (`<dl>`, `<dt>`, `<dd>`): written as HTML, which GitHub keeps and renders.

GitHub-flavoured Markdown has no definition-list syntax (Pandoc's `term` / `:   definition` shows as a plain
paragraph starting with a colon), and GitHub's sanitiser allows `dl`, `dt` and `dd`. A term or definition that
is only text stays inline; one holding Markdown (a list, a link, code) has it between blank lines, as table cells
do (see tables.py). Anything else in the list (an anchor before a term) joins the item that follows it.
"""

from __future__ import annotations

from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from .tables import html_element

ITEMS = frozenset({"dt", "dd"})
SILENT = (Comment, Declaration, Doctype, ProcessingInstruction)


def definition_list(conv, el: Tag, parent_tags) -> str:
    items: list[tuple[str, str]] = []
    pending: list[str] = []
    for child, name in list_children(el):
        if name in ITEMS:
            markdown = conv.render_children(child, parent_tags | {"_cell"}).strip()
            items.append((name, " ".join([*pending, markdown]).strip()))
            pending = []
            continue
        text = conv.process_text(child, parent_tags) if name is None else conv.process_tag(child, parent_tags)
        if text.strip():
            pending.append(text.strip())
    if not items:
        return conv.block("\n\n".join(pending), parent_tags)
    if pending:
        name, markdown = items[-1]
        items[-1] = (name, " ".join([markdown, *pending]))
    lines = ["<dl>", *(html_element(name, markdown) for name, markdown in items), "</dl>"]
    return conv.block("\n".join(lines), parent_tags)


def list_children(el: Tag):
    """The list's children as (node, tag name or None for text); a `<div>` grouping terms is looked into."""
    for child in el.children:
        if isinstance(child, NavigableString):
            if child.strip() and not isinstance(child, SILENT):
                yield child, None
        elif child.name == "div" and child.find(ITEMS, recursive=False) is not None:
            yield from list_children(child)
        else:
            yield child, child.name


def definition_item(conv, el: Tag, parent_tags) -> str:
    """A term or definition outside any list: its content, as a block."""
    return conv.block(conv.render_children(el, parent_tags), parent_tags)


HANDLERS = {
    "dl": definition_list,
    "dt": definition_item,
    "dd": definition_item,
}
