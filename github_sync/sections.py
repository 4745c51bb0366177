"""From a file's text to what search needs: front matter as metadata, a title, and sections under headings.

Pure functions (no Django, no I/O). Markdown headings follow CommonMark closely enough for documentation: ATX
(`## Title`) and setext (`Title` over `===`/`---`), never inside fenced code. reStructuredText headings are
underlined (optionally overlined) titles, ranked by the order their adornment first appears, as docutils does.
Other text (source code, plain text) becomes sections of whole lines, anchored like GitHub's `#L<line>`.

Front matter is read defensively by `github_sync.front_matter`: when it is refused, the file reads as if it had
none (its text stays searchable, the title comes from the first heading or the file name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Ingestion and the MCP server read front matter through this module, with the rest of a document.
from github_sync.front_matter import (
    DEFAULT_LIMITS,
    FrontMatterLimits,
    read_front_matter,
)

MARKDOWN_EXTENSIONS = frozenset({"md", "markdown", "mdx", "mdown", "mkd"})
RST_EXTENSIONS = frozenset({"rst", "rest"})
# Long sections are cut in parts: a snippet is found faster and PostgreSQL's tsvector stays far below 1 MB.
MAX_SECTION_CHARS = 8_000
# A single right-pointing angle quotation mark: rare in headings, so the path splits back into them.
SEPARATOR = " \u203a "

# CommonMark's ATX heading, part by part.
_ATX = re.compile(
    r"^ {0,3}(#{1,6})"  # up to three spaces of indentation, then one to six #
    r"(?:[ \t]+(.*?))?"  # the text, after at least one space (`#` alone is an empty heading; `#5` is no heading)
    r"(?:[ \t]+#+)?[ \t]*$"  # an optional closing sequence of # after a space, and trailing space
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKUP = re.compile(r"[*_`]+")
# HTML anchors in a heading (`## Setup <a id="section-17"></a>`, as the Confluence converter writes for anchor
# macros): GitHub shows none of them, so neither do titles and headings.
_HTML_ANCHOR = re.compile(r"<a(?:\s[^<>]*)?>|</a\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class SectionData:
    heading: str
    headings: tuple[str, ...]  # outer headings down to this one
    anchor: str
    text: str

    @property
    def heading_path(self) -> str:
        return SEPARATOR.join(self.headings)


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    metadata: dict
    sections: list[SectionData] = field(default_factory=list)
    warning: str = ""  # a problem worth telling staff about (refused front matter)

    @property
    def source_url(self) -> str:
        value = self.metadata.get("source_url") or self.metadata.get("source") or ""
        ok = isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 1000
        return value if ok else ""


def parse_document(path: str, text: str, limits: FrontMatterLimits = DEFAULT_LIMITS) -> ParsedDocument:
    """Title, front matter and sections of the file at `path`."""
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    filename = path.rsplit("/", 1)[-1]
    warning = ""
    if extension in MARKDOWN_EXTENSIONS:
        front = read_front_matter(text, limits)
        metadata, warning = front.metadata, front.problem
        sections = split_markdown(front.body)
    elif extension in RST_EXTENSIONS:
        metadata, sections = {}, split_rst(text)
    else:
        metadata, sections = {}, split_lines(text)
    title = str(metadata.get("title") or "").strip() or _first_top_heading(sections) or filename
    return ParsedDocument(title=title[:500], metadata=metadata, sections=sections, warning=warning)


# Markdown --------------------------------------------------------------------------------------------------


def split_markdown(body: str) -> list[SectionData]:
    builder = _Builder()
    lines = body.splitlines()
    fence: str | None = None
    for number, line in enumerate(lines):
        if fence:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            builder.add(line)
            continue
        if match := _FENCE.match(line):
            fence = match.group(1)
            builder.add(line)
            continue
        if match := _ATX.match(line):
            builder.heading(len(match.group(1)), clean_heading(match.group(2) or ""))
            continue
        if _is_setext(lines, number, builder):
            level = 1 if line.strip().startswith("=") else 2
            builder.retitle_last_line(level)
            continue
        builder.add(line)
    return builder.finish()


def _is_setext(lines: list[str], number: int, builder: _Builder) -> bool:
    """An underline right below a one-line paragraph (a lone `---` elsewhere is a thematic break)."""
    if number == 0 or not _SETEXT.match(lines[number]) or not builder.lines:
        return False
    previous = lines[number - 1]
    before = lines[number - 2] if number >= 2 else ""
    return bool(previous.strip()) and not before.strip() and not previous.lstrip().startswith(("-", "*", ">", "|"))


def clean_heading(text: str) -> str:
    text = _LINK.sub(r"\1", _HTML_ANCHOR.sub("", text))
    return _INLINE_MARKUP.sub("", text).strip()


def anchor_for(heading: str, seen: dict[str, int]) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens, `-1`, `-2` for repeats."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return f"{slug}-{count}" if count else slug


class _Builder:
    """Collects lines under the current heading and closes a section at each new heading."""

    def __init__(self):
        self.sections: list[SectionData] = []
        self.stack: list[tuple[int, str]] = []  # (level, heading) of the open headings
        self.lines: list[str] = []
        self.anchor = ""
        self.seen: dict[str, int] = {}

    def add(self, line: str) -> None:
        self.lines.append(line)

    def heading(self, level: int, text: str) -> None:
        self._close()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.anchor = anchor_for(text, self.seen)

    def retitle_last_line(self, level: int) -> None:
        text = clean_heading(self.lines.pop())
        self.heading(level, text)

    def _close(self) -> None:
        text = "\n".join(self.lines).strip("\n")
        self.lines = []
        heading = self.stack[-1][1] if self.stack else ""
        if not text.strip() and not heading:
            return
        headings = tuple(h for _, h in self.stack)
        for part in chunk_text(text):
            self.sections.append(SectionData(heading, headings, self.anchor, part))

    def finish(self) -> list[SectionData]:
        self._close()
        return self.sections


# reStructuredText ------------------------------------------------------------------------------------------


def split_rst(text: str) -> list[SectionData]:
    builder = _Builder()
    styles: list[tuple[str, bool]] = []
    lines = text.splitlines()
    skip = 0
    for number, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        title = _rst_title(lines, number)
        if title is None:
            builder.add(line)
            continue
        heading, style, consumed = title
        if style not in styles:
            styles.append(style)
        builder.heading(styles.index(style) + 1, heading)
        skip = consumed - 1
    return builder.finish()


def _rst_title(lines: list[str], number: int) -> tuple[str, tuple[str, bool], int] | None:
    """(title, (adornment char, overlined), lines used) when a section title starts at `number`."""
    line = lines[number]
    nxt = lines[number + 1] if number + 1 < len(lines) else ""
    if _RST_ADORNMENT.match(line) and number + 2 < len(lines):
        title, under = lines[number + 1], lines[number + 2]
        if title.strip() and under.strip() == line.strip() and len(line.strip()) >= len(title.strip()):
            return title.strip(), (line.strip()[0], True), 3
    underlined = line.strip() and not line[0].isspace() and _RST_ADORNMENT.match(nxt)
    if underlined and len(nxt.strip()) >= max(len(line.rstrip()), 2):
        return line.strip(), (nxt.strip()[0], False), 2
    return None


# Other text ------------------------------------------------------------------------------------------------


def split_lines(text: str) -> list[SectionData]:
    """Source code and plain text: runs of whole lines, each anchored at its first line (`#L12`)."""
    sections, lines, start, size = [], [], 1, 0
    for number, line in enumerate(text.splitlines(), start=1):
        if lines and size + len(line) > MAX_SECTION_CHARS:
            sections.append(SectionData("", (), f"L{start}", "\n".join(lines)))
            lines, start, size = [], number, 0
        lines.append(line)
        size += len(line) + 1
    if any(line.strip() for line in lines):
        sections.append(SectionData("", (), f"L{start}", "\n".join(lines)))
    return sections


def chunk_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """The text in parts of at most about `limit` characters, cut at line ends."""
    if len(text) <= limit:
        return [text]
    parts, current, size = [], [], 0
    for line in text.splitlines():
        if current and size + len(line) > limit:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line[: limit * 2])
        size += len(line) + 1
    if current:
        parts.append("\n".join(current))
    return parts


def _first_top_heading(sections: list[SectionData]) -> str:
    return next((s.headings[0] for s in sections if s.headings), "")
