"""Confluence Cloud REST v2 objects, field for field as the real API returns them.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page/ (PageBulk, PageSingle),
api-group-blog-post (BlogPostBulk, BlogPostSingle), api-group-space (SpaceBulk), api-group-attachment (AttachmentBulk).
"""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

from sandbox.atlassian.models import Attachment, AttachmentVersion, Page, Space, iso

MEDIA_TYPE_DESCRIPTIONS = {
    "image/png": "PNG Image",
    "image/jpeg": "JPEG Image",
    "image/gif": "GIF Image",
    "image/svg+xml": "SVG Image",
    "application/pdf": "PDF Document",
    "text/plain": "Text File",
    "text/csv": "CSV File",
    "application/zip": "Zip Archive",
    "application/json": "JSON File",
}


def tiny_id(content_id: str) -> str:
    """The /x/ short link: base64url of the id's little-endian bytes, as Confluence builds it (2719745 → AYAp)."""
    number = int(content_id)
    raw = number.to_bytes(max(1, (number.bit_length() + 7) // 8), "little")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TREE_ONLY = frozenset({"whiteboard", "database", "embed", "folder"})


def page_links(page: Page, space: Space) -> dict:
    if page.type == "blogpost":
        # Cloud's blog post URLs carry the posting day: /spaces/KEY/blog/2026/01/02/98321/Title
        day = iso(page.created_at)[:10].replace("-", "/")
        webui = f"/spaces/{space.key}/blog/{day}/{page.id}/{quote_plus(page.title)}"
    elif page.type in TREE_ONLY:
        # Whiteboards, databases, embeds and folders: /spaces/KEY/whiteboard/ID and the like.
        webui = f"/spaces/{space.key}/{page.type}/{page.id}"
    elif page.id == space.homepage_id:
        webui = f"/spaces/{space.key}/overview"
    else:
        webui = f"/spaces/{space.key}/pages/{page.id}/{quote_plus(page.title)}"
    kind = "blog" if page.type == "blogpost" else "pages"
    return {
        "editui": f"/pages/resumedraft.action?draftId={page.id}",
        "webui": webui,
        "edituiv2": f"/spaces/{space.key}/{kind}/edit-v2/{page.id}",
        "tinyui": f"/x/{tiny_id(page.id)}",
    }


def version(page: Page) -> dict:
    v = page.version
    return {
        "number": v.number,
        "message": v.message,
        "minorEdit": v.minor_edit,
        "authorId": v.author_id,
        "createdAt": iso(v.created_at),
    }


def content_head(item: Page) -> dict:
    """The fields a page, a blog post and a child page open with, in the real API's order."""
    return {"id": item.id, "status": item.status, "title": item.title, "spaceId": item.space_id}


def storage_body(item: Page, body_format: str | None) -> dict:
    """`body`: the storage format when `body-format=storage` asks for it, else empty as the real API leaves it."""
    return {"storage": {"representation": "storage", "value": item.body}} if body_format == "storage" else {}


def page(sim, page: Page, *, body_format: str | None = None) -> dict:
    space = sim.spaces[page.space_id]
    return {
        **content_head(page),
        "parentId": page.parent_id,
        "parentType": sim.pages[page.parent_id].type if page.parent_id else None,
        "position": page.position,
        "authorId": page.author_id,
        "ownerId": page.author_id,
        "lastOwnerId": None,
        "createdAt": iso(page.created_at),
        "version": version(page),
        "body": storage_body(page, body_format),
        "_links": page_links(page, space),
    }


def blogpost(sim, post: Page, *, body_format: str | None = None) -> dict:
    """BlogPostBulk / BlogPostSingle: a page's fields without parent and position."""
    return {
        **content_head(post),
        "authorId": post.author_id,
        "createdAt": iso(post.created_at),
        "version": version(post),
        "body": storage_body(post, body_format),
        "_links": page_links(post, sim.spaces[post.space_id]),
    }


def child_page(page: Page) -> dict:
    return {**content_head(page), "childPosition": page.position}


def space(space: Space, *, description_format: str | None = None) -> dict:
    description = None
    if description_format in ("plain", "view"):
        description = {description_format: {"value": space.description, "representation": description_format}}
    return {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": space.author_id,
        "createdAt": iso(space.created_at),
        "homepageId": space.homepage_id,
        "description": description,
        "icon": None,
        "currentActiveAlias": space.key,
        "_links": {"webui": f"/spaces/{space.key}"},
    }


def label(sim, name: str) -> dict:
    return {"id": sim.label_ids[name], "name": name, "prefix": "global"}


def download_path(page: Page, attachment: Attachment, v: AttachmentVersion) -> str:
    """The deprecated servlet link the real API still lists (it answers 401 to tokens; use the v1 download)."""
    return (
        f"/download/attachments/{page.id}/{quote(attachment.title)}?version={v.number}"
        f"&modificationDate={v.created_at}&cacheVersion=1&api=v2"
    )


def attachment(sim, attachment: Attachment) -> dict:
    page = sim.pages[attachment.page_id]
    latest = attachment.latest
    preview = quote(f"/{page.id}/{attachment.id[3:]}/{attachment.title}", safe="")
    webui = f"/pages/viewpageattachments.action?pageId={page.id}&preview={preview}"
    download = download_path(page, attachment, latest)
    return {
        "id": attachment.id,
        "status": attachment.status,
        "title": attachment.title,
        "createdAt": iso(latest.created_at),
        # The container's id under its kind's name (pageId, blogPostId), as the real API names it.
        ("blogPostId" if page.type == "blogpost" else "pageId"): page.id,
        "mediaType": latest.media_type,
        "mediaTypeDescription": MEDIA_TYPE_DESCRIPTIONS.get(latest.media_type, "File"),
        "comment": latest.message,
        "fileId": latest.file_id,
        "fileSize": latest.file_size,
        "webuiLink": webui,
        "downloadLink": download,
        "version": {
            "number": latest.number,
            "message": latest.message,
            "minorEdit": False,
            "authorId": latest.author_id,
            "createdAt": iso(latest.created_at),
        },
        "_links": {"download": download, "webui": webui},
    }
