"""Forge event bodies: the event types we act on, and the fields we read from a body, read tolerantly.

An event body is not signed (its token is), and a malformed one must still be stored and answered: every reader
here returns an empty value rather than raising on a field of the wrong shape.

Reference: https://developer.atlassian.com/platform/forge/events-reference/confluence/
and https://developer.atlassian.com/platform/forge/events-reference/life-cycle/
"""

from __future__ import annotations

PAGE_VERBS = (
    "created",
    "updated",
    "moved",
    "copied",
    "trashed",
    "restored",
    "deleted",
    "archived",
    "unarchived",
    "permissions_updated",
)
# Live docs are pages (v2 `subType: "live"`) whose edits send these instead of `updated:page`.
LIVE_DOC_VERBS = ("initialized", "started", "snapshotted", "published")
PAGE_EVENTS = (
    frozenset(f"avi:confluence:{verb}:{kind}" for verb in PAGE_VERBS for kind in ("page", "blogpost"))
    | {f"avi:confluence:{verb}:page" for verb in LIVE_DOC_VERBS}
    | {
        # A folder moved or restricted moves or restricts the pages below it (which get no event of their own): a
        # targeted run of the folder re-reads what the index holds below it. (A rename sends no event.)
        f"avi:confluence:{verb}:folder"
        for verb in ("moved", "permissions_updated")
    }
)
# A page we do not hold that leaves Confluence changes nothing in any repository: no run, no API call.
REMOVALS = frozenset(
    f"avi:confluence:{verb}:{kind}" for verb in ("trashed", "deleted", "archived") for kind in ("page", "blogpost")
)
# Edits always make a new version; moves and restores need not, so only edits can be recognised as synced already.
EDITS = frozenset({"avi:confluence:updated:page", "avi:confluence:updated:blogpost"})
ATTACHMENT_VERBS = ("created", "updated", "trashed", "restored", "deleted", "archived", "unarchived")
ATTACHMENT_EVENTS = frozenset(f"avi:confluence:{verb}:attachment" for verb in ATTACHMENT_VERBS)
# An attachment leaving a page we do not hold changes nothing in any repository.
ATTACHMENT_REMOVALS = frozenset(f"avi:confluence:{verb}:attachment" for verb in ("trashed", "deleted", "archived"))
# Whiteboards, databases and embeds (smart links): their page lists them after its body (confluence.sync.elsewhere).
# Confluence documents created, moved, copied and permissions_updated for whiteboards and databases, and created,
# moved and copied for embeds; no trashed or deleted events for any of them.
BOARD_EVENTS = frozenset(
    f"avi:confluence:{verb}:{kind}"
    for verb in ("created", "moved", "copied", "permissions_updated")
    for kind in ("whiteboard", "database", "embed")
    if (verb, kind) != ("permissions_updated", "embed")
)
LABEL_EVENTS = frozenset({"avi:confluence:added:label", "avi:confluence:removed:label"})
SPACE_UPDATED = "avi:confluence:updated:space:V2"
SPACE_PERMISSIONS = "avi:confluence:permissions_updated:space:V2"
SPACE_DELETED = "avi:confluence:deleted:space:V2"
INSTALLED = "avi:forge:installed:app"
UNINSTALLED = "avi:forge:uninstalled:app"


def unwrap(body: dict) -> dict:
    """The event itself: at the top level (what Forge Remote sends today) or under `payload` (the contract doc)."""
    if "eventType" not in body and isinstance(body.get("payload"), dict):
        return body["payload"]
    return body


def subject(event: dict) -> dict:
    """What the event is about: the page or blog post (`content`, also the labelled content of a label event) or
    the attachment; {} for space and lifecycle events, or a malformed payload."""
    for key in ("content", "attachment"):
        if isinstance(event.get(key), dict):
            return event[key]
    return {}


def describe(event: dict) -> dict:
    """The columns of a WebhookEvent row, read from a page, blog, attachment, label, space or lifecycle event."""
    content = subject(event)
    space = content.get("space") or event.get("space") or {}
    space = space if isinstance(space, dict) else {}
    return {
        "event_type": str(event.get("eventType") or "")[:100],
        "content_id": str(content.get("id") or "")[:64],
        "content_type": str(content.get("type") or "")[:30],
        "space_key": str(space.get("key") or "")[:255],
    }


def content_version(event: dict) -> dict:
    """The version object of what the event is about, or {} when the payload has none (or a malformed one)."""
    content = subject(event)
    return content.get("version") if isinstance(content.get("version"), dict) else {}


def label_name(event: dict) -> str:
    label = event.get("label") if isinstance(event.get("label"), dict) else {}
    return str(label.get("name") or "")


def space_of(event: dict) -> dict:
    """The space of a space event, or {} when the body has none (or a malformed one)."""
    space = event.get("space")
    return space if isinstance(space, dict) else {}


def previous_space_key(event: dict) -> str:
    """The key of the space a moved page or post was in (`prevContent.space.key`), or "" when the body has none (or a
    malformed one)."""
    before = event.get("prevContent")
    space = before.get("space") if isinstance(before, dict) else None
    key = space.get("key") if isinstance(space, dict) else None
    return key if isinstance(key, str) else ""
