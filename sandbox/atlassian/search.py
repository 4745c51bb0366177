"""Run a parsed CQL query against the simulated site.

Only current pages are found: CQL searches the index, which holds neither trashed nor purged content.
"""

from __future__ import annotations

from sandbox.atlassian.cql import Clause, Query, compare_date
from sandbox.atlassian.models import Page


def run(sim, cloud_id: str, query: Query) -> list[Page]:
    candidates = _candidates(sim, cloud_id, query)
    found = [p for p in candidates if p.status == "current" and all(_matches(sim, p, c) for c in query.clauses)]
    for field, descending in reversed(query.order or (("id", False),)):
        found.sort(key=_order_key(field), reverse=descending)
    return found


def _candidates(sim, cloud_id: str, query: Query) -> list[Page]:
    """The narrowest set the clauses allow, so a query for a few ids never walks a 10,000-page site."""
    for clause in query.clauses:
        if clause.field in ("id", "content") and clause.op in ("=", "in"):
            pages = (sim.pages.get(v) for v in dict.fromkeys(clause.values))
            return [p for p in pages if p is not None and p.cloud_id == cloud_id]
    space_ids = [s.id for s in sim.site_spaces(cloud_id)]
    for clause in query.clauses:
        if clause.field in ("space", "space.key") and clause.op in ("=", "in"):
            space_ids = [s for s in space_ids if sim.spaces[s].key in clause.values]
    return [sim.pages[str(i)] for space_id in space_ids for i in sim.space_page_ids[space_id]]


def _matches(sim, page: Page, clause: Clause) -> bool:
    if clause.field in ("created", "lastmodified"):
        moment = page.created_at if clause.field == "created" else page.version.created_at
        return compare_date(moment, clause.op, clause.values[0])
    found = _field_values(sim, page, clause.field)
    hit = any(value in found for value in clause.values)
    return not hit if clause.op in ("!=", "not in") else hit


def _field_values(sim, page: Page, field: str) -> set[str]:
    if field == "type":
        return {"page"}
    if field in ("space", "space.key"):
        return {sim.spaces[page.space_id].key}
    if field in ("id", "content"):
        return {page.id}
    if field == "label":
        return set(page.labels)
    if field == "ancestor":
        return {a.id for a in sim.ancestors(page)}
    if field == "parent":
        return {page.parent_id} if page.parent_id else set()
    return {page.title}


def _order_key(field: str):
    return {
        "id": lambda p: int(p.id),
        "lastmodified": lambda p: p.version.created_at,
        "created": lambda p: p.created_at,
        "title": lambda p: p.title.lower(),
    }[field]
