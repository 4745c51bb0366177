"""File contents from GitHub's repository archive, read as hostile input.

A first ingestion, or one with many changed files, takes contents from the tar GitHub makes of the commit
(`InstallationClient.open_tarball`: two requests) instead of one blob request per file, when `is_cheaper` says so.
The archive is only a carrier: nothing is extracted to disk, and a member is accepted only when it is a regular
file, its name is `<top folder>/<a path the tree listing asked for>` written plainly (no `..`, `.`, empty or
absolute components), its size is the listed size and at most the per-file limit, and its bytes hash to the listed
blob sha. Anything else in the archive (other paths, links, devices, directories, tampered content) is passed over,
and the files it did not deliver are fetched one by one as before.

Bounds, whatever the archive holds: it may not be larger, compressed or not, than a tar of the listed tree can be
(`size_limit`); a member's data is read into memory only when it is at most the per-file limit; and the headers
between two members may not exceed HEADER_BYTES (tarfile reads a pax or GNU long-name header whole). So memory
stays at one file plus a buffer, and a gzip bomb stops at the size limit.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Iterator, Mapping

from github_sync.client import TreeEntry
from github_sync.commit import git_blob_sha

# Fetching a file costs one request (GET /git/blobs/{sha}); the archive costs two (the API's redirect, then the
# download) however many files it carries, but it carries every file of the tree, wanted or not. A request costs
# about what a megabyte costs to download (a round trip to the API takes 0.1-0.3 s, a megabyte at 50 Mbit/s
# 0.16 s), and only requests count against the installation's hourly rate limit. So the archive is used when the
# requests it saves outnumber the megabytes it brings that are not needed.
ARCHIVE_REQUESTS = 2
BYTES_PER_REQUEST = 1_000_000

BLOCK = 512  # tar's block: every header and every member's data is padded to it
HEADER_BYTES = 1 << 20  # headers of one member (git archive writes a pax header for a long path) plus read-ahead
# The archive's own header and end, record padding, and the directories of submodules (not in a file listing).
ARCHIVE_OVERHEAD = 1 << 20


class ArchiveUnreadable(Exception):
    """The archive is not a gzip'd tar, is cut short, or is larger than the tree it claims to hold."""


def is_cheaper(pending: list[TreeEntry], tree: list[TreeEntry]) -> bool:
    """Whether fetching `pending` through the archive of `tree` (every file of the commit) costs less than one
    request per file."""
    unneeded = sum(e.size or 0 for e in tree) - sum(e.size or 0 for e in pending)
    return len(pending) - ARCHIVE_REQUESTS > unneeded / BYTES_PER_REQUEST


def size_limit(tree: list[TreeEntry]) -> int:
    """The most a tar of these files can take: each file's data and header, a pax header for its name, the same
    for every directory (git archive's layout, which is GitHub's), and the archive's own overhead."""
    directories = {path.rsplit("/", n)[0] for path in (e.path for e in tree) for n in range(1, path.count("/") + 1)}
    names = [e.path for e in tree] + sorted(directories)
    data = sum(_blocks(e.size or 0) for e in tree)
    return ARCHIVE_OVERHEAD + data + sum(2 * BLOCK + _blocks(len(name.encode()) + 100) for name in names)


def read_files(
    stream, wanted: Mapping[str, TreeEntry], *, max_bytes: int, max_file_bytes: int
) -> Iterator[tuple[TreeEntry, bytes]]:
    """(entry, content) for each file of `wanted` (path → entry) the gzip'd tar `stream` delivers intact.

    Raises ArchiveUnreadable when the archive breaks a bound or is not a readable tar.gz; what was yielded before
    is still good (each content matched its blob sha).
    """
    compressed = _Capped(stream, limit=max_bytes + max_bytes // 1000 + BLOCK)  # deflate adds < 0.01 %
    tar_stream = _Capped(gzip.GzipFile(fileobj=compressed, mode="rb"), limit=max_bytes)
    try:
        tar_stream.allow(HEADER_BYTES)
        with tarfile.open(fileobj=tar_stream, mode="r|", encoding="utf-8", errors="surrogateescape") as tar:
            for member in _members(tar, tar_stream):
                entry = _entry_for(member, wanted, max_file_bytes)
                if entry is None:
                    continue
                tar_stream.allow(member.size + HEADER_BYTES)
                data = tar.extractfile(member).read()
                if len(data) == member.size and git_blob_sha(data) == entry.sha:
                    yield entry, data
    except (OSError, EOFError, zlib.error, tarfile.TarError) as error:
        raise ArchiveUnreadable(f"The repository archive is not a readable tar.gz: {error}") from error


def repository_path(name: str) -> str | None:
    """The path inside the repository of an archive member named `<top folder>/<path>`, or None for a name that
    is not plainly that: absolute, with empty, `.` or `..` components, a backslash or a NUL."""
    parts = name.split("/")
    if len(parts) < 2 or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        return None
    return "/".join(parts[1:])


def _entry_for(member: tarfile.TarInfo, wanted: Mapping[str, TreeEntry], max_file_bytes: int) -> TreeEntry | None:
    # Only regular files carry content we take: never a link, a device, a FIFO or a sparse file.
    if not member.isreg() or member.issparse():
        return None
    path = repository_path(member.name)
    entry = wanted.get(path) if path is not None else None
    if entry is None or member.size > max_file_bytes or (entry.size is not None and entry.size != member.size):
        return None
    return entry


def _members(tar: tarfile.TarFile, stream: _Capped) -> Iterator[tarfile.TarInfo]:
    while (member := tar.next()) is not None:
        # tarfile keeps every member it has read; an archive of 100,000 files would be held whole.
        tar.members.clear()
        yield member
        # Pass over whatever data the caller did not read (in tarfile's small reads), then give the next headers
        # a window of their own, so a hostile pax header cannot be read into memory past HEADER_BYTES.
        stream.allow(max(0, tar.offset - tar.fileobj.tell()) + HEADER_BYTES)
        tar.fileobj.seek(tar.offset)
        stream.allow(HEADER_BYTES)


def _blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


class _Capped:
    """A stream (`read(n)`) that refuses to read past `limit` bytes in all, or past the window `allow` opens."""

    def __init__(self, source, *, limit: int):
        self.source = source
        self.limit = limit
        self.count = 0
        self.window_end = limit

    def allow(self, size: int) -> None:
        self.window_end = min(self.limit, self.count + size)

    def read(self, size: int = -1) -> bytes:
        room = self.window_end - self.count
        if room <= 0:
            raise ArchiveUnreadable(f"The repository archive goes past its bound ({self.limit:,} bytes in all)")
        data = self.source.read(room if size is None or size < 0 else min(size, room))
        self.count += len(data)
        return data
