"""What a commit changes, page by page and attachment by attachment: its message and the run's counts. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from confluence.sync.index import Index, PageEntry
from confluence.sync.plan import Placed, Plan
from github_sync.commit import git_blob_sha


def changed_paths(files: Mapping[str, bytes | None], known_blobs: Mapping[str, str]) -> set[str]:
    """The paths whose content the commit really changes: a re-rendered page whose bytes are what the branch
    holds already is not a change, whatever its new version number says."""
    changed = set()
    for path in files:
        content = files[path]
        if (None if content is None else git_blob_sha(content)) != known_blobs.get(path):
            changed.add(path)
    return changed


@dataclass
class Changes:
    """What a commit changes, page by page and attachment by attachment: the commit message and the run's counts."""

    added: list[Placed] = field(default_factory=list)
    updated: list[Placed] = field(default_factory=list)
    moved: list[Placed] = field(default_factory=list)
    removed: list[tuple[str, PageEntry]] = field(default_factory=list)
    unchanged: int = 0
    attachments: dict[str, list[str]] = field(default_factory=dict)  # "added" / "updated" / "removed" → paths

    @classmethod
    def of(
        cls, plan: Plan, *, placed: Mapping[str, Placed], index: Index, new_index: Index, changed: set[str]
    ) -> Changes:
        changes = cls()
        for verb, ids in (("added", plan.adds), ("updated", plan.updates), ("moved", plan.moves)):
            for pid in ids:
                old = index.pages.get(pid)
                if placed[pid].path in changed or (old is not None and old.path in changed):
                    # A page whose file someone deleted (no blob: Index.as_found) is added back.
                    getattr(changes, "added" if old is not None and not old.blob else verb).append(placed[pid])
        changes.removed = [(pid, index.pages[pid]) for pid in plan.removes if index.pages[pid].path in changed]
        listed = len(changes.added) + len(changes.updated) + len(changes.moved)
        changes.unchanged = len(placed) - listed
        before = {a.path for entry in index.pages.values() for a in entry.attachments.values()}
        after = {a.path for entry in new_index.pages.values() for a in entry.attachments.values()}
        for verb, paths in (("added", after - before), ("updated", after & before), ("removed", before - after)):
            if found := sorted(paths & changed):
                changes.attachments[verb] = found
        return changes

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "moved": len(self.moved),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
        }


def commit_message(changes: Changes) -> str:
    """A title that counts what changed, then one line per page and attachment the commit changes."""
    pages = [
        (verb, items)
        for verb, items in (
            ("updated", changes.updated),
            ("added", changes.added),
            ("moved", changes.moved),
            ("removed", changes.removed),
        )
        if items
    ]
    parts = [f"{len(items)} {verb}" for verb, items in pages]
    parts += [
        f"{len(paths)} {'attachment' if len(paths) == 1 else 'attachments'} {verb}"
        for verb, paths in changes.attachments.items()
    ]
    spaces = sorted(
        {page.space_key for page in changes.added + changes.updated + changes.moved}
        | {entry.space_key for _, entry in changes.removed}
    )
    title = f"Sync Confluence: {', '.join(parts) or 'scope and index'}" + (f" in {', '.join(spaces)}" if spaces else "")
    lines = [
        f"- {verb}: {page.title} (page {page.id}, version {page.version})"
        for verb, items in (("updated", changes.updated), ("added", changes.added), ("moved", changes.moved))
        for page in items
    ]
    lines += [f"- removed: {entry.title} (page {pid})" for pid, entry in changes.removed]
    lines += [f"- attachment {verb}: {path}" for verb, paths in changes.attachments.items() for path in paths]
    return title + ("\n\n" + "\n".join(lines) if lines else "")
