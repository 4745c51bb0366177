"""JSON values every database can keep: what a webhook, a Forge event or Confluence sends, made storable."""

from __future__ import annotations

import re

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value):
    """The value with NUL characters and lone surrogates (a "\\ud800" escape) replaced: PostgreSQL's jsonb and text
    refuse \\u0000 (a commit message or a page title can hold one), and no database encodes a lone surrogate."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd"))
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
