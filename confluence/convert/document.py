"""`convert()`: one storage-format body in, Markdown and a report of what it needs out. Never raises."""

from __future__ import annotations

import re

from .context import ConversionResult, ConvertContext, Report
from .escaping import escape
from .markdown import StorageConverter
from .storage import flatten_deep_nesting, parse, prepare, repair

# Bump whenever the Markdown for some input changes, so the sync engine re-renders every page once.
# 4: mentions of closed accounts read "Former user"; re-rendering records each page's mentions in the index.
# 5: page-list macros (children, pagetree, page-index, contentbylabel…) list the synced pages; re-rendering records
#    what each page lists in the index.
# 6: include, excerpt-include and detailssummary show the synced source pages' content; re-rendering records each
#    page's sources in the index.
# 7: nested tables, diagram-as-code macros, definition lists; brackets in link text as `&#91;`/`&#93;`; images of
#    another page's attachment named by title, links to a space's synced home page, Server usernames linked.
# 8: links and images whose scheme runs or embeds something (javascript:, vbscript:, data:) keep only their text.
CONVERTER_VERSION = 8

FENCE = re.compile(r"^ *(`{3,}|~{3,})", re.MULTILINE)


def convert(storage: str | None, context: ConvertContext | None = None) -> ConversionResult:
    context = context or ConvertContext()
    report = Report()
    if not storage or not storage.strip():
        return report.result("")
    soup = parse(prepare(storage, report.warnings), report.warnings)
    repair(soup, report.warnings)
    try:
        markdown = StorageConverter(context, report).convert_soup(soup)
    except RecursionError:
        # Python's stack ends before the nesting does: flatten the deepest levels and try once more.
        report = Report(warnings=report.warnings)
        flattened = flatten_deep_nesting(soup)
        report.warnings.add(f"nesting too deep: {flattened} elements flattened, their text kept")
        markdown = StorageConverter(context, report).convert_soup(soup)
    except Exception as e:
        # A converter bug must not stop a sync: keep the page's text and say what happened.
        report.warnings.add(f"converter error ({type(e).__name__}): the page was converted as plain text")
        markdown = escape(" ".join(soup.get_text(" ").split()))
    return report.result(tidy(markdown))


def tidy(markdown: str) -> str:
    """At most one blank line between blocks (code blocks untouched), and exactly one newline at the end."""
    markdown = collapse_blank_lines(markdown)
    markdown = markdown.strip("\n")
    return markdown + "\n" if markdown else ""


def collapse_blank_lines(markdown: str) -> str:
    kept: list[str] = []
    fence, blank = "", 0
    for line in markdown.split("\n"):
        match = FENCE.match(line)
        if match and not fence:
            fence = match.group(1)
        elif match and match.group(1).startswith(fence):
            fence = ""
        if line.strip() or fence:
            blank = 0
        else:
            line = ""
            blank += 1
            if blank > 1:
                continue
        kept.append(line)
    return "\n".join(kept)
