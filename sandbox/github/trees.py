"""Git trees: edit a tree by path (what `POST /git/trees` with `base_tree` does), list it, diff two of them.

Editing loads only the subtrees on the changed paths; untouched subtrees keep their object ids, so a one-file
change in a 10,000-file repository writes a handful of tree objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dulwich.objects import Tree

from sandbox.github import gitstore

TREE_MODE = "40000"
BLOB_MODES = ("100644", "100755", "120000")
SUBMODULE_MODE = "160000"


class MissingPath(Exception):
    """A deletion names a path that is not in the base tree."""


class BadObject(Exception):
    """A sha that is not the expected kind of object in this repository."""


@dataclass(frozen=True)
class Entry:
    mode: str  # as git writes it: "100644", "100755", "120000", "40000", "160000"
    sha: str

    @property
    def kind(self) -> str:
        return {TREE_MODE: "tree", SUBMODULE_MODE: "commit"}.get(self.mode, "blob")


@dataclass(frozen=True)
class Change:
    path: str
    mode: str = "100644"
    sha: str | None = None  # None with no content: delete the path
    content: bytes | None = None


def read_tree(repo: Path, sha: str) -> dict[str, Entry]:
    """Name -> entry, in git's order."""
    tree = gitstore.read(repo, sha, Tree)
    if tree is None:
        raise BadObject(sha)
    return {e.path.decode(errors="surrogateescape"): Entry(f"{e.mode:o}", e.sha.decode()) for e in tree.iteritems()}


def write_tree(repo: Path, entries: dict[str, Entry]) -> str:
    tree = Tree()
    for name, entry in entries.items():
        tree.add(name.encode(errors="surrogateescape"), int(entry.mode, 8), entry.sha.encode())
    return gitstore.write(repo, tree)


# Editing ---------------------------------------------------------------------------------------------------

# A directory being edited: name -> Entry (untouched) or a nested dict (loaded because something below changed).
_Dir = dict


def apply_changes(repo: Path, base_tree: str | None, changes: list[Change]) -> str:
    """Write the tree that results from applying `changes` to `base_tree`; return its sha."""
    root: _Dir = dict(read_tree(repo, base_tree)) if base_tree else {}
    for change in changes:
        *dirs, name = change.path.split("/")
        node = _descend(repo, root, dirs, creating=change.sha is not None or change.content is not None)
        if change.content is not None:
            node[name] = Entry(change.mode, gitstore.write_blob(repo, change.content))
        elif change.sha is not None:
            node[name] = Entry(change.mode, change.sha)
        elif node is None or name not in node:
            raise MissingPath(change.path)
        else:
            del node[name]
    return _write(repo, root) or write_tree(repo, {})


def _descend(repo: Path, node: _Dir, dirs: list[str], *, creating: bool) -> _Dir | None:
    for part in dirs:
        child = node.get(part)
        if isinstance(child, dict):
            node = child
            continue
        if isinstance(child, Entry) and child.mode == TREE_MODE:
            child = node[part] = dict(read_tree(repo, child.sha))
        elif not creating:
            return None
        else:
            # A missing directory, or a file in the way: GitHub replaces it with the new directory.
            child = node[part] = {}
        node = child
    return node


def _write(repo: Path, node: _Dir) -> str | None:
    """Write a directory bottom-up; None when it ended up empty (git has no empty directories)."""
    entries = {}
    for name, child in node.items():
        if isinstance(child, dict):
            sha = _write(repo, child)
            if sha:
                entries[name] = Entry(TREE_MODE, sha)
        else:
            entries[name] = child
    return write_tree(repo, entries) if entries else None


# Listing and diffing ---------------------------------------------------------------------------------------


def flatten(repo: Path, tree: str, *, limit: int | None = None) -> tuple[list[tuple[str, Entry]], bool]:
    """Every entry under `tree` in git's order (a directory, then its contents), and whether it was truncated."""
    listing: list[tuple[str, Entry]] = []

    def walk(sha: str, prefix: str) -> bool:
        for name, entry in read_tree(repo, sha).items():
            if limit is not None and len(listing) >= limit:
                return False
            listing.append((prefix + name, entry))
            if entry.mode == TREE_MODE and not walk(entry.sha, f"{prefix}{name}/"):
                return False
        return True

    complete = walk(tree, "")
    return listing, not complete


def blobs(repo: Path, tree: str) -> dict[str, Entry]:
    """Path -> entry for every file (blob, symlink or submodule) under `tree`."""
    return {path: entry for path, entry in flatten(repo, tree)[0] if entry.mode != TREE_MODE}


def diff(repo: Path, old: str | None, new: str | None, prefix: str = "") -> dict[str, str]:
    """Path -> "added" / "removed" / "modified" between two trees, skipping identical subtrees."""
    before = read_tree(repo, old) if old else {}
    after = read_tree(repo, new) if new else {}
    changes: dict[str, str] = {}
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        a_tree = a.sha if a and a.mode == TREE_MODE else None
        b_tree = b.sha if b and b.mode == TREE_MODE else None
        if a_tree or b_tree:
            changes.update(diff(repo, a_tree, b_tree, f"{prefix}{name}/"))
        if a and not a_tree and b and not b_tree:
            changes[prefix + name] = "modified"
        elif a and not a_tree:
            changes[prefix + name] = "removed"
        elif b and not b_tree:
            changes[prefix + name] = "added"
    return changes


def commit_changes(repo: Path, commit: gitstore.CommitInfo) -> dict[str, str]:
    """What a commit changed against its first parent (every file, for a first commit)."""
    parent = gitstore.read_commit(repo, commit.parents[0]) if commit.parents else None
    return diff(repo, parent.tree if parent else None, commit.tree)
