"""Which elements are blocks and which flow inline: the whitespace and escaping rules depend on it."""

from __future__ import annotations

from bs4 import Tag

from .diagram_code import DIAGRAMS

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = HEADINGS | {
    "p", "div", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "pre",
    "hr", "section", "article", "header", "footer", "nav", "aside", "figure", "figcaption", "dl", "dt", "dd",
    "details", "summary", "colgroup", "col", "caption", "center",
    "ac:layout", "ac:layout-section", "ac:layout-cell", "ac:task-list", "ac:task", "ac:task-body",
    "ac:rich-text-body", "ac:adf-extension", "ac:adf-node", "ac:adf-content",
}  # fmt: skip
INLINE_TAGS = frozenset({
    "a", "abbr", "b", "big", "cite", "code", "del", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strike", "strong", "sub", "sup", "time", "u", "var",
    "ac:link", "ac:link-body", "ac:inline-comment-marker", "ac:plain-text-link-body",
})  # fmt: skip
MACRO_TAGS = frozenset({"ac:structured-macro", "ac:macro"})
INLINE_MACROS = frozenset({
    "status", "anchor", "jira", "emoticon", "eazy-math-inline", "mathinline", "inline-math", "latex-inline", "profile",
    "profile-picture",
})  # fmt: skip
BLOCK_MACROS = frozenset({
    "code", "noformat", "info", "note", "warning", "tip", "panel", "success", "error", "expand", "toc", "children",
    "include", "details", "section", "column",
}) | frozenset(DIAGRAMS)  # fmt: skip


def is_block(el) -> bool:
    if not isinstance(el, Tag):
        return False
    name = el.name
    if name in BLOCK_TAGS:
        return True
    if name in MACRO_TAGS:
        return is_block_macro(el)
    return name == "ac:image" and is_standalone(el)


def is_block_macro(el: Tag) -> bool:
    name = (el.get("ac:name") or "").strip().lower()
    if name in BLOCK_MACROS:
        return True
    # An unknown macro flows with the text around it, unless it stands on its own.
    return name not in INLINE_MACROS and is_standalone(el)


def is_standalone(el: Tag) -> bool:
    """An element directly in a block container, not inside a paragraph or a run of text (Cloud images)."""
    parent = el.parent
    return parent is None or not (parent.name in INLINE_TAGS or parent.name in HEADINGS or parent.name == "p")
