"""Inclusion macros: include (another page's body), excerpt-include (another page's excerpt) and excerpt itself.

The content comes from the synced source page: the context holds its storage body (`sources`), converted here
as that page (its attachments, its links without a space) but linked from the including page's file. A source
that is not synced (out of scope, restricted, unknown title) or whose body is not in hand becomes a link to
Confluence with a note, never a gap; restricted pages are never synced, so their content never lands here.

An include of a page that includes the first one stops where it would repeat: a page already being shown, or
more than MAX_DEPTH levels down, becomes a link instead. Each source shown, at any depth, is reported
(`included`), so the sync renders the page again when a source changes.

- include: the source's body, as Confluence shows it, without a frame.
- excerpt-include: the source's excerpt (the one named by `name`, else the first); in a panel headed by the
  source's title unless `nopanel` is true. A source without an excerpt shows the link.
- excerpt: its body in place; a `hidden` one (not shown on its own page in Confluence) stays folded away, so its
  text is kept without showing as the page's own content.
"""

from __future__ import annotations

from dataclasses import replace

from .blocks import Anchors, alert
from .elements import is_standalone
from .escaping import escape
from .links import markdown_link, page_href
from .storage import parse, prepare, repair

MAX_DEPTH = 4
EXCERPT_NAMES = ("excerpt",)


def include(conv, macro, parent_tags) -> str | None:
    ref = macro.param_ref("")
    if ref is None:
        return None
    hooked = conv.context.include(ref)
    if hooked:
        conv.report.linked_pages.add(ref)
        return conv.block(hooked, parent_tags)
    source, why = source_of(conv, ref)
    if source is None:
        return fallback(conv, ref, "Content included from", why, parent_tags)
    soup = source_soup(conv, source)
    nested = nested_converter(conv, source, soup)
    return conv.block(nested.process_tag(soup, parent_tags=parent_tags).strip("\n"), parent_tags)


def excerpt_include(conv, macro, parent_tags) -> str | None:
    ref = macro.param_ref("")
    if ref is None:
        return None
    nopanel = macro.param("nopanel").lower() == "true"
    hooked = conv.context.excerpt(ref)
    source, why = (None, "") if hooked else source_of(conv, ref)
    if hooked:
        conv.report.linked_pages.add(ref)
        body = hooked
    elif source is None:
        return fallback(conv, ref, "Excerpt included from", why, parent_tags)
    else:
        body = source_excerpt(conv, source, macro.param("name"), parent_tags if nopanel else parent_tags | {"_quoted"})
        if body is None:
            return fallback(conv, ref, "Excerpt included from", "which has no excerpt", parent_tags)
    if nopanel:
        return " ".join(body.split()) if flows(macro, body) else conv.block(body, parent_tags)
    title = markdown_link(escape(source.title if source else ref.title or ""), page_href(conv, ref), parent_tags)
    return conv.block(alert("NOTE", title, body), parent_tags)


def excerpt(conv, macro, parent_tags) -> str:
    body = macro.render_body(conv, parent_tags)
    if macro.param("hidden").lower() != "true" or not body.strip():
        return " ".join(body.split()) if flows(macro, body) else conv.block(body, parent_tags)
    if "_inline" in parent_tags:
        return ""  # a hidden excerpt inside a heading: nothing Confluence shows, nowhere to fold it
    folded = f"<details>\n<summary>Excerpt (hidden on this page)</summary>\n\n{body}\n\n</details>"
    return conv.block(folded, parent_tags)


def flows(macro, body: str) -> bool:
    """An excerpt inside a paragraph whose content is one paragraph: it stays in the text (INLINE output)."""
    return not is_standalone(macro.el) and "\n" not in body.strip()


def source_of(conv, ref):
    """(the synced source page, "") or (None, why it is not shown)."""
    context = conv.context
    page = context.source_page(ref)
    if page is None:
        return None, "which is not in this repository"
    chain = (*context.including, context.page_id)
    if page.id in chain or len(chain) > MAX_DEPTH:
        conv.report.linked_pages.add(ref)
        return None, "already shown around this point (an inclusion loop)" if page.id in chain else "nested too deep"
    if page.id not in context.sources:
        return None, "whose content was not at hand"
    conv.report.included.add(page.id)
    return page, ""


def source_soup(conv, source):
    soup = parse(prepare(conv.context.sources[source.id], set()), set())
    repair(soup, set())
    return soup


def nested_converter(conv, source, soup):
    """A converter for the source page's content: the source's page and space, the including page's file."""
    chain = (*conv.context.including, conv.context.page_id or "")
    context = replace(conv.context, page_id=source.id, space_key=source.space_key, including=chain)
    nested = type(conv)(context, conv.report)
    nested.anchors = Anchors.of(soup)
    return nested


def source_excerpt(conv, source, name: str, parent_tags) -> str | None:
    """The Markdown of the source's excerpt named `name` (any name: the first), or None when it has none."""
    soup = source_soup(conv, source)
    for el in soup.find_all(["ac:structured-macro", "ac:macro"]):
        if (el.get("ac:name") or "").lower() not in EXCERPT_NAMES:
            continue
        body = el.find("ac:rich-text-body", recursive=False)
        named = el.find("ac:parameter", attrs={"ac:name": "name"}, recursive=False)
        if body is None or (name and (named is None or named.get_text().strip() != name)):
            continue
        return nested_converter(conv, source, soup).render_children(body, parent_tags).strip("\n")
    return None


def fallback(conv, ref, label: str, why: str, parent_tags) -> str:
    title = escape(ref.title or ref.page_id or "another page")
    note = f", {why}" if why else ""
    return conv.block(f"*{label} {markdown_link(title, page_href(conv, ref), parent_tags)}{note}.*", parent_tags)
