"""Content in the page tree that cannot become Markdown — whiteboards, databases and embeds (smart links): the page
they sit under gets, after its body, a short "In Confluence" list of links to them, so a reader of the repository
knows they exist (issue 17, item 10). Never a gap, never a copy.

- A run over the whole scope finds them with the pages' labels and restrictions: the bulk CQL facts search asks for
  `type in (page, whiteboard, database, embed)` (CQL's `type` field takes Cloud's content types), so discovery
  costs no request of its own while the results fit the same windows of 200. A result's parent is the last of its
  ancestors; one below a folder or another board (no page) is listed nowhere: a folder has no file to carry it.
- A targeted run keeps what the index recorded, and asks again (one CQL request, `parent in (…)`) only when one
  of its Forge events is about such content (`avi:confluence:created:whiteboard`, …): the event handler queued the
  run for the page the content sits under.
- A restricted item (its own view restriction or an ancestor's) is listed only when the scope includes restricted
  content, like a page; an item the scope excludes (by id or label) is never listed. Nothing is written for a page
  the scope leaves out: the list is part of a synced page's file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from confluence.client import ConfluenceClient
from confluence.content import PageFacts
from confluence.convert.escaping import escape, href
from confluence.gateway import ConfluenceError
from confluence.sync.index import Index
from confluence.sync.scope import ScopeSpec

BOARD_KINDS = ("whiteboard", "database", "embed")
# What the list says each kind is.
KIND_WORDS = {"whiteboard": "whiteboard", "database": "database", "embed": "smart link"}
# A page's boards: (id, kind, title, web path) each, sorted by title then id: the index stores them as they are.
Board = tuple[str, str, str, str]
PARENTS_PER_QUERY = 100

logger = logging.getLogger(__name__)


def facts_with_boards(client: ConfluenceClient, *, kinds: Sequence[str], where: str) -> dict[str, PageFacts]:
    """`client.page_facts` of the content of `kinds` (pages, posts) and the board kinds matching `where`. Atlassian
    documents CQL's `type` for pages, blog posts, comments and attachments, not for the board kinds: should a site's
    search refuse them (400), it is asked again without them, so its pages still sync and only their boards go
    unlisted."""
    try:
        return client.page_facts(f"type in ({', '.join([*kinds, *BOARD_KINDS])}) AND {where}")
    except ConfluenceError as refused:
        if refused.status != 400 or not kinds:
            raise
        logger.warning("Confluence's search refused the board kinds (%s): boards are not listed", refused)
        return client.page_facts(f"type in ({', '.join(kinds)}) AND {where}")


def split_facts(facts: Mapping[str, PageFacts]) -> tuple[dict[str, PageFacts], dict[str, PageFacts]]:
    """(The pages' and posts' facts, the boards')."""
    boards = {cid: fact for cid, fact in facts.items() if fact.kind in BOARD_KINDS}
    return {cid: fact for cid, fact in facts.items() if cid not in boards}, boards


def boards_by_parent(spec: ScopeSpec, boards: Mapping[str, PageFacts]) -> dict[str, tuple[Board, ...]]:
    """Each page's boards the scope may show: not excluded (by id or label), not restricted unless the scope opts
    in, and below a page (not a folder, not another board)."""
    excluded = {pid for pid, _ in spec.excluded_pages}
    found: dict[str, set[Board]] = {}
    for board_id, fact in boards.items():
        if fact.parent_id is None or board_id in excluded or spec.labelled_out(fact.labels) or spec.withholds(fact):
            continue
        found.setdefault(fact.parent_id, set()).add((board_id, fact.kind, fact.title, fact.webui))
    return {parent: tuple(sorted(items, key=lambda b: (b[2].casefold(), b[0]))) for parent, items in found.items()}


def boards_below(client: ConfluenceClient, spec: ScopeSpec, page_ids: Iterable[str]) -> dict[str, tuple[Board, ...]]:
    """The boards directly below those pages, read now (one CQL request per 100 pages)."""
    ids = sorted(set(page_ids))
    found: dict[str, PageFacts] = {}
    for start in range(0, len(ids), PARENTS_PER_QUERY):
        chunk = ", ".join(ids[start : start + PARENTS_PER_QUERY])
        try:
            found.update(facts_with_boards(client, kinds=(), where=f"parent in ({chunk})"))
        except ConfluenceError as refused:
            if refused.status != 400:
                raise
            return {}  # a search that knows no board kinds: the pages keep what the index lists
    below = boards_by_parent(spec, split_facts(found)[1])
    return {pid: below.get(pid, ()) for pid in ids}


def targeted_boards(
    client: ConfluenceClient,
    spec: ScopeSpec,
    index: Index,
    *,
    facts: Mapping[str, PageFacts],
    read: Iterable[str],
    fetched: list[str],
) -> tuple[dict[str, PageFacts], dict[str, tuple[Board, ...]]]:
    """A targeted run's (page facts, page id → boards): what the index records, except for the pages whose subtree
    search (`read`) found theirs, and for `fetched` ones, whose boards are read now."""
    facts, found = split_facts(facts)
    below = boards_by_parent(spec, found)
    known = {pid: tuple(tuple(board) for board in entry.elsewhere) for pid, entry in index.pages.items()}
    known.update({pid: below.get(pid, ()) for pid in read})
    if fetched:
        known.update(boards_below(client, spec, fetched))
    return facts, known


def is_board_event(event_type: str) -> bool:
    return event_type.rsplit(":", 1)[-1] in BOARD_KINDS


def about_boards(run) -> bool:
    """Whether one of the run's Forge events is about a whiteboard, database or embed."""
    return any(is_board_event(event_type) for event_type in run.events.values_list("event_type", flat=True))


def section(boards: Iterable[Board], *, site_url: str) -> str:
    """The Markdown list after a page's body ("" when it has none)."""
    lines = [
        f"- [{escape(title) or escape(kind)}]({href(board_url(site_url, board_id, webui))}) — {KIND_WORDS[kind]}"
        for board_id, kind, title, webui in boards
    ]
    return "\n## In Confluence\n\n" + "\n".join(lines) + "\n" if lines else ""


def board_url(site_url: str, board_id: str, webui: str) -> str:
    base = f"{site_url.rstrip('/')}/wiki"
    return f"{base}{webui}" if webui.startswith("/") else f"{base}/pages/viewpage.action?pageId={board_id}"
