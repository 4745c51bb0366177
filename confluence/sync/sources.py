"""The bodies of the synced pages that inclusion macros show (include, excerpt-include, detailssummary).

Before rendering, the pages to render are looked at for inclusion macros; the synced pages those name (and the
pages those in turn include, down to the converter's depth limit) are the sources. A source's body is taken from
what the run already holds (the pages it renders, the bodies the listing carried); only the others are read, in
bulk (250 a request): an unchanged source shown by a page rendered again. A run whose pages include nothing reads
nothing more. Restricted pages are never synced, so they are never a source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from confluence.client import ConfluenceClient
from confluence.convert import ConvertContext, SiteTree, sources_of
from confluence.convert.inclusions import MAX_DEPTH
from confluence.sync.bodies import bodies_at
from confluence.sync.plan import Placed


def inclusion_sources(
    client: ConfluenceClient, bodies: Mapping[str, str], page_ids: Iterable[str], placed: Mapping[str, Placed]
) -> dict[str, str]:
    """Source page id → storage body, for the inclusion macros of `page_ids` (and of their sources)."""
    tree = SiteTree(placed)
    sources: dict[str, str] = {}
    frontier = [pid for pid in page_ids if pid in bodies]
    for _ in range(MAX_DEPTH + 1):
        needed = set()
        for pid in frontier:
            body = sources[pid] if pid in sources else bodies[pid]
            context = ConvertContext(page_id=pid, space_key=placed[pid].space_key, site_tree=tree)
            needed |= sources_of(body, context)
        new = sorted(needed - sources.keys())
        if not new:
            break
        sources.update({pid: bodies[pid] for pid in new if pid in bodies})
        unread = [pid for pid in new if pid not in bodies]
        # Only at the version the run placed (judged, or held by the repository): a newer one was never judged.
        sources.update(bodies_at(client, {pid: placed[pid] for pid in unread}))
        frontier = [pid for pid in new if pid in sources]
    return sources
