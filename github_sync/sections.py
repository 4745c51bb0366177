"""From a file's text to what search needs: front matter as metadata, a title, and sections under headings.

Pure functions (no Django, no I/O). Markdown headings follow CommonMark closely enough for documentation: ATX
(`## Title`) and setext (`Title` over `===`/`---`), never inside fenced code. reStructuredText headings are
underlined (optionally overlined) titles, ranked by the order their adornment first appears, as docutils does.
Other text (source code, plain text) becomes sections of whole lines, anchored like GitHub's `#L<line>`.

Front matter comes from anyone who can push to an ingested repository, so it is read defensively: over a size
cap it is not parsed; YAML anchors and aliases (the "billion laughs" expansion) and deep nesting are refused
while the YAML is composed, before any object is constructed; metadata whose JSON is over a cap is not kept.
Front matter that is refused, malformed or not a mapping is not front matter: the file reads as if it had none
(its text stays searchable, the title comes from the first heading or the file name) and the reason is reported
for the ingestion run's warnings.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, field

import yaml

MARKDOWN_EXTENSIONS = frozenset({"md", "markdown", "mdx", "mdown", "mkd"})
RST_EXTENSIONS = frozenset({"rst", "rest"})
# Long sections are cut in parts: a snippet is found faster and PostgreSQL's tsvector stays far below 1 MB.
MAX_SECTION_CHARS = 8_000
# A single right-pointing angle quotation mark: rare in headings, so the path splits back into them.
SEPARATOR = " \u203a "
# Our Confluence pages nest two levels (labels, ancestors); beyond this much, YAML's composer would soon hit
# Python's recursion limit, an error that would fail the whole ingestion run.
FRONT_MATTER_MAX_DEPTH = 32
_NOT_KEPT = "ingested as text, without metadata"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
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
class FrontMatterLimits:
    """Sizes beyond which front matter is refused. Ingestion passes the configured ones (settings.FRONT_MATTER_*)."""

    max_bytes: int = 64 * 1024  # the YAML between the `---` lines, before parsing
    max_metadata_bytes: int = 64 * 1024  # the parsed metadata, as the JSON the database stores


@dataclass(frozen=True)
class FrontMatter:
    metadata: dict
    body: str  # the text after the front matter; the whole text when there is none or it is not kept
    problem: str = ""  # why front matter was found but not kept as metadata ("" when kept or absent)


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


def parse_document(path: str, text: str, limits: FrontMatterLimits = FrontMatterLimits()) -> ParsedDocument:
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


def parse_front_matter(text: str, limits: FrontMatterLimits = FrontMatterLimits()) -> tuple[dict, str]:
    """YAML front matter between `---` lines at the very top, and the text after it.

    Anything that is not kept as a YAML mapping is left in the body, as GitHub renders it then.
    """
    front = read_front_matter(text, limits)
    return front.metadata, front.body


def read_front_matter(text: str, limits: FrontMatterLimits = FrontMatterLimits()) -> FrontMatter:
    """The front matter as metadata and the body after it, or why it was not kept (the body is then all the text)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return FrontMatter({}, text)
    source = match.group(1) or ""
    size = len(source.encode())
    if size > limits.max_bytes:
        return FrontMatter(
            {}, text, f"front matter is {size} bytes, over the {limits.max_bytes}-byte limit: {_NOT_KEPT}"
        )
    try:
        data = _load_plain_yaml(source)
    except _Refused as refused:
        return FrontMatter({}, text, str(refused))
    except yaml.YAMLError as error:
        return FrontMatter({}, text, f"front matter is not valid YAML{_where(error)}: {_NOT_KEPT}")
    except (ValueError, OverflowError) as error:  # YAML syntax Python cannot hold: 2025-02-30, a 5000-digit int
        return FrontMatter({}, text, f"front matter has a value that cannot be read ({str(error)[:100]}): {_NOT_KEPT}")
    if data is None:  # `---` twice, or only comments: nothing to keep, nothing wrong
        return FrontMatter({}, text)
    if not isinstance(data, dict):
        return FrontMatter({}, text, f"front matter is not a YAML mapping (key: value lines): {_NOT_KEPT}")
    metadata = _jsonable(data)
    size = len(json.dumps(metadata).encode())  # as Django's JSONField encodes it
    if size > limits.max_metadata_bytes:
        limit = limits.max_metadata_bytes
        return FrontMatter(
            {}, text, f"front matter metadata is {size} bytes as JSON, over the {limit}-byte limit: {_NOT_KEPT}"
        )
    return FrontMatter(metadata, text[match.end() :])


class _Refused(Exception):
    """Front matter we will not read, and why (the message goes to the run's warnings)."""


class _PlainYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while composing, before any object is constructed.

    An alias is what turns a few hundred bytes into millions of values: refusing every anchor at the first one
    means nothing is ever expanded. Our own front matter never uses them (confluence.convert writes plain YAML).
    """

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.peek_event().anchor is not None:  # `&name` on a node, or a `*name` alias
            raise _Refused(f"front matter uses YAML anchors or aliases (&name, *name), which are refused: {_NOT_KEPT}")
        if self.depth >= FRONT_MATTER_MAX_DEPTH:
            raise _Refused(f"front matter nests deeper than {FRONT_MATTER_MAX_DEPTH} levels: {_NOT_KEPT}")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _load_plain_yaml(source: str):
    loader = _PlainYamlLoader(source)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _where(error: yaml.YAMLError) -> str:
    """The file line of a YAML error: its mark counts from 0 in the front matter, which starts on line 2."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return f" (line {mark.line + 2})" if mark is not None else ""


def _jsonable(value):
    """YAML gives dates and odd keys; the metadata goes into a JSONField."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # .inf and .nan: PostgreSQL's jsonb has no such numbers
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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
