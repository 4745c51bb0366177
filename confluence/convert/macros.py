"""Structured macros (`ac:structured-macro`, and the older `ac:macro`), one small function per kind.

Panels become GitHub alerts, by the colour Confluence shows them in: info → NOTE (blue), tip and success →
TIP (green), note → WARNING (yellow, "note" is Confluence's warning-coloured panel), warning and error →
CAUTION (red), a plain panel → NOTE (GitHub's neutral call-out). Titles stay, in bold on the first line.
An unknown macro keeps its text and leaves `<!-- confluence: macro NAME -->`, so nothing vanishes silently.
"""

from __future__ import annotations

from urllib.parse import quote

from bs4 import Tag

from . import formulas
from .blocks import alert, comment_safe, fence
from .context import PageRef
from .elements import MACRO_TAGS
from .escaping import escape
from .links import markdown_link, page_href, page_ref

PANELS = {
    "info": "NOTE", "panel": "NOTE", "tip": "TIP", "success": "TIP",
    "note": "WARNING", "warning": "CAUTION", "error": "CAUTION",
}  # fmt: skip
LANGUAGES = {"none": "", "c#": "csharp", "c++": "cpp", "html/xml": "xml", "js": "javascript", "shell": "sh"}
# Macros whose body is simply part of the page.
CONTAINERS = frozenset({"details", "section", "column", "div", "excerpt", "toc-zone", "panel-content", "center"})
DIAGRAMS = {"mermaid": "mermaid", "mermaid-cloud": "mermaid", "mermaid-macro": "mermaid", "plantuml": "plantuml"}


class Macro:
    def __init__(self, el: Tag):
        self.el = el
        self.name = (el.get("ac:name") or "").strip().lower()
        self.params: dict[str, Tag] = {}
        for param in el.find_all(["ac:parameter", "ac:default-parameter"], recursive=False):
            self.params.setdefault((param.get("ac:name") or "").lower(), param)
        self.body = el.find("ac:rich-text-body", recursive=False)
        plain = el.find("ac:plain-text-body", recursive=False)
        self.plain = plain.get_text() if plain is not None else None

    def param(self, name: str, default: str = "") -> str:
        param = self.params.get(name.lower())
        return " ".join(param.get_text().split()) if param is not None else default

    def param_ref(self, name: str = "") -> PageRef | None:
        param = self.params.get(name)
        page = param.find(["ri:page", "ri:blog-post", "ri:content-entity"]) if param is not None else None
        return page_ref(page) if page is not None else None

    def render_body(self, conv, parent_tags) -> str:
        return conv.render_children(self.body, parent_tags).strip("\n") if self.body is not None else ""


def convert_macro(conv, el: Tag, parent_tags) -> str:
    macro = Macro(el)
    handler = MACROS.get(macro.name)
    if handler is None and macro.name in CONTAINERS:
        handler = container
    return (handler or unknown)(conv, macro, parent_tags)


def code(conv, macro: Macro, parent_tags) -> str:
    language = macro.param("language").lower().replace(" ", "")
    block = fence(macro.plain or "", LANGUAGES.get(language, language))
    title = macro.param("title")
    if macro.param("collapse").lower() == "true":
        summary = html_text(title or "Code")
        return conv.block(f"<details>\n<summary>{summary}</summary>\n\n{block}\n\n</details>", parent_tags)
    return conv.block(f"**{escape(title)}**\n\n{block}" if title else block, parent_tags)


def panel(conv, macro: Macro, parent_tags) -> str:
    title = escape(macro.param("title"))
    icon = macro.param("panelIconText")
    if icon and title:
        title = f"{icon} {title}"
    body = macro.render_body(conv, parent_tags | {"_quoted"})  # an alert is a quote: see tables.py
    if not title and not body.strip():
        return ""
    return conv.block(alert(PANELS[macro.name], title, body), parent_tags)


def expand(conv, macro: Macro, parent_tags) -> str:
    summary = html_text(macro.param("title") or "Click here to expand...")
    body = macro.render_body(conv, parent_tags)
    return conv.block(f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>", parent_tags)


def status(conv, macro: Macro, parent_tags) -> str:
    title = macro.param("title")
    return conv.code_span(title) if title else ""


def anchor(conv, macro: Macro, parent_tags) -> str:
    name = macro.param("")
    if not name:
        return ""
    # After a heading's text, a space keeps the anchor out of the words GitHub makes the heading's id from.
    space = " " if macro.el.previous_sibling is not None else ""
    return f'{space}<a id="{html_text(name)}"></a>'


def jira(conv, macro: Macro, parent_tags) -> str:
    site = conv.context.jira_url(macro.param("serverId") or None)
    key = macro.param("key")
    if key:
        return markdown_link(escape(key), f"{site}/browse/{quote(key)}", parent_tags)
    query = macro.param("jqlQuery")
    if not query:
        return unknown(conv, macro, parent_tags)
    link = markdown_link(escape(f"Jira issues: {query}"), f"{site}/issues/?jql={quote(query, safe='')}", parent_tags)
    return conv.block(link, parent_tags)


def toc(conv, macro: Macro, parent_tags) -> str:
    # GitHub shows an outline of every Markdown file; a copied table of contents would only go stale.
    return ""


def children(conv, macro: Macro, parent_tags) -> str:
    listing = conv.context.children(conv.context.page_id)
    if listing:
        return conv.block(listing, parent_tags)
    url = conv.context.page_url(PageRef(page_id=conv.context.page_id))
    note = f"*{markdown_link('Child pages', url, parent_tags)} are listed in Confluence.*"
    return conv.block(note, parent_tags)


def include(conv, macro: Macro, parent_tags) -> str:
    return embedded(conv, macro, parent_tags, conv.context.include, "Content included from")


def excerpt_include(conv, macro: Macro, parent_tags) -> str:
    return embedded(conv, macro, parent_tags, conv.context.excerpt, "Excerpt included from")


def embedded(conv, macro: Macro, parent_tags, hook, label: str) -> str:
    ref = macro.param_ref("")
    if ref is None:
        return unknown(conv, macro, parent_tags)
    markdown = hook(ref)
    if markdown:
        conv.report.linked_pages.add(ref)
        return conv.block(markdown, parent_tags)
    title = escape(ref.title or ref.page_id or "another page")
    return conv.block(f"*{label} {markdown_link(title, page_href(conv, ref), parent_tags)}.*", parent_tags)


def container(conv, macro: Macro, parent_tags) -> str:
    return conv.block(macro.render_body(conv, parent_tags), parent_tags)


def diagram(conv, macro: Macro, parent_tags) -> str:
    if not macro.plain or not macro.plain.strip():
        return unknown(conv, macro, parent_tags)
    return conv.block(fence(macro.plain, DIAGRAMS[macro.name]), parent_tags)


def unknown(conv, macro: Macro, parent_tags) -> str:
    conv.report.unknown_macros.add(macro.name or "(unnamed)")
    comment = f"<!-- confluence: macro {comment_safe(macro.name) or 'unnamed'} -->"
    parts = [macro.render_body(conv, parent_tags).strip()]
    if macro.plain and macro.plain.strip():
        parts.append(fence(macro.plain))
    content = "\n\n".join(part for part in parts if part)
    if not content:
        return comment
    return conv.block(f"{comment}\n\n{content}", parent_tags)


def html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


MACROS = {
    "code": code,
    "noformat": code,
    "expand": expand,
    "status": status,
    "anchor": anchor,
    "jira": jira,
    "toc": toc,
    "children": children,
    "include": include,
    "excerpt-include": excerpt_include,
    **dict.fromkeys(PANELS, panel),
    **dict.fromkeys(DIAGRAMS, diagram),
    **dict.fromkeys(formulas.INLINE_MACROS | formulas.BLOCK_MACROS, formulas.math_macro),
}

HANDLERS = dict.fromkeys(MACRO_TAGS, convert_macro)
