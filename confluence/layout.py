"""Where each synced page and attachment lives in the repository. Pure: no Django, no I/O.

    confluence/<SPACEKEY>/<ancestor-slug>/…/<page-slug>.md
    confluence/<SPACEKEY>/_attachments/<page-id>/<file>

Paths are deterministic (a function of the synced pages alone), unique (siblings whose slugs collide get a
`--<page id>` suffix, all but the oldest page), stable (a page keeps its path until its title, parent or space
changes), readable (slugs of titles) and safe (no `..`, no absolute paths, no control characters, no reserved
names, every component at most 255 bytes).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

ROOT = "confluence"
ATTACHMENTS = "_attachments"
MAX_COMPONENT_BYTES = 255
# Room for "--<page id>.md" after a slug, so a suffixed name still fits in one component.
MAX_SLUG_BYTES = 200
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class Node:
    """What layout needs to know about a synced page."""

    id: str
    title: str
    space_key: str
    parent_id: str | None


def truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def slugify(title: str, *, fallback: str) -> str:
    """A readable, filesystem-safe, lowercase name for a title; `fallback` when nothing readable is left."""
    text = unicodedata.normalize("NFKC", title).casefold()
    # \w keeps letters and digits of every script; everything else (slashes, dots, emoji, RTL marks) is a dash.
    text = re.sub(r"[^\w]+", "-", text).replace("_", "-")
    text = re.sub(r"-{2,}", "-", text).strip("-")
    text = truncate_utf8(text, MAX_SLUG_BYTES).strip("-")
    if not text or text in WINDOWS_RESERVED:
        return fallback
    return text


def safe_component(name: str, *, fallback: str) -> str:
    """A file or folder name kept close to the original (attachments, space keys), but safe everywhere."""
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # control and format characters
    name = re.sub(r'[/\\:*?"<>|]+', "-", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 16:
        name = truncate_utf8(stem, MAX_COMPONENT_BYTES - len(ext.encode()) - 1).rstrip(" .") + "." + ext
    else:
        name = truncate_utf8(name, MAX_COMPONENT_BYTES).rstrip(" .")
    if not name or name.split(".")[0].casefold() in WINDOWS_RESERVED or name in (".", ".."):
        return fallback
    return name


def space_folder(space_key: str) -> str:
    return f"{ROOT}/{safe_component(space_key, fallback='space')}"


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
    pending = [(key, None, space_folder(key)) for key in sorted({n.space_key for n in nodes.values()})]
    while pending:
        space_key, parent_id, folder = pending.pop()
        for node, name in unique_names(children.get((space_key, parent_id), [])).items():
            paths[node.id] = f"{folder}/{name}.md"
            pending.append((space_key, node.id, f"{folder}/{name}"))
    return paths


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
    by_slug: dict[str, list[Node]] = defaultdict(list)
    for node in siblings:
        by_slug[slugify(node.title, fallback=f"page-{node.id}")].append(node)
    names = {}
    for slug, group in by_slug.items():
        group.sort(key=lambda n: (len(n.id), n.id))
        names[group[0]] = slug
        for node in group[1:]:
            names[node] = f"{slug}--{node.id}"
    return names


def attachment_path(*, space_key: str, page_id: str, filename: str) -> str:
    name = safe_component(filename, fallback="attachment")
    return f"{space_folder(space_key)}/{ATTACHMENTS}/{safe_component(page_id, fallback='page')}/{name}"


def is_safe(path: str) -> bool:
    """What every path we write must satisfy (the property tests check it for any title)."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    parts = path.split("/")
    return all(
        part not in ("", ".", "..")
        and len(part.encode("utf-8")) <= MAX_COMPONENT_BYTES
        and not any(unicodedata.category(ch)[0] == "C" for ch in part)
        for part in parts
    )
