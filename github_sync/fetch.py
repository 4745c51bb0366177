"""Which files of a commit ingestion reads, and their texts, fetched as cheaply as GitHub allows.

Texts already stored under the same blob sha are reused (renames, copies); the repository archive is read when it
costs less than a request per file (`archive.is_cheaper`: a first ingestion, a large change); anything else, and
anything the archive did not deliver intact, is fetched blob by blob. `result` is the run's `IngestResult`: these
functions count what they skip and fetch on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from github_sync import archive, file_types
from github_sync.client import TreeEntry
from github_sync.errors import GitHubError, GitHubUnavailable
from github_sync.models import Document, Repository

logger = logging.getLogger(__name__)


def select(entries: list[TreeEntry], result) -> dict[str, TreeEntry]:
    wanted = {}
    for entry in entries:
        if entry.mode == "120000":  # a symbolic link: its target is ingested where it lives
            result.skipped["symlink"] += 1
            continue
        reason = file_types.skip_reason(entry.path, entry.size)
        if reason:
            result.skipped[reason] += 1
        else:
            wanted[entry.path] = entry
    return wanted


def stored_texts(repository: Repository, shas: set[str]) -> dict[str, str]:
    """Texts we already hold under these blob shas (a renamed or copied file), so they need no fetch."""
    found: dict[str, str] = {}
    shas = list(shas)
    for start in range(0, len(shas), 500):
        rows = Document.objects.filter(repository=repository, blob_sha__in=shas[start : start + 500])
        found.update(rows.values_list("blob_sha", "text"))
    return found


def contents(client, full_name: str, commit_sha: str, todo: list[TreeEntry], *, tree, reusable, result) -> Iterator:
    """(entry, text or None when it is not text) for every file of `todo`, in no particular order: stored texts
    first, then what the archive delivers when it is cheaper, then blob by blob."""
    pending = {}
    for entry in todo:
        if entry.sha in reusable:
            yield entry, reusable[entry.sha]
        else:
            pending[entry.path] = entry
    if archive.is_cheaper(list(pending.values()), tree):
        yield from _from_archive(client, full_name, commit_sha, pending, tree=tree, result=result)
    for entry in pending.values():
        yield entry, text_of(client.get_blob(full_name, entry.sha), result)


def _from_archive(client, full_name: str, commit_sha: str, pending: dict, *, tree, result) -> Iterator:
    """What the archive delivers intact, taken out of `pending`; a broken or refused archive leaves the rest there."""
    limit = archive.size_limit(tree)
    try:
        with client.open_tarball(full_name, commit_sha) as stream:
            for entry, data in archive.read_files(
                stream, dict(pending), max_bytes=limit, max_file_bytes=file_types.MAX_FILE_BYTES
            ):
                del pending[entry.path]
                yield entry, text_of(data, result)
    except GitHubUnavailable:
        raise  # rate limited or cut off: the run waits and resumes from what it wrote
    except (GitHubError, archive.ArchiveUnreadable) as error:
        logger.warning("%s@%s: archive not used for %d files: %s", full_name, commit_sha[:12], len(pending), error)


def text_of(data: bytes, result) -> str | None:
    result.blobs_fetched += 1
    result.bytes_fetched += len(data)
    if len(data) > file_types.MAX_FILE_BYTES:
        result.skipped["too_large"] += 1
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        result.skipped["binary"] += 1
        return None
    return text
