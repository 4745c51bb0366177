"""Labels and view restrictions in bulk, through CQL search (v1 `content/search`, 200 results a request): the
facts the scope judges content by (`ScopeSpec.labelled_out`, `ScopeSpec.withholds`).

- `facts_of_spaces`: every page of the scope's spaces (and blog post, when a space syncs its blog), with the
  whiteboards, databases and embeds among them (confluence.sync.elsewhere); a run over the whole scope makes it once.
- `subtree_facts`: what lies below pages a targeted run found moved or restricted (CQL `ancestor`).
- `facts_of_ids`: content a run is about to write at a version it has not judged (CQL `id`).
"""

from __future__ import annotations

from confluence.client import ConfluenceClient, cql_quote
from confluence.content import PageFacts, Space
from confluence.sync import elsewhere

# Ids per CQL `ancestor in (…)` or `id in (…)` clause, which keeps the query well within URL limits.
IDS_PER_QUERY = 100


def facts_of_spaces(client: ConfluenceClient, spaces: list[Space], *, blog: bool = False) -> dict[str, PageFacts]:
    """Every page (and blog post, when a space syncs its blog) of those spaces, and the boards among them."""
    if not spaces:
        return {}
    keys = ", ".join(cql_quote(key) for key in sorted(space.key for space in spaces))
    kinds = ("page", "blogpost") if blog else ("page",)
    return elsewhere.facts_with_boards(client, kinds=kinds, where=f"space in ({keys})")


def subtree_facts(client: ConfluenceClient, roots: list[str]) -> dict[str, PageFacts]:
    """Every current page (and whiteboard, database, embed) below `roots`, at any depth."""
    found: dict[str, PageFacts] = {}
    for chunk in chunks(roots):
        found.update(elsewhere.facts_with_boards(client, kinds=("page",), where=f"ancestor in ({chunk})"))
    return found


def facts_of_ids(client: ConfluenceClient, content_ids: list[str]) -> dict[str, PageFacts]:
    """Those pages and blog posts as the search knows them now (one missing: the search does not know it yet)."""
    found: dict[str, PageFacts] = {}
    for chunk in chunks(content_ids):
        found.update(client.page_facts(f"type in (page, blogpost) AND id in ({chunk})"))
    return found


def chunks(ids: list[str]):
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ", ".join(ids[start : start + IDS_PER_QUERY])
