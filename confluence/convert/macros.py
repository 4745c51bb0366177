"""Structured macros (`ac:structured-macro`, and the older `ac:macro`), one small function per kind.

Panels become GitHub alerts, by the colour Confluence shows them in: info → NOTE (blue), tip and success →
TIP (green), note → WARNING (yellow, "note" is Confluence's warning-coloured panel), warning and error →
CAUTION (red), a plain panel → NOTE (GitHub's neutral call-out). Titles stay, in bold on the first line.

An unknown macro never vanishes silently: it is named in the text (`*Confluence macro: NAME*`), each parameter
that holds a page, an attachment, a space, a person or a URL becomes a link next to its name, and its body
follows. Link macros (clickable and the like) become one link, their body its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from bs4 import Tag

from . import diagram_code, embeds, formulas, inclusions, page_properties, pagelists
from .blocks import alert, fence
from .context import PageRef
from .elements import MACRO_TAGS, is_block
from .escaping import escape
from .links import RESOURCE_TAGS, convert_link, markdown_link, mention, page_href, page_ref, resource_link

PANELS = {
    "info": "NOTE", "panel": "NOTE", "tip": "TIP", "success": "TIP",
    "note": "WARNING", "warning": "CAUTION", "error": "CAUTION",
}  # fmt: skip
LANGUAGES = {"none": "", "c#": "csharp", "c++": "cpp", "html/xml": "xml", "js": "javascript", "shell": "sh"}
# Macros whose body is simply part of the page.
CONTAINERS = frozenset({"section", "column", "div", "toc-zone", "panel-content", "center"})
# Macros that are a link: their body (or a text parameter) is the link's text, a parameter its target.
LINK_MACROS = frozenset({"clickable", "link-window", "link-page", "link-to", "linkwindow", "widget", "iframe"})
LINK_TEXT_PARAMETERS = ("linktext", "text", "alias", "caption", "title")
# Text parameters that name a page by title (with `space` or `spaceKey` for its space).
PAGE_PARAMETERS = ("page", "pagetitle")
URL_VALUE = re.compile(r"(?:https?|ftp)://\S+|mailto:\S+@\S+")


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
    markdown = (handler or unknown)(conv, macro, parent_tags)
    # A handler that finds nothing it knows how to show (no file, no target) leaves the macro to `unknown`.
    return unknown(conv, macro, parent_tags) if markdown is None else markdown


def code(conv, macro: Macro, parent_tags) -> str:
    language = macro.param("language").lower().replace(" ", "")
    source = macro.plain if macro.plain is not None or macro.body is None else macro.body.get_text()
    block = fence(source or "", LANGUAGES.get(language, language))
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


def container(conv, macro: Macro, parent_tags) -> str:
    return conv.block(macro.render_body(conv, parent_tags), parent_tags)


def unknown(conv, macro: Macro, parent_tags) -> str:
    conv.report.unknown_macros.add(macro.name or "(unnamed)")
    head = f"*Confluence macro: {escape(macro.name or 'unnamed')}*"
    links = list(dict.fromkeys(parameter_links(conv, macro, parent_tags)))
    if links:
        head += " — " + ", ".join(links)
    body = macro.render_body(conv, parent_tags).strip()
    plain = macro.plain if macro.plain and macro.plain.strip() else ""
    if not is_block(macro.el):
        inline = [head, " ".join(body.split()), conv.code_span(plain) if plain else ""]
        return " ".join(part for part in inline if part)
    parts = [head, body, fence(plain) if plain else ""]
    return conv.block("\n\n".join(part for part in parts if part), parent_tags)


def parameter_links(conv, macro: Macro, parent_tags, body: str = "") -> Iterator[str]:
    """A link for each page, attachment, space, person or URL the macro's parameters name, in order; `body`, if
    given, is their text."""
    for name, param in macro.params.items():
        targets = [el for el in param.find_all([*RESOURCE_TAGS, "ac:link"]) if is_outermost(el)]
        for target in targets:
            if target.name == "ac:link" and not body:
                yield convert_link(conv, target, parent_tags)
            elif target.name == "ac:link":
                inner = target.find(RESOURCE_TAGS, recursive=False)
                if inner is not None:
                    yield resource_link(conv, inner, parent_tags, body=body, anchor=target.get("ac:anchor"))
            else:
                yield resource_link(conv, target, parent_tags, body=body)
        if targets:
            continue
        value = macro.param(name)
        if URL_VALUE.fullmatch(value):
            yield markdown_link(body or escape(value), value, parent_tags)
        elif name in PAGE_PARAMETERS and value:
            space = macro.param("space") or macro.param("spacekey") or None
            ref = PageRef(title=value, space_key=space)
            yield markdown_link(body or escape(value), page_href(conv, ref), parent_tags)


def is_outermost(el: Tag) -> bool:
    """Not inside another resource identifier or link (an attachment's page, a link's target)."""
    parent = el.parent
    return parent is None or not (parent.name == "ac:link" or parent.name.startswith("ri:"))


def link_macro(conv, macro: Macro, parent_tags) -> str | None:
    text = " ".join(macro.render_body(conv, parent_tags).split())
    if not text:
        label = next((macro.param(name) for name in LINK_TEXT_PARAMETERS if macro.param(name)), "")
        text = escape(label)
    link = next(parameter_links(conv, macro, parent_tags, body=text), None)
    if link is None:
        return None
    return conv.block(link, parent_tags) if is_block(macro.el) else link


def profile(conv, macro: Macro, parent_tags) -> str | None:
    """A person's profile (card or picture): their name, linked to the profile."""
    param = macro.params.get("user")
    user = param.find("ri:user") if param is not None else None
    if user is not None:
        return mention(conv, user, "", parent_tags)
    username = macro.param("user")
    return markdown_link(escape(f"@{username}"), conv.context.username_url(username), parent_tags) if username else None


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
    "children": pagelists.children,
    "pagetree": pagelists.pagetree,
    **dict.fromkeys(("page-index", "pageindex", "index"), pagelists.page_index),
    **dict.fromkeys(("contentbylabel", "content-by-label"), pagelists.content_by_label),
    "recently-updated": pagelists.recently_updated,
    "blog-posts": pagelists.blog_posts,
    "include": inclusions.include,
    "excerpt-include": inclusions.excerpt_include,
    "excerpt": inclusions.excerpt,
    "details": page_properties.details,
    **dict.fromkeys(("detailssummary", "details-summary"), page_properties.details_summary),
    "profile": profile,
    "profile-picture": profile,
    "gallery": embeds.gallery,
    **dict.fromkeys(embeds.FILE_MACROS, embeds.file_macro),
    **dict.fromkeys(embeds.DIAGRAMS, embeds.diagram),
    **dict.fromkeys(LINK_MACROS, link_macro),
    **dict.fromkeys(PANELS, panel),
    **dict.fromkeys(diagram_code.DIAGRAMS, diagram_code.diagram),
    **dict.fromkeys(formulas.INLINE_MACROS | formulas.BLOCK_MACROS, formulas.math_macro),
}

HANDLERS = dict.fromkeys(MACRO_TAGS, convert_macro)
