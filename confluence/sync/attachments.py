"""The files the rendered pages show: listed and downloaded from Confluence, recorded in the new index; and which
synced pages show files whose listing changed since they were rendered (`attachments_changed`).

Each owner page's attachment listing (one request) gives every file its path, unique ignoring case among the page's
attachments (confluence.sync.layout); a file is downloaded only when the repository does not hold its version yet.
Attachments larger than MAX_ATTACHMENT_BYTES stay in Confluence (linked), so a repository never carries huge binaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from confluence.client import ConfluenceClient, cql_quote
from confluence.content import Attachment
from confluence.models import SyncRun
from confluence.sync.index import AttachmentEntry, Index, listing_digest
from confluence.sync.layout import attachment_path, attachment_paths
from confluence.sync.plan import Placed
from confluence.sync.render_files import Rendered
from github_sync.commit import git_blob_sha

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass
class Attached:
    downloaded: int = 0
    # (owner page id, file name) → path, for the files whose path is not the one their name alone gives (an older
    # attachment of the page takes that name), or "" for those the repository does not hold (missing, too large):
    # the pages showing them are rendered again with these paths.
    listed_paths: dict[tuple[str, str], str] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)


def attach(client: ConfluenceClient, rendered: Rendered, *, placed: Mapping[str, Placed], index: Index) -> Attached:
    """Record the attachments each rendered page shows in the new index, and add those the repository does not hold
    in their current version to the files to write."""
    fetcher = Fetcher(client, rendered, placed=placed, index=index)
    for pid, refs in rendered.references.items():
        entries = {}
        for owner, name in sorted(refs):
            entry = fetcher.entry(placed[pid], owner=placed[owner], name=name)
            if entry is not None:
                entries[f"{owner}/{name}"] = entry
        seen = {owner: fetcher.digests[owner] for owner, _ in refs}
        rendered.index.pages[pid] = replace(rendered.index.pages[pid], attachments=entries, listings=seen)
    return fetcher.attached


class Fetcher:
    """One run's attachment listings (each owner page listed once) and downloads."""

    def __init__(self, client: ConfluenceClient, rendered: Rendered, *, placed: Mapping[str, Placed], index: Index):
        self.client, self.files = client, rendered.files
        self.held = {a.path: a for entry in index.pages.values() for a in entry.attachments.values()}
        self.listings: dict[str, dict[str, tuple[Attachment, str]]] = {}
        self.digests: dict[str, str] = {}
        self.attached = Attached()

    def listing(self, owner: Placed) -> dict[str, tuple[Attachment, str]]:
        """File name → (attachment, its path) for the owner page's attachments."""
        if owner.id not in self.listings:
            listing = self.client.attachments(owner.id, blogpost=owner.is_post)
            paths = attachment_paths({a.id: a.title for a in listing}, space_key=owner.space_key, page_id=owner.id)
            self.listings[owner.id] = {a.title: (a, paths[a.id]) for a in listing}
            self.digests[owner.id] = listing_digest(listing)
        return self.listings[owner.id]

    def entry(self, page: Placed, *, owner: Placed, name: str) -> AttachmentEntry | None:
        """The index entry of a file the page shows, downloaded when the repository lacks this version of it; None
        for a dangling or oversized reference (the page links to Confluence's copy)."""
        found, path = self.listing(owner).get(name, (None, ""))
        if found is not None and found.file_size > MAX_ATTACHMENT_BYTES:
            self.attached.warnings.append(attachment_too_large(page, found))
        if found is None or found.file_size > MAX_ATTACHMENT_BYTES:
            self.attached.listed_paths[(owner.id, name)] = ""
            return None
        if path != attachment_path(space_key=owner.space_key, page_id=owner.id, filename=name):
            self.attached.listed_paths[(owner.id, name)] = path
        current = self.held.get(path)
        if current is not None and (current.id, current.version) == (found.id, found.version):
            return current
        if path not in self.files:
            data = self.client.download_attachment(found)
            self.files[path] = data
            self.attached.downloaded += 1
            self.held[path] = AttachmentEntry(
                found.id, found.version, path, git_blob_sha(data), found.media_type, len(data)
            )
        return self.held[path]


def attachment_too_large(page: Placed, attachment: Attachment) -> dict:
    """The warning for an attachment the page shows that stays in Confluence."""
    return {
        "kind": SyncRun.WarningKind.ATTACHMENT_TOO_LARGE.value,
        "page_id": page.id,
        "title": page.title,
        "space_key": page.space_key,
        "filename": attachment.title,
        "size": attachment.file_size,
        "limit": MAX_ATTACHMENT_BYTES,
    }


def attachments_changed(client: ConfluenceClient, index: Index, *, space_keys: list[str]) -> set[str]:
    """The synced pages that show files of a page whose attachments changed since they were rendered (added,
    replaced, renamed, removed: none of it makes a page version, and its Forge event may be lost). One bulk listing
    of the scope's attachments, and none at all when no synced page shows an attachment."""
    showing = {pid: entry.listings for pid, entry in index.pages.items() if entry.listings}
    if not showing or not space_keys:
        return set()
    spaces = ", ".join(cql_quote(key) for key in sorted(space_keys))
    current = client.attachments_by_page(f"type = attachment AND space in ({spaces})")
    digests = {owner: listing_digest(current.get(owner, [])) for listings in showing.values() for owner in listings}
    return {pid for pid, listings in showing.items() if any(digests[o] != d for o, d in listings.items())}
