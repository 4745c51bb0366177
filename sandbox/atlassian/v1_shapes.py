"""Confluence REST v1 objects (content, space, attachment), with `expand` and `_expandable` as the real API.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content/
"""

from __future__ import annotations

from sandbox.atlassian import restriction_api
from sandbox.atlassian.models import Attachment, Page, Space, iso
from sandbox.atlassian.v2_shapes import MEDIA_TYPE_DESCRIPTIONS, download_path, page_links

EXPANDABLE = (
    "childTypes",
    "container",
    "metadata",
    "operations",
    "schedulePublishDate",
    "children",
    "restrictions",
    "history",
    "ancestors",
    "body",
    "version",
    "descendants",
    "space",
)

BODY_FORMATS = (
    "editor",
    "atlas_doc_format",
    "view",
    "export_view",
    "styled_view",
    "dynamic",
    "storage",
    "editor2",
    "anonymous_export_view",
)


def parse_expand(raw: str | None) -> set[str]:
    """`body.storage,version` → {"body", "body.storage", "version"}: each prefix counts as expanded."""
    expanded = set()
    for item in (raw or "").split(","):
        parts = item.strip().split(".")
        expanded.update(".".join(parts[: n + 1]) for n in range(len(parts)) if parts[0])
    return expanded


def user(sim, account_id: str) -> dict:
    known = sim.users.get(account_id)
    name = known.name if known else account_id
    site = next(iter(sim.sites.values()), None)
    return {
        "type": "known",
        "accountId": account_id,
        "accountType": "atlassian",
        "email": known.email if known else "",
        "publicName": name,
        "profilePicture": {"path": f"/wiki/aa-avatar/{account_id}", "width": 48, "height": 48, "isDefault": False},
        "displayName": name,
        "isExternalCollaborator": False,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{site.wiki_url if site else ''}/rest/api/user?accountId={account_id}"},
    }


def space(sim, space: Space) -> dict:
    wiki = sim.sites[space.cloud_id].wiki_url
    return {
        "id": int(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "_expandable": {
            "settings": f"/rest/api/space/{space.key}/settings",
            "metadata": "",
            "operations": "",
            "lookAndFeel": f"/rest/api/settings/lookandfeel?spaceKey={space.key}",
            "identifiers": "",
            "permissions": "",
            "icon": "",
            "description": "",
            "theme": f"/rest/api/space/{space.key}/theme",
            "history": "",
            "homepage": f"/rest/api/content/{space.homepage_id}" if space.homepage_id else "",
        },
        "_links": {"webui": f"/spaces/{space.key}", "self": f"{wiki}/rest/api/space/{space.key}"},
    }


def version(sim, page: Page) -> dict:
    wiki = sim.sites[page.cloud_id].wiki_url
    v = page.version
    return {
        "by": user(sim, v.author_id),
        "when": iso(v.created_at),
        "friendlyWhen": iso(v.created_at),
        "message": v.message,
        "number": v.number,
        "minorEdit": v.minor_edit,
        "contentTypeModified": False,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{page.id}"},
        "_links": {"self": f"{wiki}/rest/api/content/{page.id}/version/{v.number}"},
    }


def labels(sim, page: Page) -> dict:
    results = [{"prefix": "global", "name": n, "id": sim.label_ids[n], "label": n} for n in page.labels]
    return {"results": results, "start": 0, "limit": 200, "size": len(results), "_links": {}}


def history(sim, page: Page) -> dict:
    return {"latest": True, "createdBy": user(sim, page.author_id), "createdDate": iso(page.created_at)}


def content(sim, page: Page, expand: set[str]) -> dict:
    space_obj = sim.spaces[page.space_id]
    wiki = sim.sites[page.cloud_id].wiki_url
    data = {"id": page.id, "type": page.type, "status": page.status, "title": page.title}
    expandable = _expandable(page, space_obj)
    expanders = {
        "space": lambda: space(sim, space_obj),
        "history": lambda: history(sim, page),
        "version": lambda: version(sim, page),
        # Nested expansions apply to each ancestor (`ancestors.restrictions.read.restrictions.user`).
        "ancestors": lambda: [content(sim, a, _below(expand, "ancestors")) for a in sim.ancestors(page)],
        "body": lambda: _body(page, expand),
        "metadata": lambda: {"labels": labels(sim, page)} if "metadata.labels" in expand else {},
        "restrictions": lambda: restriction_api.content_restrictions(sim, page, expand),
    }
    for name, build in expanders.items():
        if name in expand:
            data[name] = build()
            expandable.pop(name, None)
    links = page_links(page, space_obj)
    data.update(
        macroRenderedOutput={},
        extensions={"position": page.position},
        _expandable=expandable,
        _links={
            "self": f"{wiki}/rest/api/content/{page.id}",
            "tinyui": links["tinyui"],
            "editui": links["editui"],
            "webui": links["webui"],
        },
    )
    return data


def _expandable(page: Page, space_obj: Space) -> dict:
    paths = {
        "container": f"/rest/api/space/{space_obj.key}",
        "space": f"/rest/api/space/{space_obj.key}",
        "children": f"/rest/api/content/{page.id}/child",
        "descendants": f"/rest/api/content/{page.id}/descendant",
        "history": f"/rest/api/content/{page.id}/history",
        "restrictions": f"/rest/api/content/{page.id}/restriction/byOperation",
    }
    return {name: paths.get(name, "") for name in EXPANDABLE}


def _below(expand: set[str], prefix: str) -> set[str]:
    return {e[len(prefix) + 1 :] for e in expand if e.startswith(prefix + ".")}


def _body(page: Page, expand: set[str]) -> dict:
    body: dict = {"_expandable": dict.fromkeys(BODY_FORMATS, "")}
    if "body.storage" in expand:
        body["storage"] = {
            "value": page.body,
            "representation": "storage",
            "embeddedContent": [],
            "_expandable": {"content": f"/rest/api/content/{page.id}"},
        }
        del body["_expandable"]["storage"]
    return body


def attachment(sim, attachment: Attachment, expand: set[str]) -> dict:
    page = sim.pages[attachment.page_id]
    space_obj = sim.spaces[page.space_id]
    wiki = sim.sites[page.cloud_id].wiki_url
    latest = attachment.latest
    data = {
        "id": attachment.id,
        "type": "attachment",
        "status": attachment.status,
        "title": attachment.title,
        "macroRenderedOutput": {},
        "metadata": {"mediaType": latest.media_type},
        "extensions": {
            "mediaType": latest.media_type,
            "fileSize": latest.file_size,
            "comment": latest.message,
            "mediaTypeDescription": MEDIA_TYPE_DESCRIPTIONS.get(latest.media_type, "File"),
            "fileId": latest.file_id,
            "collectionName": f"contentId-{page.id}",
        },
    }
    if "version" in expand:
        data["version"] = {
            "by": user(sim, latest.author_id),
            "when": iso(latest.created_at),
            "message": latest.message,
            "number": latest.number,
            "minorEdit": False,
        }
    data["_expandable"] = {"container": f"/rest/api/content/{page.id}", "space": f"/rest/api/space/{space_obj.key}"}
    if "container" in expand:
        data["container"] = content(sim, page, set())
        del data["_expandable"]["container"]
    data["_links"] = {
        "webui": f"/spaces/{space_obj.key}/pages/{page.id}?preview=/{page.id}/{attachment.id[3:]}/{attachment.title}",
        "self": f"{wiki}/rest/api/content/{attachment.id}",
        "download": download_path(page, attachment, latest),
    }
    return data
