"""Which synced pages' bodies a page's inclusion macros need (include, excerpt-include, detailssummary), so the
sync can have them in hand before it converts the page. Resolved exactly as the macros resolve them."""

from __future__ import annotations

import re
from types import SimpleNamespace

from .context import ConvertContext, Report
from .macros import Macro
from .page_properties import candidates, summary_terms
from .storage import parse, prepare, repair

INCLUDING = ("include", "excerpt-include")
SUMMARIES = ("detailssummary", "details-summary")
# A cheap look before parsing: most pages have no inclusion macro at all.
MENTIONS_INCLUSION = re.compile(r"""ac:name\s*=\s*["'](?:include|excerpt-include|details-?summary)["']""", re.I)


def sources_of(storage: str, context: ConvertContext) -> set[str]:
    """Ids of the synced pages (of `context.site_tree`) whose content the page's inclusion macros show."""
    if not storage or not MENTIONS_INCLUSION.search(storage):
        return set()
    soup = parse(prepare(storage, set()), set())
    repair(soup, set())
    found = set()
    conv = SimpleNamespace(context=context, report=Report())
    for el in soup.find_all(["ac:structured-macro", "ac:macro"]):
        macro = Macro(el)
        if macro.name in INCLUDING and (ref := macro.param_ref("")) is not None:
            page = context.source_page(ref)
            found |= {page.id} if page is not None else set()
        elif macro.name in SUMMARIES and (terms := summary_terms(macro)) is not None:
            found |= {page.id for page in candidates(conv, terms)[0]}
    return found
