"""The Markdown writer: markdownify's HTML handling, with our own tree walk, whitespace and escaping rules.

Confluence elements (`ac:*`, `ri:*`, tables) are converted top-down by the handlers in `HANDLERS`: a handler
receives the element itself and decides which of its children to render, so macro parameters never leak into
the text and code keeps its exact characters. Everything else goes through markdownify's `convert_<tag>`
methods, bottom-up, as usual.
"""

from __future__ import annotations

import re

from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag
from markdownify import ATX, SPACES, MarkdownConverter, abstract_inline_conversion, chomp

from . import blocks, definitions, emoticons, formulas, links, macros, tables
from .context import ConvertContext, Report
from .elements import HEADINGS, INLINE_TAGS, is_block
from .escaping import escape, escape_line_start, is_punctuation, starts_block

NOT_CONVERTERS = frozenset({"soup", "fn_cache", "fn-cache", "fn:cache", "_document_"})
# Elements that never carry visible text of their own.
SKIPPED_STRINGS = (Comment, Doctype, Declaration, ProcessingInstruction)
LEADING_NEWLINES = re.compile(r"^(\n*)((?:.*[^\n])?)(\n*)$", re.DOTALL)
WHITESPACE = re.compile(r"\s+")
BACKTICKS = re.compile(r"`+")

HANDLERS = {
    **links.HANDLERS,
    **macros.HANDLERS,
    **tables.HANDLERS,
    **blocks.HANDLERS,
    **emoticons.HANDLERS,
    **formulas.HANDLERS,
    **definitions.HANDLERS,
    # Elements never shown: editor hints ("Type your summary here") and column widths Markdown has no room for.
    **dict.fromkeys(("ac:placeholder", "colgroup", "col"), lambda conv, el, parent_tags: ""),
}


def emphasis(marker: str, html_tag: str, same: frozenset[str]):
    """Inline formatting that falls back to HTML where `marker` would not open or close (CommonMark flanking)."""

    def convert(self, el, text, parent_tags):
        if "_noformat" in parent_tags or same & parent_tags:
            return text
        prefix, suffix, inner = chomp(text)
        if not inner:
            return prefix or suffix
        if "\n\n" in inner:  # emphasis cannot span blocks
            return text
        if self.flanks(el, inner, prefix, suffix):
            return f"{prefix}{marker}{inner}{marker}{suffix}"
        return f"{prefix}<{html_tag}>{inner}</{html_tag}>{suffix}"

    return convert


class StorageConverter(MarkdownConverter):
    class Options(MarkdownConverter.DefaultOptions):
        bullets = "-"
        heading_style = ATX
        newline_style = SPACES
        sub_symbol = "<sub>"
        sup_symbol = "<sup>"

    def __init__(self, context: ConvertContext, report: Report, **options):
        super().__init__(**options)
        self.context = context
        self.report = report
        self.anchors = blocks.Anchors()

    # -- the tree walk -------------------------------------------------------------------------------------

    def get_conv_fn(self, tag_name):
        # Tag names come from the page: <soup> or <fn-cache> must not reach our own methods.
        if tag_name.lower() in NOT_CONVERTERS:
            return None
        return super().get_conv_fn(tag_name)

    def convert_soup(self, soup):
        self.anchors = blocks.Anchors.of(soup)
        return self.process_tag(soup, parent_tags=frozenset()).strip("\n")

    def process_tag(self, node, parent_tags=None):
        parent_tags = parent_tags or frozenset()
        handler = HANDLERS.get(node.name)
        if handler is not None:
            return handler(self, node, parent_tags)
        text = self.render_children(node, parent_tags)
        convert_fn = self.get_conv_fn_cached(node.name)
        return convert_fn(node, text, parent_tags=parent_tags) if convert_fn else text

    def render_children(self, node, parent_tags, extra: frozenset[str] = frozenset()) -> str:
        """The Markdown of `node`'s children, joined with at most one blank line between blocks."""
        tags = self.child_tags(node, parent_tags) | extra
        preformatted = "pre" in tags
        inside_block = is_block(node)
        strings = []
        for child in node.children:
            if isinstance(child, NavigableString):
                if isinstance(child, SKIPPED_STRINGS):
                    continue
                if not preformatted and not child.strip() and self.ignorable_space(child, inside_block):
                    continue
                text = self.process_text(child, tags)
            else:
                text = self.process_tag(child, tags)
            if text:
                strings.append(text)
        return "".join(strings) if preformatted else join_blocks(strings)

    @staticmethod
    def ignorable_space(child, inside_block: bool) -> bool:
        prev, nxt = child.previous_sibling, child.next_sibling
        if inside_block and (prev is None or nxt is None):
            return True
        return is_block(prev) or is_block(nxt)

    @staticmethod
    def child_tags(node, parent_tags: frozenset[str]) -> frozenset[str]:
        tags = {node.name}
        if node.name in HEADINGS:
            tags.add("_inline")
        if node.name in ("pre", "code", "kbd", "samp"):
            tags.add("_noformat")
        if node.name == "blockquote":
            tags.add("_quoted")  # every line gets a `> ` prefix: see tables.py
        return parent_tags | tags

    def process_text(self, el, parent_tags=None):
        parent_tags = parent_tags or frozenset()
        text = str(el)
        if "pre" in parent_tags:
            return text
        text = WHITESPACE.sub(" ", text)
        if "_noformat" not in parent_tags:
            text = escape(text)
            if starts_block(text) and not (HEADINGS & parent_tags) and self.at_line_start(el):
                text = escape_line_start(text)
        prev, nxt = el.previous_sibling, el.next_sibling
        if is_block(prev) or (prev is None and is_block(el.parent)) or getattr(prev, "name", None) == "br":
            text = text.lstrip()
        if is_block(nxt) or (nxt is None and is_block(el.parent)):
            text = text.rstrip()
        return text

    def at_line_start(self, el) -> bool:
        """Whether text node `el` starts a line of output: first in its block, or after a block or a break."""
        node = el
        while True:
            prev = node.previous_sibling
            while prev is not None and renders_nothing(prev):
                prev = prev.previous_sibling
            if prev is None:
                parent = node.parent
                if parent is None or parent.name not in INLINE_TAGS:
                    return True
                node = parent
                continue
            return isinstance(prev, Tag) and (prev.name == "br" or is_block(prev))

    def flanks(self, el, inner: str, prefix: str, suffix: str) -> bool:
        """Whether `*`/`~` markers around `inner` open and close under CommonMark's flanking rules."""
        before = prefix or _edge_char(el.previous_sibling, -1)
        after = suffix or _edge_char(el.next_sibling, 0)
        if is_punctuation(inner[0]) and before and not before.isspace() and not is_punctuation(before):
            return False
        return not (is_punctuation(inner[-1]) and after and not after.isspace() and not is_punctuation(after))

    def block(self, markdown: str, parent_tags: frozenset[str]) -> str:
        """Wrap block output so it stands apart from its neighbours (or inline, inside a heading)."""
        markdown = markdown.strip("\n")
        if not markdown:
            return ""
        if "_inline" in parent_tags:
            return " " + markdown.replace("\n", " ") + " "
        return f"\n\n{markdown}\n\n"

    def code_span(self, text: str) -> str:
        text = " ".join(text.split())
        longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
        delimiter = "`" * (longest + 1)
        if longest or text.startswith("`") or text.endswith("`"):
            text = f" {text} "
        return f"{delimiter}{text}{delimiter}"

    # -- HTML elements -------------------------------------------------------------------------------------

    def convert_p(self, el, text, parent_tags):
        text = text.strip()
        if not text:
            return ""
        if "_inline" in parent_tags:
            return " " + text + " "
        if el.parent is not None and el.parent.name == "li":
            nxt = el.find_next_sibling()
            if nxt is not None and nxt.name in ("ul", "ol", "ac:task-list"):
                # Keep a nested list tight under its item's text.
                return f"\n\n{text}\n"
        return f"\n\n{text}\n\n"

    def convert_list(self, el, text, parent_tags):
        markdown = super().convert_list(el, text, parent_tags)
        previous = el.find_previous_sibling()
        if previous is not None and previous.name == el.name and "li" not in parent_tags:
            # Two lists of one kind in a row would merge into one: an empty comment keeps them apart.
            return "\n\n<!-- -->" + markdown
        return markdown

    convert_ul = convert_ol = convert_list

    def convert_hN(self, n, el, text, parent_tags):
        text = WHITESPACE.sub(" ", text).strip()
        if not text or "_inline" in parent_tags:
            return text
        return f"\n\n{'#' * max(1, min(6, n))} {text}\n\n"

    def convert_br(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return " "
        if "_cell" in parent_tags:
            return "<br>"
        return "  \n"

    def convert_pre(self, el, text, parent_tags):
        code = el.find("code")
        language = blocks.code_language_of(code if code is not None else el)
        return self.block(blocks.fence(el.get_text(), language), parent_tags)

    def convert_a(self, el, text, parent_tags):
        return links.html_link(self, el, text, parent_tags)

    def convert_img(self, el, text, parent_tags):
        return links.html_image(self, el)

    def convert_time(self, el, text, parent_tags):
        return text or escape(el.get("datetime", ""))

    def convert_hr(self, el, text, parent_tags):
        return "\n\n---\n\n"

    def convert_div(self, el, text, parent_tags):
        return self.block(text, parent_tags)

    convert_ac_layout = convert_ac_layout_section = convert_ac_layout_cell = convert_div
    convert_ac_rich_text_body = convert_ac_adf_content = convert_center = convert_div

    convert_b = convert_strong = emphasis("**", "strong", frozenset({"b", "strong"}))
    convert_em = convert_i = emphasis("*", "em", frozenset({"em", "i"}))
    convert_del = convert_s = convert_strike = emphasis("~~", "del", frozenset({"del", "s", "strike"}))
    # GitHub has no Markdown for underline; it keeps `<ins>`, which it shows underlined.
    convert_u = convert_ins = abstract_inline_conversion(lambda self: "<ins>")


def renders_nothing(node) -> bool:
    if isinstance(node, NavigableString):
        return isinstance(node, SKIPPED_STRINGS) or not node.strip()
    return node.name not in ("br", "img", "ac:image", "ac:emoticon") and not node.get_text().strip()


def _edge_char(node, index: int) -> str:
    if isinstance(node, NavigableString) and not isinstance(node, SKIPPED_STRINGS):
        text = str(node)
        return text[index] if text else ""
    return ""


def join_blocks(strings: list[str]) -> str:
    """Join rendered children, collapsing the newlines where two meet to at most one blank line."""
    out = [""]
    for string in strings:
        leading, content, trailing = LEADING_NEWLINES.match(string).groups()
        if out[-1] and leading:
            previous = out.pop()
            leading = "\n" * min(2, max(len(previous), len(leading)))
        out.extend((leading, content, trailing))
    return "".join(out)
