"""Front matter: the YAML between `---` lines at the top of a Markdown file, read as the document's metadata.

It comes from anyone who can push to an ingested repository, so it is read defensively: over a size cap it is not
parsed; YAML anchors and aliases (the "billion laughs" expansion) and deep nesting are refused while the YAML is
composed, before any object is constructed; metadata whose JSON is over a cap is not kept. Front matter that is
refused, malformed or not a mapping is not front matter: the file reads as if it had none, and the reason is
reported for the ingestion run's warnings.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass

import yaml

# Our Confluence pages nest two levels (labels, ancestors); beyond this much, YAML's composer would soon hit
# Python's recursion limit, an error that would fail the whole ingestion run.
FRONT_MATTER_MAX_DEPTH = 32
_NOT_KEPT = "ingested as text, without metadata"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class FrontMatterLimits:
    """Sizes beyond which front matter is refused. Ingestion passes the configured ones (settings.FRONT_MATTER_*)."""

    max_bytes: int = 64 * 1024  # the YAML between the `---` lines, before parsing
    max_metadata_bytes: int = 64 * 1024  # the parsed metadata, as the JSON the database stores


DEFAULT_LIMITS = FrontMatterLimits()


@dataclass(frozen=True)
class FrontMatter:
    metadata: dict
    body: str  # the text after the front matter; the whole text when there is none or it is not kept
    problem: str = ""  # why front matter was found but not kept as metadata ("" when kept or absent)


def parse_front_matter(text: str, limits: FrontMatterLimits = DEFAULT_LIMITS) -> tuple[dict, str]:
    """YAML front matter between `---` lines at the very top, and the text after it.

    Anything that is not kept as a YAML mapping is left in the body, as GitHub renders it then.
    """
    front = read_front_matter(text, limits)
    return front.metadata, front.body


def read_front_matter(text: str, limits: FrontMatterLimits = DEFAULT_LIMITS) -> FrontMatter:
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
