"""Escaping text so it stays text in GitHub-flavoured Markdown, and no noisier than it must be.

Agents read the raw Markdown, so we escape only what could turn into formatting: `*`, `` ` ``, `[`/`]`, `~`, a
backslash before punctuation, `_` at a word boundary (snake_case is safe in GFM), `<` that could open a tag,
`&` that could spell an entity, and block markers (`#`, `>`, `-`, `+`, `1.`) when the text starts a line.
"""

from __future__ import annotations

import re
import unicodedata
from html.entities import html5
from urllib.parse import quote

INLINE = re.compile(
    r"[`*\[\]~]"  # emphasis, code, links, strikethrough
    r"|\\(?=[!-/:-@\[-`{-~]|$)"  # a backslash that would escape what follows
    r"|_(?![^\W_])|(?<![^\W_])_"  # underscore not inside a word
    r"|<(?=[A-Za-z/!?])"  # a tag or comment opener
    r"|&(?=#?\w+;)"  # an entity
)
LINE_START = re.compile(r"#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-{2,}\s*$")
ORDERED = re.compile(r"\d{1,9}[.)](\s|$)")
URL_UNSAFE = re.compile(r"[\s()<>]")
# Link schemes that run or embed content where a reader follows them: GitHub drops such links, other renderers of
# the repository may not. Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
SCRIPTING_SCHEME = re.compile(r"(?:javascript|vbscript|data):", re.IGNORECASE)
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# In link text: a code span (left as it is) or a backslash escape.
CODE_OR_ESCAPE = re.compile(r"(`+)[\s\S]*?(?<!`)\1(?!`)|\\[\s\S]")
BRACKET_REFS = {"\\[": "&#91;", "\\]": "&#93;"}


def escape(text: str) -> str:
    return INLINE.sub(_escape_match, text)


def _escape_match(match: re.Match) -> str:
    char = match.group(0)
    if char == "&" and not _is_entity(match.string, match.end()):
        return char
    return "\\" + char


def _is_entity(text: str, start: int) -> bool:
    """Whether `&` + text[start:] spells an entity GitHub would decode (`&amp;`, `&#169;`, `&#x2603;`)."""
    end = text.find(";", start)
    name = text[start:end]
    return name.startswith("#") or f"{name};" in html5


def starts_block(text: str) -> bool:
    """Whether `text`, put at the start of a line, would open a heading, quote, list or rule."""
    stripped = text.lstrip()
    if not stripped:
        return False
    if stripped[0] in "#>-+=":
        return LINE_START.match(stripped) is not None
    return stripped[0].isdigit() and ORDERED.match(stripped) is not None


def escape_line_start(text: str) -> str:
    """Escape the block marker that `starts_block` found."""
    lead = len(text) - len(text.lstrip())
    stripped = text[lead:]
    if stripped[0].isdigit():
        digits = len(stripped) - len(stripped.lstrip("0123456789"))
        return text[: lead + digits] + "\\" + stripped[digits:]
    return text[:lead] + "\\" + stripped


def link_text(markdown: str) -> str:
    """Link (or image) text with its escaped brackets as character references (`&#91;1&#93;`): CommonMark decodes
    them in link text, and readers that find links with a simple pattern see a link whose text holds `\\]` as none.
    Brackets of nested markup (an image inside a link) and of code spans stay as they are. A backslash left last
    (text that ended in one before its trailing space was trimmed) is doubled: it would escape the closing `]`."""
    if "\\" not in markdown:
        return markdown
    text = CODE_OR_ESCAPE.sub(lambda m: BRACKET_REFS.get(m.group(0), m.group(0)), markdown)
    return text + "\\" if (len(text) - len(text.rstrip("\\"))) % 2 else text


def runs_script(url: str) -> bool:
    """Whether the link would run or embed something instead of going somewhere (javascript:, data:…)."""
    return SCRIPTING_SCHEME.match(CONTROL_OR_SPACE.sub("", url)) is not None


def href(url: str) -> str:
    """A link destination GitHub parses in one piece: spaces, brackets and parentheses percent-encoded."""
    return URL_UNSAFE.sub(lambda m: quote(m.group(0)), url.strip())


def link_title(title: str) -> str:
    return ' "{}"'.format(title.replace("\\", "\\\\").replace('"', '\\"')) if title else ""


def is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"
