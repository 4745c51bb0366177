"""Diagram-as-code macros: the diagram's source as a fenced block GitHub draws (```mermaid, ```plantuml).

The apps keep the source in one of three places:
- the plain-text body: Confluence's mermaid and plantuml macros, mermaid-macro, Mermaid Diagrams for
  Confluence (`cloudscript-confluence-mermaid`), PlantUML Render (`plantumlrender`);
- a text parameter: Simple PlantUML (`stepashka-simple-plantuml-macro`, parameter `diagram`);
- PlantUML Diagrams for Confluence (`plantumlcloud`, Stratus add-ons): parameter `data`, with `compressed` set to
  true, is `btoa(deflateRaw(encodeURIComponent(source)))` as the app documents for scripts that add its macro
  ("Programmatically adding PlantUML diagrams", stratus-addons.atlassian.net/wiki/spaces/PDFC/pages/1839333377).

A macro whose source is missing or cannot be decoded is named in the text like any unknown macro, never an error.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from urllib.parse import unquote

from .blocks import fence

# Macro → the language of its fence.
DIAGRAMS = {
    "mermaid": "mermaid", "mermaid-cloud": "mermaid", "mermaid-macro": "mermaid",
    "cloudscript-confluence-mermaid": "mermaid",
    "plantuml": "plantuml", "plantumlrender": "plantuml", "stepashka-simple-plantuml-macro": "plantuml",
    "plantumlcloud": "plantuml",
}  # fmt: skip
# A decompressed source beyond this is no diagram anyone drew: the cap keeps a crafted `data` from filling memory.
MAX_SOURCE_BYTES = 1 << 20


def diagram(conv, macro, parent_tags) -> str | None:
    source = diagram_source(macro)
    if not source or not source.strip():
        return None  # named as an unknown macro
    return conv.block(fence(source, DIAGRAMS[macro.name]), parent_tags)


def diagram_source(macro) -> str | None:
    if macro.plain and macro.plain.strip():
        return macro.plain
    if macro.name == "stepashka-simple-plantuml-macro":
        return parameter_text(macro, "diagram")
    if macro.name == "plantumlcloud" and macro.param("compressed").lower() == "true":
        data = parameter_text(macro, "data")
        return decompressed(data) if data else None
    return None


def parameter_text(macro, name: str) -> str | None:
    """A parameter's text with its line breaks (`Macro.param` folds whitespace, which a diagram cannot lose)."""
    param = macro.params.get(name)
    return param.get_text() if param is not None else None


def decompressed(data: str) -> str | None:
    """The source in a plantumlcloud `data` value: base64 of raw deflate of the URI-encoded text; None if it is not."""
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        encoded = inflater.decompress(raw, MAX_SOURCE_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None  # too large, or cut short
        return unquote(encoded.decode("ascii"), errors="strict")
    except (binascii.Error, zlib.error, UnicodeDecodeError):
        return None
