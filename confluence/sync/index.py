"""The sync index and the scope file: what the repository holds, written into it so it can rebuild our state.

    .ctx/confluence.yml          the scope and the site, for people (the copy of record of the scope)
    .ctx/confluence-index.json   page id → path, title, version, parent, space, labels, blob (blog posts: their
                                 kind and posting time too); attachments and a
                                 digest of the attachment listings the page shows files of; the account ids of
                                 the people it mentions; what its page lists show and the pages whose content
                                 it includes; the whiteboards, databases and embeds below it; and the pages
                                 between synced ones that the scope leaves out (title, parent)

Both are rendered deterministically (sorted keys, no timestamps of our own), so a sync that changes nothing
produces byte-identical files and therefore no commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote_plus

import yaml

from confluence.sync.layout import ROOT

BLOGPOST = "blogpost"
FOLDER = "folder"
SCOPE_PATH = ".ctx/confluence.yml"
INDEX_PATH = ".ctx/confluence-index.json"
# 2: the index records the unsynced ancestors of synced pages, so a targeted run knows the whole hierarchy.
FORMAT = 2


@dataclass
class AttachmentEntry:
    id: str
    version: int
    path: str
    blob: str
    media_type: str = ""
    size: int = 0


@dataclass
class PageEntry:
    title: str
    space_key: str
    parent_id: str | None
    version: int
    modified_at: str
    path: str
    blob: str
    converter_version: int
    labels: list[str] = field(default_factory=list)
    ancestors: list[str] = field(default_factory=list)  # titles, root first (front matter)
    webui: str = ""
    attachments: dict[str, AttachmentEntry] = field(default_factory=dict)  # file name → entry
    links: list[str] = field(default_factory=list)  # pages the body links to (plan.link_key), to re-render on moves
    # Page id → listing_digest of the attachments of each page whose files this page shows, as it was rendered: a
    # run over the whole scope compares them with one bulk listing (an attachment change makes no page version).
    listings: dict[str, str] = field(default_factory=dict)
    # Account ids of the people the page mentions (omitted when none): what the personal data reporting API is told
    # the repository holds, and which pages to render again when one of those accounts is closed.
    mentions: list[str] = field(default_factory=list)
    # What the page's page-list macros (children, pagetree, contentbylabel…) show, as rendered: each space they cover
    # ("*": every space) → the ids of the synced pages listed from it, sorted (omitted when the page has none). The
    # plan renders the page again when a page of a covered space appears, goes away, moves or changes what a list
    # shows of it.
    lists: dict[str, list[str]] = field(default_factory=dict)
    # Ids of the synced pages whose content the page shows (include, excerpt-include, detailssummary), at any depth
    # (omitted when none): the plan renders the page again when one of them changes, moves or goes away.
    includes: list[str] = field(default_factory=list)
    # "blogpost" for a blog post (omitted for pages), and a post's posting time (ISO 8601), which places it.
    kind: str = "page"
    created_at: str = ""
    # The whiteboards, databases and embeds below the page, as its file lists them: [id, kind, title, web path]
    # each (omitted when none). A run renders the page again when they change.
    elsewhere: list[list[str]] = field(default_factory=list)

    @property
    def is_post(self) -> bool:
        return self.kind == BLOGPOST


@dataclass(frozen=True)
class UnsyncedPage:
    """A page the scope leaves out (excluded, labelled out, above a selected page tree) with synced pages below it:
    kept so that a targeted run knows the hierarchy between synced pages, and front matter their real ancestors."""

    title: str
    space_key: str
    parent_id: str | None
    # "folder" for a Confluence folder (content without a body that holds pages): it keeps its place in the
    # repository as a directory. Omitted in the index for pages.
    kind: str = "page"


@dataclass
class Index:
    pages: dict[str, PageEntry] = field(default_factory=dict)
    spaces: dict[str, str] = field(default_factory=dict)  # space id → key
    unsynced: dict[str, UnsyncedPage] = field(default_factory=dict)  # ancestors of synced pages that are not synced
    format: int = FORMAT

    @classmethod
    def from_json(cls, data: dict | None) -> Index:
        if not data:
            return cls()
        pages = {}
        for page_id, entry in data.get("pages", {}).items():
            attachments = {name: AttachmentEntry(**a) for name, a in entry.get("attachments", {}).items()}
            page = PageEntry(**{**entry, "attachments": attachments})
            page.webui = page.webui or default_webui(page_id, page)
            if is_ours(page):
                pages[page_id] = page
        unsynced = {page_id: UnsyncedPage(**entry) for page_id, entry in data.get("unsynced", {}).items()}
        for page_id, page in pages.items():
            page.ancestors = ancestor_titles(page_id, pages, unsynced)
        return cls(pages=pages, spaces=dict(data.get("spaces", {})), unsynced=unsynced, format=data.get("format", 1))

    @property
    def knows_hierarchy(self) -> bool:
        """Whether the index records the unsynced ancestors (older indexes do not: the scope is listed again)."""
        return self.format >= 2

    def render(self) -> bytes:
        """JSON with one line per page: every sync rewrites this file, so it stays compact (a 10,000-page index
        fits in one tree request) and a commit's diff of it shows one line per changed page."""
        # Line by line: a 10,000-page index is never held twice as Python objects.
        ordered = sorted(self.pages, key=page_order)
        lines = (f"  {_compact(pid)}: {_compact(_entry_json(pid, self.pages[pid]))}" for pid in ordered)
        pages = ",\n".join(lines)
        spaces = _compact(dict(sorted(self.spaces.items())))
        unsynced = ",\n".join(
            f"  {_compact(pid)}: {_compact(_unsynced_json(self.unsynced[pid]))}"
            for pid in sorted(self.unsynced, key=page_order)
        )
        return (
            f'{{\n "format": {FORMAT},\n "spaces": {spaces},\n "pages": {{\n{pages}\n }},\n'
            f' "unsynced": {{\n{unsynced}\n }}\n}}\n'
        ).encode()

    def as_found(self, blobs: dict[str, str]) -> tuple[Index, frozenset[str]]:
        """The index as the tree bears it out, and the pages whose files someone changed since (a typo fixed on
        GitHub, an image removed, a push racing a commit): the run renders those again, so it writes them back while
        they are selected, and removes them with all their files once they are not. Their attachments that differ
        are marked unknown (version 0), so the run downloads them again; a page whose own file is gone gets no blob
        ("": the run adds it back)."""
        pages, touched = {}, set()
        for pid, entry in self.pages.items():
            stale = {key for key, a in entry.attachments.items() if blobs.get(a.path) != a.blob}
            if stale or blobs.get(entry.path) != entry.blob:
                touched.add(pid)
            attachments = {key: replace(a, version=0) if key in stale else a for key, a in entry.attachments.items()}
            blob = entry.blob if entry.path in blobs else ""
            pages[pid] = replace(entry, attachments=attachments, blob=blob) if pid in touched else entry
        found = Index(pages=pages, spaces=dict(self.spaces), unsynced=dict(self.unsynced), format=self.format)
        return found, frozenset(touched)

    def paths(self) -> dict[str, str]:
        """Every file of ours the index knows (pages and attachments) → blob sha."""
        found = {}
        for entry in self.pages.values():
            found[entry.path] = entry.blob
            found.update({a.path: a.blob for a in entry.attachments.values()})
        return found


def listing_digest(attachments: Iterable) -> str:
    """What a page's current attachments are, in a few bytes: anything with `id`, `title`, `version` and `status`."""
    lines = sorted(f"{a.id}\t{a.title}\t{a.version}" for a in attachments if a.status == "current")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def is_ours(entry: PageEntry) -> bool:
    """Whether every path of the entry lies where the connector writes. An index file anyone can edit in the
    repository must not make a sync delete a file it did not write (a README, another tool's files)."""
    return all(path.startswith(f"{ROOT}/") for path in [entry.path, *(a.path for a in entry.attachments.values())])


def _entry_json(page_id: str, entry: PageEntry) -> dict:
    """The entry as written: without what can be derived (ancestors, the usual web URL) or is empty, so the file
    stays small enough for one tree request at 10,000 pages. Built without dataclasses.asdict's deep copy."""
    data = {**vars(entry), "attachments": {name: dict(vars(a)) for name, a in entry.attachments.items()}}
    del data["ancestors"]
    if data["webui"] == default_webui(page_id, entry):
        del data["webui"]
    if data["kind"] == "page":
        del data["kind"]
    return {key: value for key, value in data.items() if value not in ([], {}, "")}


def _unsynced_json(page: UnsyncedPage) -> dict:
    """An unsynced page as written: its kind only when it is a folder (indexes before folders stay byte-identical)."""
    return {key: value for key, value in vars(page).items() if key != "kind" or value != "page"}


def default_webui(page_id: str, entry: PageEntry) -> str:
    """Confluence Cloud's usual page path; stored only when a page's differs."""
    return f"/spaces/{entry.space_key}/pages/{page_id}/{quote_plus(entry.title)}"


def ancestor_titles(page_id: str, pages: Mapping, unsynced: Mapping[str, UnsyncedPage]) -> list[str]:
    """Titles of the page's Confluence ancestors, root first (what the front matter shows), from the parent links
    of synced and unsynced pages alike. Anything with `title` and `parent_id` attributes will do as a page."""
    titles, seen, parent = [], {page_id}, pages[page_id].parent_id
    while parent not in seen and (above := pages.get(parent) or unsynced.get(parent)) is not None:
        seen.add(parent)
        titles.append(above.title)
        parent = above.parent_id
    return titles[::-1]


def descendant_ids(index: Index, roots: set[str]) -> list[str]:
    """Ids of the pages the index knows (synced or not) below `roots`."""
    children: dict[str, list[str]] = {}
    for pid, entry in [*index.pages.items(), *index.unsynced.items()]:
        children.setdefault(entry.parent_id, []).append(pid)
    found, stack = set(), list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and child not in roots:
                found.add(child)
                stack.append(child)
    return sorted(found, key=page_order)


def unsynced_ancestors(selected: Mapping, known: Mapping[str, UnsyncedPage]) -> dict[str, UnsyncedPage]:
    """The pages between and above the selected ones that are not selected themselves (as far as `known` goes)."""
    found: dict[str, UnsyncedPage] = {}
    for page in selected.values():
        parent = page.parent_id
        while parent is not None and parent not in selected and parent not in found and parent in known:
            found[parent] = known[parent]
            parent = known[parent].parent_id
    return found


def _compact(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def page_order(page_id: str):
    """Numeric ids in numeric order (Confluence's are digits), anything else after them."""
    return (0, int(page_id)) if page_id.isdigit() else (1, page_id)


def parse_index(content: bytes) -> Index:
    return Index.from_json(json.loads(content.decode()))


def render_scope(*, site: dict, scope: dict) -> bytes:
    """The scope as a person reads it in the repository."""
    document = {
        "site": site,
        "spaces": [_space(s) for s in scope.get("spaces", [])],
        "pages": [_page(p) for p in scope.get("pages", [])],
        "exclude": {
            "pages": [_page(p) for p in scope.get("excluded_pages", [])],
            "labels": list(scope.get("excluded_labels", [])),
        },
        # Pages with a view restriction (their own or an ancestor's) are synced only when an admin opted in.
        "include_restricted_pages": bool(scope.get("include_restricted", False)),
    }
    header = (
        "# Confluence content synced into this repository by ctx|.\n"
        "# Edit the scope in ctx| (Connectors → Edit scope); this file is rewritten on every sync.\n"
    )
    return (header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)).encode()


def _space(s: dict) -> dict:
    """A whole space; `blog: true` when its blog posts are synced too (omitted otherwise, as scopes before
    blog posts were written)."""
    return {"key": s["key"], "name": s.get("name", ""), **({"blog": True} if s.get("blog") else {})}


def _page(p: dict) -> dict:
    return {
        "id": str(p["id"]),
        "title": p.get("title", ""),
        "space": p.get("space_key", ""),
        "descendants": bool(p.get("descendants", True)),
    }
