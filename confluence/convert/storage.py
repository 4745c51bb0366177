"""Reading storage-format XHTML into a tree, forgivingly.

Storage format is XHTML with `ac:`, `ri:` and `at:` elements, HTML entities that XML parsers reject and CDATA
sections that HTML parsers drop. We parse with Python's html.parser through BeautifulSoup: it keeps namespaced
tag names, honours `<ri:page ... />` self-closing tags and never raises on broken markup. Before parsing, CDATA
sections become escaped text, so code keeps every character (including a `]]>` split across two sections).
"""

from __future__ import annotations

import html
import re
from html.entities import html5

from bs4 import BeautifulSoup, Tag

CDATA = re.compile(r"<!\[CDATA\[(.*?)(\]\]>|\Z)", re.DOTALL)
ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
# "&#" not starting a complete character reference: html.parser would read the rest of the page as text.
BROKEN_CHARREF = re.compile(r"&#(?![0-9]{1,8};|[xX][0-9a-fA-F]{1,8};)")
TAG = re.compile(r"<(/?)((?:ac|ri|at):[\w-]+)[^>]*?(/?)>")

# Past this depth nested elements are unwrapped: their text stays, their structure goes.
MAX_DEPTH = 120


def prepare(storage: str, warnings: set[str]) -> str:
    """Storage text ready for html.parser, with problems noted in `warnings`."""
    text = storage.replace("\r\n", "\n").replace("\r", "\n")
    if "<![" in text:
        text = CDATA.sub(lambda m: _cdata_text(m, warnings), text)
        # Any other marked section (or a CDATA opener cut short) makes html.parser raise: keep it as text.
        text = text.replace("<![", "&lt;![")
    if "&" in text:
        text = ENTITY.sub(_keep_unknown_entity, text)
        text = BROKEN_CHARREF.sub("&amp;#", text)
    _check_balance(text, warnings)
    return text


def _cdata_text(match: re.Match, warnings: set[str]) -> str:
    if not match.group(2):
        warnings.add("unterminated CDATA section: kept its text to the end of the page")
    return html.escape(match.group(1), quote=False)


def _keep_unknown_entity(match: re.Match) -> str:
    # An undefined entity is text the author typed; keep it whole rather than let the parser eat the ";".
    name = match.group(1)
    return match.group(0) if f"{name};" in html5 else f"&amp;{name};"


def _check_balance(text: str, warnings: set[str]) -> None:
    """Warn about truncated input and unclosed Confluence elements (the parser closes them silently)."""
    tail = text.rstrip()
    if tail and not tail.endswith(">") and tail.rfind("<") > tail.rfind(">"):
        warnings.add("input ends inside a tag: the page looks truncated")
    depth: dict[str, int] = {}
    for closing, name, selfclosing in TAG.findall(text):
        if not selfclosing:
            depth[name] = depth.get(name, 0) + (-1 if closing else 1)
    unbalanced = sorted(name for name, n in depth.items() if n)
    if unbalanced:
        warnings.add(f"unbalanced markup, converted best-effort: {', '.join(unbalanced)}")


def parse(text: str, warnings: set[str]) -> BeautifulSoup:
    try:
        return BeautifulSoup(text, "html.parser")
    except Exception:  # a page must convert, even if only as text
        warnings.add("markup rejected by the parser: the page was converted as plain text")
        return BeautifulSoup(html.escape(text), "html.parser")


def flatten_deep_nesting(soup: BeautifulSoup, limit: int = MAX_DEPTH) -> int:
    """Unwrap elements nested deeper than `limit` (children before parents) and return how many went."""
    deep: list[Tag] = []
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        node, depth = stack.pop()
        for child in node.children:
            if isinstance(child, Tag):
                if depth >= limit:
                    deep.append(child)
                stack.append((child, depth + 1))
    for tag in reversed(deep):
        tag.unwrap()
    return len(deep)
