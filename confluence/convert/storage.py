"""Reading storage-format XHTML into a tree, forgivingly.

Storage format is XHTML with `ac:`, `ri:` and `at:` elements, HTML entities that XML parsers reject and CDATA
sections that HTML parsers drop. We parse with Python's html.parser through BeautifulSoup: it keeps namespaced
tag names, honours `<ri:page ... />` self-closing tags and never raises on broken markup. Before parsing, CDATA
sections become escaped text, so code keeps every character (including a `]]>` split across two sections).

Broken bodies exist (an unterminated CDATA section, a page cut short, a closing tag or a `/>` missing), and
the parser then nests the rest of the page inside an element whose handler shows only some of its children
(a macro shows its body, not what follows it). `repair` moves such content back out, after the element, so
no text is lost and no markup is left over.
"""

from __future__ import annotations

import html
import re
from html.entities import html5

from bs4 import BeautifulSoup, Comment, Tag

CDATA_OPEN = "<![CDATA["
CDATA_CLOSE = "]]>"
# Where an unterminated CDATA section ends: at the next storage-format tag (its container's end tag, usually).
STORAGE_TAG = re.compile(r"</?(?:ac|ri|at):(?:[\w-]|\Z)")
END_TAG = re.compile(r"</(?:ac|ri|at):[\w-]")
# The start of a tag cut off by the end of the page (`<ac:structured-mac`, `<ri:page ri:content-title="Ru`).
CUT_TAG = re.compile(r"<[A-Za-z/!?][^>]*\Z")
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
        text = cdata_as_text(text, warnings)
    # Only after the last ">": from every "<" before it the pattern would scan on to that ">" and fail.
    cut = CUT_TAG.search(text, text.rfind(">") + 1)
    if cut:
        warnings.add("input ends inside a tag: the page looks truncated")
        text = text[: cut.start()]  # a tag's name and attributes are not text anyone reads
    if "<![" in text:
        # Any other marked section (or a CDATA opener cut short) makes html.parser raise: keep it as text.
        text = text.replace("<![", "&lt;![")
    if "&" in text:
        text = ENTITY.sub(_keep_unknown_entity, text)
        text = BROKEN_CHARREF.sub("&amp;#", text)
    _check_balance(text, warnings)
    return text


def cdata_as_text(text: str, warnings: set[str]) -> str:
    """Every CDATA section as escaped text. A section ends at its first `]]>`; one left open ends at the next
    storage-format tag instead (its container's end tag, usually), so the rest of the page stays markup."""
    out: list[str] = []
    position = close = 0
    while (start := text.find(CDATA_OPEN, position)) >= 0:
        body = start + len(CDATA_OPEN)
        if 0 <= close < body:  # the first "]]>" found still ends any section opened before it; none found stays none
            close = text.find(CDATA_CLOSE, body)
        limit = close if close >= 0 else len(text)
        tag = STORAGE_TAG.search(text, body, limit) if close < 0 or runs_on(text, body, close) else None
        if tag is not None or close < 0:
            warnings.add("unterminated CDATA section: its text was kept up to where its element ends")
            stop = tag.start() if tag is not None else limit
            out += [text[position:start], html.escape(text[body:stop], quote=False)]
            position = stop
        else:
            out += [text[position:start], html.escape(text[body:close], quote=False)]
            position = close + len(CDATA_CLOSE)
    out.append(text[position:])
    return "".join(out)


def runs_on(text: str, body: int, close: int) -> bool:
    """Whether the `]]>` at `close` ends a later section, the one at `body` being left open: another section
    starts before it. Code can show a CDATA section too, but then its `]]>` is written `]]]]><![CDATA[>` (a
    section follows at once) and no storage-format end tag comes before it."""
    if text.find(CDATA_OPEN, body, close) < 0:
        return False
    split = text.startswith(CDATA_OPEN, close + len(CDATA_CLOSE))
    return not split or END_TAG.search(text, body, close) is not None


def _keep_unknown_entity(match: re.Match) -> str:
    # An undefined entity is text the author typed; keep it whole rather than let the parser eat the ";".
    name = match.group(1)
    return match.group(0) if f"{name};" in html5 else f"&amp;{name};"


def _check_balance(text: str, warnings: set[str]) -> None:
    """Warn about unclosed Confluence elements (the parser closes them silently)."""
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
    """Unwrap elements nested deeper than `limit` and return how many went: each outermost one is replaced by the
    text inside it, in one step (unwrapping them one at a time takes time with the square of the depth)."""
    outermost: list[Tag] = []
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        node, depth = stack.pop()
        for child in node.children:
            if isinstance(child, Tag):
                if depth >= limit:
                    outermost.append(child)
                else:
                    stack.append((child, depth + 1))
    gone = 0
    for tag in outermost:
        strings, tags = [], 1
        for node in tag.descendants:
            if isinstance(node, Tag):
                tags += 1
            else:
                strings.append(type(node)(node))
        if strings:
            tag.replace_with(*strings)
        else:
            tag.extract()
        gone += tags
    return gone


# What each element holds when its markup is whole: the elements (a name, or a namespace such as "ri:") and
# whether text too. Its handler shows nothing else, so anything else in it is there because a tag was left
# open, and goes back out, after the element.
MACRO_PARTS = frozenset({"ac:parameter", "ac:default-parameter", "ac:rich-text-body", "ac:plain-text-body"})
PARAMETER_PARTS = frozenset({"ri:", "at:", "ac:link"})
TASK_PARTS = frozenset({"ac:task-id", "ac:task-uuid", "ac:task-status", "ac:task-body"})
ROW_GROUP = frozenset({"tr"})
NOTHING = frozenset()
HOLDS: dict[str, tuple[frozenset[str], bool]] = {
    "ac:structured-macro": (MACRO_PARTS, False),
    "ac:macro": (MACRO_PARTS, False),
    "ac:link": (frozenset({"ac:link-body", "ac:plain-text-link-body", "ri:"}), False),
    "ac:image": (frozenset({"ri:attachment", "ri:url", "ac:caption"}), False),
    "ac:parameter": (PARAMETER_PARTS, True),
    "ac:default-parameter": (PARAMETER_PARTS, True),
    "ac:plain-text-body": (NOTHING, True),
    "ac:plain-text-link-body": (NOTHING, True),
    "ac:emoticon": (NOTHING, False),
    "ac:task-list": (frozenset({"ac:task", "ac:task-list"}), False),
    "ac:task": (TASK_PARTS, False),
    "ac:task-id": (NOTHING, True),
    "ac:task-uuid": (NOTHING, True),
    "ac:task-status": (NOTHING, True),
    "ac:adf-extension": (frozenset({"ac:adf-node", "ac:adf-fallback"}), False),
    "ac:adf-node": (frozenset({"ac:adf-attribute", "ac:adf-content", "ac:adf-node"}), False),
    "ac:adf-attribute": (NOTHING, True),
    "table": (frozenset({"tr", "thead", "tbody", "tfoot", "caption", "colgroup", "col"}), False),
    "thead": (ROW_GROUP, False),
    "tbody": (ROW_GROUP, False),
    "tfoot": (ROW_GROUP, False),
    "tr": (frozenset({"td", "th"}), False),
    "colgroup": (frozenset({"col"}), False),
    "col": (NOTHING, False),
}
RESOURCE_PARTS = (frozenset({"ri:"}), False)  # every ri:* element: an attachment holds the page it is on


def repair(soup: BeautifulSoup, warnings: set[str]) -> None:
    """Move content an unclosed element swallowed back out, after it, innermost elements first."""
    moved: set[str] = set()
    repairable = [node for node in soup.descendants if isinstance(node, Tag) and _repairable(node)]
    for el in reversed(repairable):
        holds, text = HOLDS.get(el.name, RESOURCE_PARTS)
        strays = [child for child in el.children if not _belongs(child, holds, text)]
        if not strays:
            continue
        moved.add(el.name)
        anchor = el
        for child in strays:
            anchor.insert_after(child.extract())
            anchor = child
    if moved:
        warnings.add(f"content left inside unclosed elements was moved after them: {', '.join(sorted(moved))}")


def _repairable(tag: Tag) -> bool:
    return tag.name in HOLDS or tag.name[:3] == "ri:"


def _belongs(child, holds: frozenset[str], text: bool) -> bool:
    if not isinstance(child, Tag):
        return text or isinstance(child, Comment) or not child.strip()
    name = child.name
    return name in holds or name[:3] in holds
