"""What the model-based test (bench/model.py) checks on a repository. Pure: trees in (path → bytes), problems out.

Each function returns a list of problems in words (empty when the property holds), so a divergence report says
everything that is wrong at once. None of this uses the sync engine: the repository is read as a reader would.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

import yaml

INDEX_PATH = ".ctx/confluence-index.json"
SCOPE_PATH = ".ctx/confluence.yml"
ATTACHMENTS = "/_attachments/"
VERBS = ("added", "updated", "moved", "removed")
# "- moved: Deploy guide (page 98310, version 3)": the verb and the page id are what a diff can confirm.
PAGE_LINE = re.compile(r"^- (?P<verb>[a-z]+): .*\(page (?P<id>[^,)\s]+)")
# Page counts only: "2 attachments updated" counts attachment files, listed on lines of their own.
TITLE_COUNT = re.compile(r"(?P<count>\d+) (?P<verb>added|updated|moved|removed)\b")
ATTACHMENT_COUNT = re.compile(r"\d+ attachments? (?:added|updated|removed)")
ATTACHMENT_LINE = re.compile(r"^- attachment (?P<verb>added|updated|removed): (?P<path>.+)$")
DIFF_LINES = 12


def blob_sha(data: bytes) -> str:
    """Git's blob id of `data`, as the index records it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def ours(tree: dict[str, bytes], outside: dict[str, bytes]) -> dict[str, bytes]:
    """The files the connector owns: everything but the files pushed from outside."""
    return {path: data for path, data in tree.items() if path not in outside}


def tree_differences(actual: dict[str, bytes], expected: dict[str, bytes]) -> list[str]:
    """Every path that is missing, extra or different, with the start of a diff for text files."""
    problems = [f"missing {path}" for path in sorted(expected.keys() - actual.keys())]
    problems += [f"unexpected {path}" for path in sorted(actual.keys() - expected.keys())]
    for path in sorted(actual.keys() & expected.keys()):
        if actual[path] != expected[path]:
            problems.append(f"differs {path}:\n{short_diff(expected[path], actual[path])}")
    return problems


def short_diff(expected: bytes, actual: bytes) -> str:
    try:
        lines = difflib.unified_diff(
            expected.decode().splitlines(), actual.decode().splitlines(), "expected", "repository", lineterm="", n=1
        )
    except UnicodeDecodeError:
        return f"    (binary: {len(expected)} bytes expected, {len(actual)} in the repository)"
    return "\n".join(f"    {line}" for line in list(lines)[:DIFF_LINES])


def outside_problems(tree: dict[str, bytes], outside: dict[str, bytes]) -> list[str]:
    """Files someone else pushed must be exactly as they pushed them."""
    problems = []
    for path, data in sorted(outside.items()):
        if path not in tree:
            problems.append(f"the outside file {path} was deleted")
        elif tree[path] != data:
            problems.append(f"the outside file {path} was changed")
    return problems


def index_problems(tree: dict[str, bytes], outside: dict[str, bytes]) -> list[str]:
    """The index file names every file of ours with its blob, and nothing the tree lacks."""
    mine = ours(tree, outside)
    if INDEX_PATH not in mine:
        return [f"{INDEX_PATH} is missing"] if any(p.startswith("confluence/") for p in mine) else []
    try:
        pages = json.loads(mine[INDEX_PATH])["pages"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{INDEX_PATH} does not parse: {error}"]
    problems, listed = [], {INDEX_PATH, SCOPE_PATH}
    for page_id, entry in pages.items():
        files = [(entry.get("path", ""), entry.get("blob", ""))]
        files += [(a.get("path", ""), a.get("blob", "")) for a in (entry.get("attachments") or {}).values()]
        for path, blob in files:
            listed.add(path)
            if path not in mine:
                problems.append(f"the index lists {path} (page {page_id}), which the tree lacks")
            elif blob_sha(mine[path]) != blob:
                problems.append(f"the index records another blob for {path} (page {page_id})")
        content = mine.get(entry.get("path", ""))
        if content is not None and page_id_of(content) != page_id:
            problems.append(f"{entry.get('path')} is listed for page {page_id} but says page {page_id_of(content)}")
    problems += [f"{path} is in the tree but not in the index" for path in sorted(mine.keys() - listed)]
    return problems


def page_id_of(content: bytes) -> str | None:
    """The `page_id` of a page file's front matter (None when the file has none)."""
    page_id = front_matter(content).get("page_id")
    return None if page_id is None else str(page_id)


def pages_in(tree: dict[str, bytes]) -> tuple[dict[str, tuple[str, bytes]], list[str]]:
    """Page id → (path, content) for the page files of a tree of ours, and the problems met reading them."""
    pages, problems = {}, []
    for path, content in sorted(tree.items()):
        if not path.startswith("confluence/") or ATTACHMENTS in f"/{path}" or not path.endswith(".md"):
            continue
        page_id = page_id_of(content)
        if page_id is None:
            problems.append(f"{path} has no page_id in its front matter")
        elif page_id in pages:
            problems.append(f"page {page_id} is in two files: {pages[page_id][0]} and {path}")
        else:
            pages[page_id] = (path, content)
    return pages, problems


def changes(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, set[str]]:
    """What a commit did to each page, read from the page files (a changed attachment is listed as an attachment of
    its own, not as an update of its page): verb → page ids."""
    old, _ = pages_in(before)
    new, _ = pages_in(after)
    found: dict[str, set[str]] = {verb: set() for verb in VERBS}
    found["added"] = new.keys() - old.keys()
    found["removed"] = old.keys() - new.keys()
    for page_id in old.keys() & new.keys():
        if old[page_id][0] != new[page_id][0]:
            found["moved"].add(page_id)
        elif old[page_id][1] != new[page_id][1]:
            found["updated"].add(page_id)
    return found


def owner_of(path: str) -> str | None:
    """The page id of an attachment's path (confluence/<SPACE>/_attachments/<page id>/<file>), else None."""
    if ATTACHMENTS not in f"/{path}":
        return None
    return path.split(ATTACHMENTS.strip("/") + "/", 1)[1].split("/", 1)[0]


def message_problems(message: str, before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """The commit message lists exactly what the commit changes: one line per page with the verb the diff shows,
    the counts of its title, and every attachment change (by its page or its file name). Trees are ours only."""
    if before == after:
        return ["the commit changes nothing"]
    title, _, rest = message.partition("\n")
    problems = pages_in(after)[1]
    listed: dict[str, set[str]] = {verb: set() for verb in VERBS}
    for line in rest.splitlines():
        match = PAGE_LINE.match(line.strip())
        if match and match["verb"] in listed:
            listed[match["verb"]].add(match["id"])
    actual = changes(before, after)
    for verb in VERBS:
        for page_id in sorted(actual[verb] - listed[verb]):
            problems.append(f"page {page_id} was {verb} but the message does not say so")
        for page_id in sorted(listed[verb] - actual[verb]):
            problems.append(f"the message says page {page_id} was {verb}, but the diff does not show that")
    counts = {m["verb"]: int(m["count"]) for m in TITLE_COUNT.finditer(ATTACHMENT_COUNT.sub("", title))}
    for verb in VERBS:
        if counts.get(verb, 0) != len(actual[verb]):
            problems.append(f"the title counts {counts.get(verb, 0)} {verb}, the diff shows {len(actual[verb])}")
    attachment_lines = {
        m["path"]: m["verb"] for m in (ATTACHMENT_LINE.match(line.strip()) for line in rest.splitlines()) if m
    }
    for path in sorted(p for p in before.keys() | after.keys() if owner_of(p) is not None):
        verb = "added" if path not in before else "removed" if path not in after else "updated"
        if before.get(path) != after.get(path) and attachment_lines.get(path) != verb:
            problems.append(f"the attachment {path} was {verb} but the message does not say so")
        if before.get(path) == after.get(path) and path in attachment_lines:
            problems.append(f"the message lists the attachment {path}, but the diff does not change it")
    return problems


# What a clean sync writes, checked against Confluence itself (a bug a clean sync shares is still a bug) ---------


@dataclass(frozen=True)
class SitePage:
    """What Confluence says about a page now (any status)."""

    id: str
    title: str
    space_key: str
    status: str
    parent_id: str | None
    version: int
    labels: tuple[str, ...]
    ancestors: tuple[str, ...]  # titles, root first, as Confluence's ancestors
    read_restricted: bool = False  # a view restriction on the page itself


@dataclass(frozen=True)
class SiteAttachment:
    id: str
    page_id: str
    title: str
    status: str
    version: int
    data: bytes


def selected(pages: dict[str, SitePage], scope: dict) -> set[str]:
    """The pages a scope selects, by the definitions the wizard shows: whole spaces, pages with or without their
    descendants (in Confluence's tree, whatever the pages between), minus excluded pages or subtrees, minus pages
    carrying an excluded label (that page alone). Only current pages are synced."""

    def below(page_id: str) -> set[str]:
        # Up from every page, where the engine (confluence.sync.scope.descendants) walks down from this one: an
        # oracle must share neither the engine's code nor its way of working it out.
        return {pid for pid in pages if page_id in ancestor_ids(pid, pages)}

    keys = {s["key"] for s in scope["spaces"]}
    chosen = {pid for pid, page in pages.items() if page.space_key in keys}
    for entry in scope["pages"]:
        chosen |= {str(entry["id"])} | (below(str(entry["id"])) if entry.get("descendants", True) else set())
    for entry in scope["excluded_pages"]:
        chosen -= {str(entry["id"])} | (below(str(entry["id"])) if entry.get("descendants", True) else set())
    labels = {label.lower() for label in scope["excluded_labels"]}
    return {
        pid
        for pid in chosen
        if pid in pages
        and pages[pid].status == "current"
        and not labels & {x.lower() for x in pages[pid].labels}
        and (scope.get("include_restricted") or not restricted(pid, pages))
    }


def ancestor_ids(page_id: str, pages: dict[str, SitePage]) -> set[str]:
    """The ids of the pages above the page, up to the first one Confluence no longer has (that one included)."""
    found = set()
    parent_id = pages[page_id].parent_id
    while parent_id is not None and parent_id not in found:
        found.add(parent_id)
        parent_id = pages[parent_id].parent_id if parent_id in pages else None
    return found


def restricted(page_id: str, pages: dict[str, SitePage]) -> bool:
    """A view restriction on the page or on any page above it (Confluence applies it to the whole subtree)."""
    seen = set()
    while page_id in pages and page_id not in seen:
        if pages[page_id].read_restricted:
            return True
        seen.add(page_id)
        page_id = pages[page_id].parent_id
    return False


def selection_problems(tree: dict[str, bytes], pages: dict[str, SitePage], scope: dict) -> list[str]:
    """The page files are exactly the selected pages, and each file's front matter says what Confluence says."""
    found, problems = pages_in(tree)
    wanted = selected(pages, scope)
    problems += [f"{describe(pages[p])} is selected but has no file" for p in sorted(wanted - found.keys())]
    problems += [
        f"{found[p][0]} holds {describe(pages[p]) if p in pages else f'page {p}'}, which the scope does not select"
        for p in sorted(found.keys() - wanted)
    ]
    for page_id in sorted(wanted & found.keys()):
        path, content = found[page_id]
        meta, page = front_matter(content), pages[page_id]
        expected = {
            "title": page.title,
            "space_key": page.space_key,
            "version": page.version,
            "labels": sorted(page.labels),
            "parent_id": page.parent_id,
            "ancestors": list(page.ancestors),
        }
        for key, value in expected.items():
            actual = sorted(meta.get(key) or []) if key == "labels" else meta.get(key)
            if actual != value:
                problems.append(f"{path}: front matter {key} is {actual!r}, Confluence says {value!r}")
    return problems


def describe(page: SitePage) -> str:
    return f"{page.title!r} ({page.id}, {page.space_key})"


def front_matter(content: bytes) -> dict:
    text = content.decode("utf-8", errors="replace")
    if not text.startswith("---\n"):
        return {}
    try:
        data = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def attachment_problems(tree: dict[str, bytes], attachments: dict[str, SiteAttachment]) -> list[str]:
    """Each attachment file holds the bytes of the current version of the attachment the index names for it."""
    try:
        pages = json.loads(tree[INDEX_PATH])["pages"]
    except (KeyError, ValueError, TypeError):
        return []
    problems = []
    for page_id, entry in sorted(pages.items()):
        for name, held in sorted((entry.get("attachments") or {}).items()):
            path, source = held.get("path", ""), attachments.get(str(held.get("id")))
            if source is None or source.status != "current":
                problems.append(f"{path} ({name}) is an attachment Confluence no longer has")
            elif tree.get(path) != source.data:
                problems.append(f"{path} does not hold the bytes of {source.title!r} ({source.id}, page {page_id})")
    return problems


def path_problems(tree: dict[str, bytes], *, max_path_units: int) -> list[str]:
    """Paths check out on Windows, macOS and Linux: unique ignoring case and normalisation, each component within
    255 bytes, the whole within `max_path_units` UTF-16 units."""
    problems, seen = [], {}
    for path in sorted(tree):
        folded = unicodedata.normalize("NFC", path).casefold()
        if folded in seen:
            problems.append(f"{path} and {seen[folded]} are one file on Windows and macOS")
        seen[folded] = path
        if len(path.encode("utf-16-le")) // 2 > max_path_units:
            problems.append(f"{path} is longer than {max_path_units} UTF-16 units")
        if any(len(part.encode()) > 255 or part in ("", ".", "..") for part in path.split("/")):
            problems.append(f"{path} has an empty, dot or over-long component")
    return problems


MARKDOWN_TARGET = re.compile(r"\]\((<[^>\n]*>|[^)\s]*)")


def link_problems(tree: dict[str, bytes]) -> list[str]:
    """Every relative link of a page file leads to a file of the repository (else it is a 404 on GitHub)."""
    problems = []
    for path, content in sorted(tree.items()):
        if not path.endswith(".md") or not path.startswith("confluence/"):
            continue
        for match in MARKDOWN_TARGET.finditer(content.decode("utf-8", errors="replace")):
            target = match.group(1).strip("<>").split("#", 1)[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(target)))
            if resolved not in tree:
                problems.append(f"{path} links to {target}, which is not in the repository")
    return problems
