"""Where each synced page and attachment lives in the repository. Pure: no Django, no I/O.

    confluence/<SPACEKEY>/<ancestor-slug>/…/<page-slug>.md
    confluence/<SPACEKEY>/blog/<YYYY>/<MM>/<post-slug>.md        (blog posts, by posting month)
    confluence/<SPACEKEY>/_attachments/<page-id>/<file>          (a post's attachments too, by its id)

Paths are deterministic (a function of the synced pages, and of each page's attachment listing), readable (slugs
of titles, attachments under their own names), stable (a page keeps its path until its title, parent or space
changes; an attachment keeps its path while it and the older attachments of its page keep their names) and safe
(confluence.sync.safe_names: every clone checks out on Windows, macOS and Linux).

Pages: siblings whose slugs collide get `--<page id>` (all but the oldest page). Slugs are lowercase and never
contain `--`, so a name ending in `--<id>` cannot meet another page's name. A page whose path would be longer than
the cap keeps its first SHORT_SLUG_UNITS of slug plus `--<page id>`; when even that does not fit in its parent's
folder (deep trees), the page goes into the deepest ancestor folder where it fits, down to the space's folder. Its
children follow it, and its front matter still lists its real ancestors.

Blog posts: the posting month (Confluence's createdAt) names the folder; posts of one month whose slugs collide
get `--<post id>` (all but the oldest), as does a post whose path a page already takes (a page "Blog" with
descendants "2026", "01" and the post's title). A post keeps its path until its title changes.

Attachments: each page's files live in `_attachments/<page id>/`, so only one page's attachments can meet. A plain
name (unchanged by making it safe, within the limits, not a device name) is kept: `Architecture.png`. Any other
name is made safe and gets `--<first 8 hex digits of the SHA-256 of the original name>` before its extension:
`CON.png` → `CON--<hash>.png`, `..` → `attachment--<hash>`, `report:v1.txt` → `report-v1--<hash>.txt`. Both rules
need the name alone, so a page's links are written without listing its attachments. Only when that name is taken,
ignoring case and normalisation, by an older attachment of the same page (`Report-V1.txt` then `report-v1.txt`)
does the younger file get `--<attachment id>` instead, which takes the page's listing: the sync lists each owner
page's attachments anyway to download them, and renders again the rare page that shows such a file. Names are
given oldest attachment first, so a new attachment never renames an existing file. Space keys and page ids far
longer than Confluence's are cut, with a hash, so that an attachment always has room. Space folders are the space
keys: upper-case letters and digits, or `~` and an account id for personal spaces, so no two meet ignoring case.

Repositories written under the earlier rules keep every path that was plain, unique and within these limits, so
a re-sync writes nothing for them; a page or attachment whose old path broke a rule moves when its page is next
rendered (an edit, or a full sync), its old file removed in the same commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import count

from confluence.sync.safe_names import (
    MAX_PATH_UNITS,
    clean_name,
    clip,
    collision_key,
    fits_component,
    is_reserved,
    safe_component,
    short_hash,
    utf16_units,
)

ROOT = "confluence"
ATTACHMENTS = "_attachments"
BLOG = "blog"
# Room for "--<page id>.md" after a slug, so a suffixed name still fits in one component.
MAX_SLUG_BYTES = 200
# A page whose path must be shortened keeps this much of its slug (room is left for its children)…
SHORT_SLUG_UNITS = 40
# …and moves up to a shallower ancestor folder rather than keep less than this.
MIN_SLUG_UNITS = 12
# Space keys are short in practice (personal ones are "~" + an account id, about 45 characters); a longer key is
# cut, with a hash of the key, so a page always has room.
MAX_SPACE_UNITS = 64
MAX_ID_UNITS = 24
MAX_EXTENSION = 16


@dataclass(frozen=True)
class Node:
    """What layout needs to know about a synced page."""

    id: str
    title: str
    space_key: str
    parent_id: str | None


# Names ---------------------------------------------------------------------------------------------------------


def slugify(title: str, *, fallback: str) -> str:
    """A readable, filesystem-safe, lowercase name for a title; `fallback` when nothing readable is left."""
    text = unicodedata.normalize("NFKC", title).casefold()
    # \w keeps letters and digits of every script; everything else (slashes, dots, emoji, RTL marks) is a dash.
    text = re.sub(r"[^\w]+", "-", text).replace("_", "-")
    text = unicodedata.normalize("NFC", re.sub(r"-{2,}", "-", text).strip("-"))
    # Bytes as written and UTF-16 units decomposed, so "--<id>.md" still fits in the component after it.
    text = clip(text, lambda s: max(len(s.encode()), utf16_units(unicodedata.normalize("NFD", s))) <= MAX_SLUG_BYTES)
    text = text.strip("-")
    if not text or is_reserved(text):
        return fallback
    return text


def space_folder(space_key: str) -> str:
    name = safe_component(space_key, fallback="space")
    if utf16_units(name) > MAX_SPACE_UNITS:
        name = clip(name, lambda s: utf16_units(s) <= MAX_SPACE_UNITS - 12).rstrip(" .") + "--" + short_hash(space_key)
    return f"{ROOT}/{name}"


# Pages ---------------------------------------------------------------------------------------------------------


def page_paths(nodes: Mapping[str, Node]) -> dict[str, str]:
    """Path of every page; a page's children live in the folder named like its file, without `.md`."""
    parents = {
        node.id: node.parent_id
        if node.parent_id in nodes and nodes[node.parent_id].space_key == node.space_key
        else None
        for node in nodes.values()
    }
    looping = in_loops(parents)
    children: dict[tuple[str, str | None], list[Node]] = defaultdict(list)
    for node in nodes.values():
        children[(node.space_key, None if node.id in looping else parents[node.id])].append(node)
    paths: dict[str, str] = {}
    # Each entry carries the folders a child may live in: the space's folder, then each ancestor's, deepest last.
    pending = [(key, None, (space_folder(key),)) for key in sorted({n.space_key for n in nodes.values()})]
    while pending:
        space_key, parent_id, folders = pending.pop()
        for node, name in unique_names(children.get((space_key, parent_id), [])).items():
            depth, name = fit_page(node, name, folders)
            paths[node.id] = f"{folders[depth]}/{name}.md"
            pending.append((space_key, node.id, (*folders[: depth + 1], f"{folders[depth]}/{name}")))
    return paths


def post_paths(nodes: Mapping[str, Node], *, posted: Mapping[str, str], taken: Iterable[str]) -> dict[str, str]:
    """Path of every blog post (`posted`: post id → its ISO posting time), none of them one of the `taken` paths
    (the pages'), ignoring case and normalisation."""
    by_folder: dict[str, list[Node]] = defaultdict(list)
    for node in nodes.values():
        by_folder[blog_folder(node.space_key, posted.get(node.id, ""))].append(node)
    held = {collision_key(path) for path in taken}
    paths = {}
    for folder, posts in by_folder.items():
        for node, name in unique_names(posts).items():
            _, name = fit_page(node, name, (folder,))
            if collision_key(f"{folder}/{name}.md") in held:
                _, name = fit_page(node, f"{name.removesuffix(f'--{node.id}')}--{node.id}", (folder,))
            paths[node.id] = f"{folder}/{name}.md"
    return paths


def blog_folder(space_key: str, posted: str) -> str:
    """The space's blog folder for the month of `posted` (`2026-01-02T…`); `0000/00` when the date is unreadable."""
    year, month = posted[:4], posted[5:7]
    if not (len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
        year, month = "0000", "00"
    return f"{space_folder(space_key)}/{BLOG}/{year}/{month}"


def fit_page(node: Node, name: str, folders: tuple[str, ...]) -> tuple[int, str]:
    """(Index of the folder the page goes into, its name): the parent's folder and its own name when the path
    fits, else a shortened name with `--<page id>` in the deepest folder that leaves room for it."""
    deepest = len(folders) - 1
    if utf16_units(f"{folders[deepest]}/{name}.md") <= MAX_PATH_UNITS:
        return deepest, name
    suffix = f"--{node.id}"
    rooms = [MAX_PATH_UNITS - utf16_units(f"{folder}/{suffix}.md") for folder in folders]
    # The space's folder (depth 0) takes the page when no ancestor's leaves room.
    depth = next((d for d in range(deepest, 0, -1) if rooms[d] >= MIN_SLUG_UNITS), 0)
    limit = min(rooms[depth], SHORT_SLUG_UNITS)
    slug = slugify(node.title, fallback=f"page-{node.id}")
    short = clip(slug, lambda s: utf16_units(s) <= limit and fits_component(f"{s}{suffix}.md")).rstrip("-")
    return depth, f"{short or 'page'}{suffix}"


def in_loops(parents: Mapping[str, str | None]) -> set[str]:
    """Pages whose parent chain comes back to them (stale or mixed parent data): they are laid out at the
    space's top level, so every page still gets a path."""
    done: set[str] = set()
    looping: set[str] = set()
    for start in parents:
        chain: list[str] = []
        on_chain: set[str] = set()
        page = start
        while page is not None and page not in done and page not in on_chain:
            chain.append(page)
            on_chain.add(page)
            page = parents[page]
        if page is not None and page in on_chain:
            looping.update(chain[chain.index(page) :])
        done.update(chain)
    return looping


def unique_names(siblings: list[Node]) -> dict[Node, str]:
    """Slug per sibling; on a collision (case-insensitively) every page but the oldest gets `--<id>`."""
    slugs = {node: slugify(node.title, fallback=f"page-{node.id}") for node in siblings}
    by_key: dict[str, list[Node]] = defaultdict(list)
    for node in siblings:
        by_key[collision_key(slugs[node])].append(node)
    names = {}
    for group in by_key.values():
        group.sort(key=lambda n: (len(n.id), n.id))
        names[group[0]] = slugs[group[0]]
        for node in group[1:]:
            names[node] = f"{slugs[node]}--{node.id}"
    return names


# Attachments ---------------------------------------------------------------------------------------------------


def attachment_folder(*, space_key: str, page_id: str) -> str:
    name = safe_component(page_id, fallback="page")
    if utf16_units(name) > MAX_ID_UNITS:  # Confluence's ids are digits, far shorter: only for ids from elsewhere
        name = clip(name, lambda s: utf16_units(s) <= MAX_ID_UNITS - 12).rstrip(" .") + "--" + short_hash(page_id)
    return f"{space_folder(space_key)}/{ATTACHMENTS}/{name}"


def attachment_path(*, space_key: str, page_id: str, filename: str) -> str:
    """Where a file goes unless an older attachment of its page takes that name (see attachment_paths): what a
    link needs, from the name alone."""
    folder = attachment_folder(space_key=space_key, page_id=page_id)
    return f"{folder}/{next(attachment_names(filename, fits=fits_in(folder)))}"


def attachment_paths(files: Mapping[str, str], *, space_key: str, page_id: str) -> dict[str, str]:
    """Attachment id → path for all the attachments of one page (its listing: id → file name), unique ignoring
    case and normalisation. Oldest attachment first, so a file's path depends only on it and on older ones."""
    folder = attachment_folder(space_key=space_key, page_id=page_id)
    fits = fits_in(folder)
    taken: set[str] = set()
    paths = {}
    for attachment_id in sorted(files, key=lambda i: (len(i), i)):
        candidates = attachment_names(files[attachment_id], fits=fits, attachment_id=attachment_id)
        chosen = next(name for name in candidates if collision_key(name) not in taken)
        taken.add(collision_key(chosen))
        paths[attachment_id] = f"{folder}/{chosen}"
    return paths


def fits_in(folder: str) -> Callable[[str], bool]:
    return lambda name: fits_component(name) and utf16_units(f"{folder}/{name}") <= MAX_PATH_UNITS


def attachment_names(filename: str, *, fits: Callable[[str], bool], attachment_id: str = ""):
    """The names a file may take, best first: the name itself when it is plain (safe, within the limits), else
    `<stem>--<hash of the name>.<ext>`; then, when an older attachment holds that, `<stem>--<attachment id>.<ext>`,
    `<stem>--<attachment id>-2.<ext>` and so on."""
    name = clean_name(filename)
    if name and name == filename and not is_reserved(name) and fits(name):
        yield name
    else:
        yield suffixed(name, short_hash(filename)[:8], fits)
    if not attachment_id:
        return
    tag = attachment_id if re.fullmatch(r"[0-9A-Za-z]{1,24}", attachment_id) else short_hash(attachment_id)
    yield suffixed(name, tag, fits)
    for number in count(2):
        yield suffixed(name, f"{tag}-{number}", fits)


def suffixed(name: str, tag: str, fits: Callable[[str], bool]) -> str:
    """`<stem>--<tag>.<ext>`, the stem cut to fit, the extension kept."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION:
        stem, extension = name, ""
    suffix = f"--{tag}" + (f".{extension}" if extension else "")
    base = clip(stem, lambda s: fits(f"{s}{suffix}")).rstrip(" .-")
    if not base or is_reserved(f"{base}{suffix}"):
        # `..` has no stem left; `CON.tar.gz` would still start with a device name.
        base = clip(f"attachment-{base}".strip("-"), lambda s: fits(f"{s}{suffix}")).rstrip(" .-")
    return f"{base}{suffix}"
