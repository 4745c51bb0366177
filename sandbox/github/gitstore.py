"""Git objects and refs of the simulated GitHub's bare repositories, read and written through dulwich.

The repositories are ordinary bare repositories on disk: the git CLI can clone, push to, repack and fsck them,
and dulwich reads what git wrote, loose or packed. Ref updates are compare-and-swap under git's `<ref>.lock`
file, so an outside `git push` and the simulator never overwrite each other's update.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dulwich.file import FileLocked
from dulwich.objects import Blob, Commit, ShaFile
from dulwich.refs import check_ref_format
from dulwich.repo import Repo

ZERO_SHA = "0" * 40
SHA_RE = re.compile(r"[0-9a-f]{40}")


class RefLocked(Exception):
    """Another writer (an outside `git push`) holds the ref's lock file."""


class RefMoved(Exception):
    """The ref no longer points where the caller expected."""


def init_repository(path: Path, *, default_branch: str) -> None:
    """A new bare repository; one already at `path` is kept, as `git init` keeps it."""
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "objects").is_dir():
        Repo.init_bare(path, default_branch=default_branch.encode()).close()


def repository(path: Path) -> Repo:
    # Opening a repository reads its config and pack list (over a millisecond), and a commit of 10,000 files
    # reads and writes objects of the same repository thousands of times. The objects directory's inode tells a
    # repository recreated at the same path from the cached one.
    return _open(str(path), os.stat(os.path.join(path, "objects")).st_ino)


@lru_cache(maxsize=64)
def _open(path: str, inode: int) -> Repo:
    return Repo(path)


def forget_repositories() -> None:
    """Drop the open repositories, after one was deleted (its path, even its inode, may come back)."""
    _open.cache_clear()


# Objects ---------------------------------------------------------------------------------------------------


def read(path: Path, sha: str, kind: type[ShaFile] | None = None) -> ShaFile | None:
    """The object `sha` (of class `kind` if given), or None when the repository has no such object."""
    if not SHA_RE.fullmatch(sha):
        return None
    try:
        obj = repository(path).object_store[sha.encode()]
    except KeyError:
        return None
    return obj if kind is None or isinstance(obj, kind) else None


def kind_of(path: Path, sha: str) -> str | None:
    """ "blob", "tree", "commit" or "tag"; None for an unknown sha."""
    obj = read(path, sha)
    return obj.type_name.decode() if obj else None


def write(path: Path, obj: ShaFile) -> str:
    repository(path).object_store.add_object(obj)
    return obj.id.decode()


def write_blob(path: Path, data: bytes) -> str:
    return write(path, Blob.from_string(data))


def read_blob(path: Path, sha: str) -> bytes | None:
    blob = read(path, sha, Blob)
    return blob.as_raw_string() if blob else None


def blob_sizes(path: Path, shas: list[str]) -> dict[str, int]:
    store = repository(path).object_store
    return {sha: len(store.get_raw(sha.encode())[1]) for sha in dict.fromkeys(shas) if sha.encode() in store}


# Commits ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int
    offset: int = 0  # seconds east of UTC


@dataclass(frozen=True)
class CommitInfo:
    """A commit with text fields, as the API shapes and webhook payloads need them."""

    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


def read_commit(path: Path, sha: str) -> CommitInfo | None:
    commit = read(path, sha, Commit)
    if commit is None:
        return None
    return CommitInfo(
        tree=commit.tree.decode(),
        parents=tuple(p.decode() for p in commit.parents),
        author=_signature(commit.author, commit.author_time, commit.author_timezone),
        committer=_signature(commit.committer, commit.commit_time, commit.commit_timezone),
        message=commit.message.decode(errors="replace"),
    )


def write_commit(path: Path, info: CommitInfo) -> str:
    commit = Commit()
    commit.tree = info.tree.encode()
    commit.parents = [p.encode() for p in info.parents]
    commit.author = f"{info.author.name} <{info.author.email}>".encode()
    commit.author_time, commit.author_timezone = info.author.timestamp, info.author.offset
    commit.committer = f"{info.committer.name} <{info.committer.email}>".encode()
    commit.commit_time, commit.commit_timezone = info.committer.timestamp, info.committer.offset
    commit.message = info.message.encode()
    return write(path, commit)


def _signature(identity: bytes, timestamp: int, offset: int) -> Signature:
    name, _, email = identity.decode(errors="replace").partition("<")
    return Signature(name.strip(), email.rstrip(">").strip(), timestamp, offset)


def is_ancestor(path: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is reachable from `descendant` (a fast-forward from one to the other)."""
    seen, frontier = set(), [descendant]
    while frontier:
        sha = frontier.pop()
        if sha == ancestor:
            return True
        if sha in seen:
            continue
        seen.add(sha)
        commit = read_commit(path, sha)
        frontier.extend(commit.parents if commit else ())
    return False


def commits_between(path: Path, before: str | None, after: str, *, limit: int = 20) -> list[tuple[str, CommitInfo]]:
    """Commits reachable from `after` but not `before` along first parents, oldest first (a push's commits)."""
    commits, sha = [], after
    while sha and sha != before and len(commits) < limit:
        commit = read_commit(path, sha)
        if commit is None:
            break
        commits.append((sha, commit))
        sha = commit.parents[0] if commit.parents else ""
    return commits[::-1]


# Refs ------------------------------------------------------------------------------------------------------


def valid_ref_name(name: str) -> bool:
    return name.startswith("refs/") and name.count("/") >= 2 and check_ref_format(name.encode())


def read_ref(path: Path, name: str) -> str | None:
    if not valid_ref_name(name):
        return None
    try:
        return repository(path).refs[name.encode()].decode()
    except KeyError:
        return None


def list_refs(path: Path, prefix: str = "refs/") -> dict[str, str]:
    """Every ref whose name starts with `prefix` (a plain string prefix, as GitHub's matching-refs takes it)."""
    refs = repository(path).refs
    names = sorted(n.decode() for n in refs.allkeys() if n.decode().startswith(prefix) and n != b"HEAD")
    return {name: sha for name in names if (sha := read_ref(path, name))}


def update_ref(path: Path, name: str, new: str, *, expected: str | bool | None = True) -> None:
    """Point `name` at `new`. With `expected` a sha (or None for "must not exist"), only if it still points there.

    Raises RefLocked when another writer (git itself included) holds the ref's lock, RefMoved when the ref is
    not where `expected` says (or a ref in the way makes the name unusable).
    """
    old = None if expected is True else (expected or ZERO_SHA).encode()
    try:
        updated = repository(path).refs.set_if_equals(name.encode(), old, new.encode())
    except FileLocked:
        raise RefLocked(name) from None
    except OSError:  # "refs/heads/a/b" while "refs/heads/a" exists, or the reverse
        raise RefMoved(name) from None
    if not updated:
        raise RefMoved(name)


def delete_ref(path: Path, name: str) -> None:
    try:
        repository(path).refs.remove_if_equals(name.encode(), None)
    except FileLocked:
        raise RefLocked(name) from None


def set_head(path: Path, branch: str) -> None:
    """Make `branch` the one HEAD names, which `git clone` checks out."""
    repository(path).refs.set_symbolic_ref(b"HEAD", f"refs/heads/{branch}".encode())
