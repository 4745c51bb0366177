"""Git objects and refs in bare repositories on disk, written the way git writes them.

Objects are written as loose objects from Python (zlib + SHA-1): one subprocess per object would make a
10,000-file commit take minutes. Reading falls back to one `git cat-file --batch` call for objects that are
not loose, because a push made with the git CLI (or a `git gc`) leaves them in packs. Refs follow git's
lock-file protocol, so an outside `git push` and the simulator never overwrite each other's update.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
SHA_RE = re.compile(r"[0-9a-f]{40}")
# What `git check-ref-format` rejects, enough to keep ref names from escaping the repository directory.
_BAD_REF = re.compile(r"(^|/)\.|\.\.|[\x00-\x20~^:?*\[\\]|@\{|//|\.lock(/|$)|/$|\.$")


class RefLocked(Exception):
    """Another writer (an outside `git push`) holds the ref's lock file."""


class RefMoved(Exception):
    """The ref no longer points where the caller expected."""


def init_repository(path: Path, *, default_branch: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        ["git", "init", "--bare", "--quiet", f"--initial-branch={default_branch}", str(path)],  # noqa: S607
        check=True,
        capture_output=True,
    )


def set_head(repo: Path, branch: str) -> None:
    (repo / "HEAD").write_text(f"ref: refs/heads/{branch}\n")


# Objects ---------------------------------------------------------------------------------------------------


def write_object(repo: Path, kind: str, data: bytes) -> str:
    raw = b"%s %d\x00%s" % (kind.encode(), len(data), data)
    sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    # Plain os calls instead of pathlib: this runs once per file of a 10,000-file commit.
    folder = f"{repo}/objects/{sha[:2]}"
    final = f"{folder}/{sha[2:]}"
    if os.path.exists(final):
        return sha
    # Write then rename, so a reader (or git) never sees half an object.
    tmp = os.path.join(folder, f"tmp_obj_{os.getpid()}_{threading.get_ident()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
    try:
        os.write(fd, zlib.compress(raw, 1))
    finally:
        os.close(fd)
    os.replace(tmp, final)
    return sha


def read_objects(repo: Path, shas: list[str]) -> dict[str, tuple[str, bytes]]:
    """Kind and content of each object found; missing objects are left out."""
    found: dict[str, tuple[str, bytes]] = {}
    packed = []
    for sha in dict.fromkeys(shas):
        if not SHA_RE.fullmatch(sha):
            continue
        try:
            raw = zlib.decompress((repo / "objects" / sha[:2] / sha[2:]).read_bytes())
        except FileNotFoundError:
            packed.append(sha)
            continue
        header, _, body = raw.partition(b"\x00")
        found[sha] = (header.split(b" ")[0].decode(), body)
    if packed:
        found.update(_cat_file_batch(repo, packed))
    return found


def read_object(repo: Path, sha: str) -> tuple[str, bytes] | None:
    return read_objects(repo, [sha]).get(sha)


def object_sizes(repo: Path, shas: list[str]) -> dict[str, int]:
    """Sizes of blobs for tree listings, decompressing only each loose object's header."""
    sizes: dict[str, int] = {}
    packed = []
    for sha in dict.fromkeys(shas):
        try:
            compressed = (repo / "objects" / sha[:2] / sha[2:]).read_bytes()
        except FileNotFoundError:
            packed.append(sha)
            continue
        header = zlib.decompressobj().decompress(compressed, 64).partition(b"\x00")[0]
        sizes[sha] = int(header.split(b" ")[1])
    if packed:
        sizes.update({sha: len(body) for sha, (_, body) in _cat_file_batch(repo, packed).items()})
    return sizes


def _cat_file_batch(repo: Path, shas: list[str]) -> dict[str, tuple[str, bytes]]:
    result = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), "cat-file", "--batch"],  # noqa: S607
        input=("\n".join(shas) + "\n").encode(),
        capture_output=True,
        check=True,
    )
    out, pos, found = result.stdout, 0, {}
    while pos < len(out):
        end = out.index(b"\n", pos)
        fields = out[pos:end].split()
        pos = end + 1
        if len(fields) != 3:  # "<sha> missing"
            continue
        size = int(fields[2])
        found[fields[0].decode()] = (fields[1].decode(), out[pos : pos + size])
        pos += size + 1
    return found


# Commits ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int
    offset: str = "+0000"

    def encode(self) -> bytes:
        return f"{self.name} <{self.email}> {self.timestamp} {self.offset}".encode()

    @classmethod
    def decode(cls, value: bytes) -> Signature:
        person, _, when = value.decode(errors="replace").rpartition(">")
        name, _, email = person.partition("<")
        timestamp, _, offset = when.strip().partition(" ")
        return cls(name.strip(), email, int(timestamp or 0), offset or "+0000")


@dataclass(frozen=True)
class CommitInfo:
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


def format_commit(commit: CommitInfo) -> bytes:
    lines = [b"tree " + commit.tree.encode()]
    lines += [b"parent " + parent.encode() for parent in commit.parents]
    lines += [b"author " + commit.author.encode(), b"committer " + commit.committer.encode()]
    return b"\n".join(lines) + b"\n\n" + commit.message.encode()


def parse_commit(data: bytes) -> CommitInfo:
    headers, _, message = data.partition(b"\n\n")
    tree, parents, people = "", [], {}
    for line in headers.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
        elif key in (b"author", b"committer"):
            people[key] = Signature.decode(value)
    return CommitInfo(tree, tuple(parents), people[b"author"], people[b"committer"], message.decode(errors="replace"))


def read_commit(repo: Path, sha: str) -> CommitInfo | None:
    obj = read_object(repo, sha)
    return parse_commit(obj[1]) if obj and obj[0] == "commit" else None


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is reachable from `descendant` (a fast-forward from one to the other)."""
    seen, frontier = set(), [descendant]
    while frontier:
        sha = frontier.pop()
        if sha == ancestor:
            return True
        if sha in seen:
            continue
        seen.add(sha)
        commit = read_commit(repo, sha)
        frontier.extend(commit.parents if commit else ())
    return False


def commits_between(repo: Path, before: str | None, after: str, *, limit: int = 20) -> list[tuple[str, CommitInfo]]:
    """Commits reachable from `after` but not `before` along first parents, oldest first (a push's commits)."""
    commits, sha = [], after
    while sha and sha != before and len(commits) < limit:
        commit = read_commit(repo, sha)
        if commit is None:
            break
        commits.append((sha, commit))
        sha = commit.parents[0] if commit.parents else ""
    return commits[::-1]


# Refs ------------------------------------------------------------------------------------------------------


def valid_ref_name(name: str) -> bool:
    return name.startswith("refs/") and name.count("/") >= 2 and not _BAD_REF.search(name)


def read_ref(repo: Path, name: str) -> str | None:
    path = repo / name
    if path.is_file():
        return path.read_text().strip() or None
    return _packed_refs(repo).get(name)


def list_refs(repo: Path, prefix: str = "refs/") -> dict[str, str]:
    refs = {name: sha for name, sha in _packed_refs(repo).items() if name.startswith(prefix)}
    for path in (repo / "refs").rglob("*"):
        name = path.relative_to(repo).as_posix()
        if path.is_file() and name.startswith(prefix) and not name.endswith(".lock"):
            refs[name] = path.read_text().strip()
    return dict(sorted(refs.items()))


def _packed_refs(repo: Path) -> dict[str, str]:
    path = repo / "packed-refs"
    if not path.exists():
        return {}
    refs = {}
    for line in path.read_text().splitlines():
        if line and line[0] not in "#^":
            sha, _, name = line.partition(" ")
            refs[name] = sha
    return refs


def update_ref(repo: Path, name: str, new: str, *, expected: str | bool | None = True) -> None:
    """Point `name` at `new`. With `expected` a sha (or None for "must not exist"), only if it still points there.

    Takes git's `<ref>.lock` file, so concurrent writers (git itself included) fail instead of losing an update.
    """
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise RefLocked(name) from None
    try:
        if expected is not True and read_ref(repo, name) != expected:
            raise RefMoved(name)
        os.write(fd, f"{new}\n".encode())
        os.close(fd)
        fd = -1
        os.replace(lock, path)
    finally:
        if fd >= 0:
            os.close(fd)
            lock.unlink(missing_ok=True)


def delete_ref(repo: Path, name: str) -> None:
    (repo / name).unlink(missing_ok=True)
    packed = repo / "packed-refs"
    if name in _packed_refs(repo):
        kept = [line for line in packed.read_text().splitlines() if not line.endswith(" " + name)]
        packed.write_text("\n".join(kept) + "\n")
