"""Mathematics as GitHub renders it: $`...`$ inline and ```math blocks.

Formulas come from math macros (LaTeX in a `body` parameter or a plain-text body) and from KaTeX/MathML
markup, whose `application/x-tex` annotation is the source; KaTeX's visual copy (`aria-hidden`) is dropped.
"""

from __future__ import annotations

from bs4 import Tag

from .blocks import fence

INLINE_MACROS = frozenset({"eazy-math-inline", "mathinline", "inline-math", "latex-inline"})
BLOCK_MACROS = frozenset({"easy-math-block", "mathblock", "math-block", "latex-block", "latex", "mathjax-block"})


def inline_formula(tex: str) -> str:
    tex = " ".join(tex.split())
    return f"$`{tex}`$" if tex else ""


def block_formula(conv, tex: str, parent_tags) -> str:
    return conv.block(fence(tex, "math"), parent_tags) if tex.strip() else ""


def math_macro(conv, macro, parent_tags) -> str:
    tex = macro.param("body") if "body" in macro.params else (macro.plain or "")
    if macro.name in INLINE_MACROS:
        return inline_formula(tex)
    return block_formula(conv, tex, parent_tags)


def convert_math(conv, el: Tag, parent_tags) -> str:
    annotation = el.find("annotation", attrs={"encoding": "application/x-tex"})
    tex = annotation.get_text() if annotation is not None else el.get("alttext") or el.get_text()
    if el.get("display") == "block":
        return block_formula(conv, tex, parent_tags)
    return inline_formula(tex)


def convert_span(conv, el: Tag, parent_tags) -> str:
    if el.get("aria-hidden") == "true":
        return ""
    return conv.render_children(el, parent_tags)


HANDLERS = {"math": convert_math, "span": convert_span}
