"""Write a set of file changes to a branch as ONE commit through the Git Data API.

Text goes inline in `create_git_tree` entries (no request per file); binary files, and text too large to ride
in a tree request, become base64 blobs; large change sets are split into several tree requests chained by
`base_tree`, still ending in one commit and one non-forced ref update. If the branch moved meanwhile, the commit is
rebuilt on the new head: other people's commits are never overwritten, and paths the caller does not name are
never touched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import zlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field

from github_sync.client import InstallationClient
from github_sync.errors import GitHubError, InputTooLarge, NotFastForward

logger = logging.getLogger(__name__)

# GitHub documents no limit for a create-tree request, but reports of 502/422 start around 2.5 to 7 MB.
MAX_TREE_REQUEST_BYTES = 4_000_000
# A file whose JSON-encoded text is larger goes as a blob of its own: one large page then costs one more request
# instead of making the tree request that carries it (and every other file of the run) fail.
MAX_INLINE_BYTES = 1_000_000
MAX_TREE_REQUEST_ENTRIES = 500
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class CommitResult:
    sha: str | None  # None: the branch already had every change, nothing was written
    blob_shas: dict[str, str] = field(default_factory=dict)  # path → blob sha of every file now present
    attempts: int = 1
    base_sha: str | None = None


class CommitConflict(GitHubError):
    """The branch kept moving under us; the run should be retried later."""


def git_blob_sha(content: bytes) -> str:
    """The object id git gives this content, so unchanged files are recognised without asking GitHub."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class FileChanges(MutableMapping):
    """Path → new content (bytes) or None (delete), held compressed until written.

    A first sync renders thousands of files before its one commit; Markdown compresses about four to one, so a
    large run holds a quarter of what it writes. (The sync engine keeps the storage bodies it read the same way:
    `confluence.sync.reading.Bodies`.)
    """

    def __init__(self, items: Mapping[str, bytes | None] | None = None):
        self._data: dict[str, bytes | None] = {}
        self.update(items or {})

    def __getitem__(self, path: str) -> bytes | None:
        data = self._data[path]
        return None if data is None else zlib.decompress(data)

    def __setitem__(self, path: str, content: bytes | None) -> None:
        self._data[path] = None if content is None else zlib.compress(content, 1)

    def __delitem__(self, path: str) -> None:
        del self._data[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def commit_files(
    client: InstallationClient,
    *,
    full_name: str,
    branch: str,
    files: Mapping[str, bytes | None],
    message: str,
    known_blobs: dict[str, str] | None = None,
    author: dict | None = None,
    head: tuple[str, str] | None = None,
    before_ref_update: Callable[[], None] | None = None,
) -> CommitResult:
    """Make the branch hold `files` (bytes → write, None → delete) in one commit on top of its current head.

    `known_blobs` is what the caller believes the branch holds at those paths (path → blob sha); with it, no tree
    listing is needed. Without it, or when the belief proves wrong, the base tree is read to decide. `head`
    (commit sha, tree sha) saves reading the branch when the caller just did. `before_ref_update` runs just
    before the branch moves (by a bootstrap commit too); whatever it raises stops the commit (the caller's checks).
    """
    blob_cache: dict[str, str] = {}
    verify = known_blobs is None
    shas, present = _hashes(files)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if head is None or attempt > 1:
            head = client.branch_head(full_name, branch)
        head = head or _bootstrap(client, full_name, branch, files, before_ref_update=before_ref_update)
        current = current_blobs(client, full_name, head[1], files) if verify else dict(known_blobs)
        try:
            new_commit = _write(
                client, full_name, branch, head, files, _effective_changes(shas, current), blob_cache,
                message=message, author=author, before_ref_update=before_ref_update,
            )  # fmt: skip
        except GitHubError as error:
            if not _worth_rebuilding(error, verified=verify):
                raise
            logger.info("%s@%s: %s; rebuilding on the branch as it is now", full_name, branch, error)
        else:
            return CommitResult(new_commit, present, attempt, head[0])
        verify = True
    raise CommitConflict(f"{full_name}@{branch} kept moving; gave up after {MAX_ATTEMPTS} attempts", status=422)


def _hashes(files: Mapping[str, bytes | None]) -> tuple[dict[str, str | None], dict[str, str]]:
    """(path → blob sha, or None to delete; path → blob sha of every file present once the branch holds the
    change). Hashed once: `files` may hold its contents compressed, and they do not change between attempts."""
    shas = {p: None if (content := files[p]) is None else git_blob_sha(content) for p in files}
    return shas, {p: sha for p, sha in shas.items() if sha is not None}


def _worth_rebuilding(error: GitHubError, *, verified: bool) -> bool:
    """Whether an attempt that failed so is made again on the branch as it is now: the branch moved under us, or
    our belief about it was wrong (422 on a path we meant to delete that is gone), unless the tree was read."""
    if isinstance(error, NotFastForward):
        return True
    return error.status == 422 and not verified and not isinstance(error, InputTooLarge)


def _write(
    client, full_name: str, branch: str, head, files, changes, blob_cache, *, message, author, before_ref_update
) -> str | None:
    """One attempt: the new tree, its commit and the ref update; the commit's sha, or None when the branch already
    holds every change."""
    (commit_sha, tree_sha), (writes, deletes) = head, changes
    if not writes and not deletes:
        return None
    new_tree = _build_tree(client, full_name, tree_sha, files, writes, deletes, blob_cache)
    if new_tree == tree_sha:  # our belief was stale, but the branch already holds exactly this
        return None
    new_commit = client.create_commit(full_name, message=message, tree=new_tree, parents=[commit_sha], author=author)
    if before_ref_update is not None:
        before_ref_update()
    client.update_branch(full_name, branch, new_commit)
    return new_commit


def _bootstrap(client, full_name: str, branch: str, files: Mapping, *, before_ref_update) -> tuple[str, str]:
    """Give an empty repository its first commit (the Git Data API answers 409 until one exists). It moves the
    branch and holds one of the files, so the caller's check before a branch moves runs first."""
    if before_ref_update is not None:
        before_ref_update()
    # The smallest file: the Contents API takes it base64-encoded in JSON, so a large one costs memory and time.
    sizes = {p: len(content) for p in files if (content := files[p]) is not None}
    path = min(sizes, key=lambda p: (sizes[p], p), default=None)
    content = files[path] if path is not None else b""
    path = path or ".gitkeep"
    client.put_file(full_name, path=path, content=content, message="Initialize repository for ctx|", branch=branch)
    head = client.branch_head(full_name, branch)
    if head is None:
        raise GitHubError(f"{full_name}: the first commit did not create branch {branch}")
    return head


def current_blobs(client, full_name: str, tree_sha: str, files) -> dict[str, str]:
    """Path → blob sha of the tree's files: every file, or at least those in the directories of `files` (when
    GitHub truncates the recursive listing, only the directories on the way to them are read)."""
    needed = {parent for path in files for parent in _parents(path)}
    return {e.path: e.sha for e in client.list_files(full_name, tree_sha, descend=needed.__contains__)}


def _parents(path: str) -> list[str]:
    """The directories above a path, outermost first: a/b/c.md → a, a/b."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def _effective_changes(shas: dict[str, str | None], current: dict[str, str]) -> tuple[dict, list[str]]:
    """(path → blob sha of each file that differs from the branch, paths to delete that the branch holds)."""
    writes = {p: sha for p, sha in shas.items() if sha is not None and current.get(p) != sha}
    deletes = sorted(p for p, sha in shas.items() if sha is None and p in current)
    return writes, deletes


def _build_tree(
    client, full_name: str, base_tree: str, files: Mapping, writes: dict, deletes: list[str], blob_cache
) -> str:
    """Create the new tree in chunks, each chunk based on the previous one's result."""
    # Entries are made as each chunk fills, so only one chunk's text is held at a time, not every file's.
    entries = itertools.chain(
        (({"path": p, "mode": "100644", "type": "blob", "sha": None}, 0) for p in deletes),
        (_entry(client, full_name, path, files[path], blob_cache) for path in sorted(writes)),
    )
    tree = base_tree
    for chunk in _chunks(entries):
        tree = _create_tree(client, full_name, chunk, tree)
    return tree


def _create_tree(client, full_name: str, chunk: list[dict], base_tree: str) -> str:
    """One tree request, or two halves chained when GitHub gives up on it as too large to process (its limit is
    undocumented and varies with its load)."""
    try:
        return client.create_tree(full_name, chunk, base_tree=base_tree)
    except InputTooLarge:
        if len(chunk) == 1:
            raise
        half = len(chunk) // 2
        first = _create_tree(client, full_name, chunk[:half], base_tree)
        return _create_tree(client, full_name, chunk[half:], first)


def _entry(client, full_name: str, path: str, content: bytes, blob_cache: dict[str, str]) -> tuple[dict, int]:
    """(the tree entry that writes `content` at `path`, the bytes its inline text adds to the tree request)."""
    inline = _inline_text(content)
    if inline is not None:
        text, size = inline
        return {"path": path, "mode": "100644", "type": "blob", "content": text}, size
    sha = git_blob_sha(content)
    if sha not in blob_cache:
        blob_cache[sha] = client.create_blob(full_name, content)
    return {"path": path, "mode": "100644", "type": "blob", "sha": blob_cache[sha]}, 0


def _inline_text(content: bytes) -> tuple[str, int] | None:
    """(the content as text, its size in the request body) to send it inline, or None when it goes as a blob:
    binary, or too large to send inline."""
    if len(content) > MAX_INLINE_BYTES:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    size = _json_size(text)
    return (text, size) if size <= MAX_INLINE_BYTES else None


def _json_size(text: str) -> int:
    # What the request body carries: JSON escapes quotes and control characters and, as `requests` sends it, all
    # non-ASCII text (a page in Chinese takes twice its UTF-8 size).
    return len(json.dumps(text))


def _chunks(entries):
    chunk, size = [], 0
    for entry, content_size in entries:
        entry_size = content_size + _json_size(entry["path"]) + 100
        if chunk and (len(chunk) >= MAX_TREE_REQUEST_ENTRIES or size + entry_size > MAX_TREE_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += entry_size
    if chunk:
        yield chunk
