"""YAML front matter for a page file: what the page is and where it came from, in a fixed key order.

PyYAML does the quoting, so any title (colons, quotes, `#`, newlines, a leading `-`, any script) reads back
exactly with `yaml.safe_load`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import yaml


class Dumper(yaml.SafeDumper):
    pass


def represent_str(dumper: Dumper, value: str):
    style = '"' if NEEDS_ESCAPE.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, represent_str)

# Characters YAML reads back differently unless escaped, which only the double-quoted style does.
NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
KEYS = ("title", "page_id", "space_key", "version", "last_modified", "source_url", "labels", "ancestors", "parent_id")


@dataclass(frozen=True)
class PageMeta:
    title: str
    page_id: str
    space_key: str | None = None
    version: int | None = None
    last_modified: datetime | str | None = None
    source_url: str | None = None
    labels: tuple[str, ...] = field(default_factory=tuple)
    ancestors: tuple[str, ...] = field(default_factory=tuple)
    parent_id: str | None = None


def render_front_matter(meta: PageMeta | Mapping) -> str:
    values = asdict(meta) if isinstance(meta, PageMeta) else dict(meta)
    data = {key: plain(values[key]) for key in KEYS if values.get(key) is not None}
    # Keys we do not know yet still go out, after ours, in a stable order.
    data.update({key: plain(values[key]) for key in sorted(values) if key not in KEYS and values[key] is not None})
    body = yaml.dump(
        data, Dumper=Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=2**31 - 1
    )
    return f"---\n{body}---\n"


def plain(value):
    """Values YAML writes the same way every time: ISO timestamps, lists for sequences, str for ids."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
