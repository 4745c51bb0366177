"""Run a parsed CQL query against the simulated site.

Only current content is found: CQL searches the index, which holds neither trashed nor purged content (nor the
attachments of pages that are not current). Pages are found unless the query asks for `type = attachment` (or
`type in (page, attachment)`); blog posts, whiteboards, databases and embeds only when it names their type.
Comments and other types are not simulated.
"""

from __future__ import annotations

from sandbox.atlassian.cql import Clause, Query, compare_date
from sandbox.atlassian.models import Attachment, Page

BOARD_TYPES = frozenset({"whiteboard", "database", "embed"})
CONTENT_TYPES = frozenset({"page", "blogpost", *BOARD_TYPES})


def run(sim, cloud_id: str, query: Query) -> list[Page | Attachment]:
    types = _types(query)
    found = []
    if types & CONTENT_TYPES:
        candidates = [p for p in _candidates(sim, cloud_id, query, types) if p.type in types]
        found += [p for p in candidates if p.status == "current" and all(_matches(sim, p, c) for c in query.clauses)]
    if "attachment" in types:
        found += [a for a in _attachments(sim, cloud_id, query) if all(_matches(sim, a, c) for c in query.clauses)]
    for field, descending in reversed(query.order or (("id", False),)):
        found.sort(key=_order_key(field), reverse=descending)
    return found


def _types(query: Query) -> set[str]:
    """The content types the `type` clauses admit (pages when none says)."""
    types = {*CONTENT_TYPES, "attachment"}
    for clause in query.clauses:
        if clause.field == "type":
            named = set(clause.values)
            types = types - named if clause.op in ("!=", "not in") else types & named
    return types if any(c.field == "type" for c in query.clauses) else {"page"}


def _attachments(sim, cloud_id: str, query: Query) -> list[Attachment]:
    pages = [p for p in _candidates(sim, cloud_id, _without_id_clauses(query), CONTENT_TYPES) if p.status == "current"]
    return [
        attachment
        for page in pages
        for attachment in (sim.attachments[i] for i in page.attachment_ids)
        if attachment.status == "current"
    ]


def _without_id_clauses(query: Query) -> Query:
    """An attachment's id is not its page's: narrow the pages by space only."""
    return Query(tuple(c for c in query.clauses if c.field not in ("id", "content")), query.order)


def _candidates(sim, cloud_id: str, query: Query, types=frozenset({"page"})) -> list[Page]:
    """The narrowest set the clauses allow, so a query for a few ids never walks a 10,000-page site."""
    for clause in query.clauses:
        if clause.field in ("id", "content") and clause.op in ("=", "in"):
            pages = (sim.pages.get(v) for v in dict.fromkeys(clause.values))
            return [p for p in pages if p is not None and p.cloud_id == cloud_id]
    space_ids = [s.id for s in sim.site_spaces(cloud_id)]
    for clause in query.clauses:
        if clause.field in ("space", "space.key") and clause.op in ("=", "in"):
            space_ids = [s for s in space_ids if sim.spaces[s].key in clause.values]
    listings = [sim.space_page_ids] + [sim.space_post_ids] * ("blogpost" in types)
    listings += [sim.space_folder_ids] * bool(types & BOARD_TYPES)  # boards are listed with the folders
    return [sim.pages[str(i)] for ids in listings for space_id in space_ids for i in ids.get(space_id, ())]


def _matches(sim, content: Page | Attachment, clause: Clause) -> bool:
    if isinstance(content, Attachment):
        return _attachment_matches(sim, content, clause)
    page = content
    if clause.field in ("created", "lastmodified"):
        moment = page.created_at if clause.field == "created" else page.version.created_at
        return compare_date(moment, clause.op, clause.values[0])
    found = _field_values(sim, page, clause.field)
    hit = any(value in found for value in clause.values)
    return not hit if clause.op in ("!=", "not in") else hit


def _field_values(sim, page: Page, field: str) -> set[str]:
    if field == "type":
        return {page.type}
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


def _attachment_matches(sim, attachment: Attachment, clause: Clause) -> bool:
    """An attachment's fields: its own id, title and dates; its page's space, ancestors and parent (the page)."""
    page = sim.pages[attachment.page_id]
    if clause.field in ("created", "lastmodified"):
        moment = attachment.versions[0].created_at if clause.field == "created" else attachment.latest.created_at
        return compare_date(moment, clause.op, clause.values[0])
    if clause.field == "type":
        found = {"attachment"}
    elif clause.field in ("id", "content"):
        found = {attachment.id, attachment.id.removeprefix("att")}
    elif clause.field == "label":
        found = set()
    elif clause.field == "ancestor":
        found = {page.id, *(a.id for a in sim.ancestors(page))}
    elif clause.field == "parent":
        found = {page.id}
    elif clause.field == "title":
        found = {attachment.title}
    else:
        found = _field_values(sim, page, clause.field)
    hit = any(value in found for value in clause.values)
    return not hit if clause.op in ("!=", "not in") else hit


def _order_key(field: str):
    return {
        "id": lambda c: (isinstance(c, Attachment), int(c.id.removeprefix("att"))),
        "lastmodified": lambda c: c.latest.created_at if isinstance(c, Attachment) else c.version.created_at,
        "created": lambda c: c.versions[0].created_at if isinstance(c, Attachment) else c.created_at,
        "title": lambda c: c.title.lower(),
    }[field]
