"""What Confluence answers, as typed values: sites, spaces, pages, attachments, people and page facts, each read
from its JSON the way the API shapes it."""

from __future__ import annotations

from dataclasses import dataclass

from confluence.convert.links import FORMER_USER
from connectors.storable import storable


@dataclass(frozen=True)
class Site:
    cloud_id: str
    name: str
    url: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Space:
    id: str
    key: str
    name: str
    type: str
    status: str
    homepage_id: str | None

    @classmethod
    def from_json(cls, d: dict) -> Space:
        return cls(
            id=str(d["id"]),
            key=d["key"],
            name=d.get("name", d["key"]),
            type=d.get("type", "global"),
            status=d.get("status", "current"),
            homepage_id=str(d["homepageId"]) if d.get("homepageId") else None,
        )


PARENTS = ("page", "folder")


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    space_id: str
    status: str
    parent_id: str | None
    version: int
    modified_at: str
    created_at: str = ""
    author_id: str = ""
    version_author_id: str = ""
    version_message: str = ""
    position: int | None = None
    webui: str = ""
    body: str | None = None  # storage XHTML, when asked for

    @classmethod
    def from_json(cls, d: dict) -> Page:
        version = d.get("version") or {}
        body = ((d.get("body") or {}).get("storage") or {}).get("value")
        return cls(
            id=str(d["id"]),
            title=text(d.get("title", "")),
            space_id=str(d.get("spaceId", "")),
            status=d.get("status", "current"),
            # A folder holds pages in the tree as a page does (whiteboards, databases and embeds hold none we sync).
            parent_id=str(d["parentId"]) if d.get("parentId") and d.get("parentType", "page") in PARENTS else None,
            version=int(version.get("number", 0)),
            modified_at=version.get("createdAt", ""),
            created_at=d.get("createdAt", ""),
            author_id=d.get("authorId", ""),
            version_author_id=version.get("authorId", ""),
            version_message=version.get("message", ""),
            position=d.get("position"),
            webui=(d.get("_links") or {}).get("webui", ""),
            body=body,
        )


@dataclass(frozen=True)
class Attachment:
    id: str
    page_id: str
    title: str
    media_type: str
    file_size: int
    version: int
    status: str = "current"

    @classmethod
    def from_json(cls, d: dict, page_id: str) -> Attachment:
        version = d.get("version") or {}
        return cls(
            id=str(d["id"]),
            page_id=str(d.get("pageId") or page_id),
            title=d.get("title", ""),
            media_type=d.get("mediaType", "application/octet-stream"),
            file_size=int(d.get("fileSize") or 0),
            version=int(version.get("number", 1)),
            status=d.get("status") or "current",
        )

    @classmethod
    def from_v1(cls, d: dict) -> Attachment:
        """A v1 content object of type attachment, with `version` and `container` expanded."""
        extensions = d.get("extensions") or {}
        return cls(
            id=str(d["id"]),
            page_id=str((d.get("container") or {}).get("id", "")),
            title=d.get("title", ""),
            media_type=extensions.get("mediaType", "application/octet-stream"),
            file_size=int(extensions.get("fileSize") or 0),
            version=int((d.get("version") or {}).get("number", 1)),
            status=d.get("status") or "current",
        )


@dataclass(frozen=True)
class Person:
    """What the bulk user lookup says of an account: its display name, `accountStatus` (active, inactive, closed,
    unknown) and `accountType` (atlassian, app, customer, unknown)."""

    account_id: str
    display_name: str = ""
    account_status: str = "unknown"
    account_type: str = "unknown"

    @classmethod
    def from_json(cls, d: dict) -> Person:
        return cls(
            account_id=str(d["accountId"]),
            display_name=text(str(d.get("displayName") or d.get("publicName") or "")),
            account_status=str(d.get("accountStatus") or "unknown"),
            account_type=str(d.get("accountType") or "unknown"),
        )

    @property
    def shown_name(self) -> str | None:
        """The name a mention shows: deactivated people say so, closed ones are former users; None when the lookup
        knows no name (the converter then writes "@unknown user")."""
        if self.account_status == "closed":
            return FORMER_USER
        if not self.display_name:
            return None
        if self.account_status == "inactive":
            return f"{self.display_name} (deactivated)"
        return self.display_name


@dataclass(frozen=True)
class PageFacts:
    labels: list[str]
    restricted: bool  # a read (view) restriction on the page or on any of its ancestors
    # What a search result says of itself, for content that is no page (whiteboards, databases, embeds): its type,
    # title, web path, and its parent when that is a page (the last of its ancestors), else None.
    kind: str = "page"
    title: str = ""
    webui: str = ""
    parent_id: str | None = None

    @classmethod
    def from_v1(cls, item: dict) -> PageFacts:
        """A v1 CQL search result with `metadata.labels`, `restrictions.read…` and `ancestors.…` expanded."""
        labels = ((item.get("metadata") or {}).get("labels") or {}).get("results", [])
        ancestors = [a for a in item.get("ancestors") or [] if isinstance(a, dict)]
        parent = ancestors[-1] if ancestors else {}
        return cls(
            labels=sorted(text(label["name"]) for label in labels),
            restricted=any(read_restricted(d) for d in [item, *ancestors]),
            kind=str(item.get("type") or "page"),
            title=text(str(item.get("title") or "")),
            webui=str((item.get("_links") or {}).get("webui") or ""),
            parent_id=str(parent["id"]) if parent.get("id") and parent.get("type", "page") == "page" else None,
        )


def read_restricted(content: dict) -> bool:
    """Whether v1 content (with `restrictions.read.restrictions.user,group` expanded) names anyone who may read it."""
    read = ((content.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
    return any((read.get(kind) or {}).get("results") for kind in ("user", "group"))


def text(value: str) -> str:
    """A title or label as we store it: no NUL or lone surrogate, which PostgreSQL cannot keep (U+FFFD instead)."""
    return storable(value)
