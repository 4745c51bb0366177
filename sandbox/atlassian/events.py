"""Forge event payloads, shaped like the real ones.

Reference: https://developer.atlassian.com/platform/forge/events-reference/confluence/
Events carry no parentId and no body: receivers must re-fetch through REST. Label events carry the label and one of
`content`, `space` or `template` (the simulator labels pages only); attachment events carry the attachment and its
`container` page.
"""

from __future__ import annotations

from sandbox.atlassian.models import Attachment, Page, Space, iso

ICON = {"path": "/images/logo/default-space-logo-256.png", "width": 48, "height": 48, "isDefault": True}


def user(account_id: str) -> dict:
    """Event users have their PII fields filled with the account id, as Forge does."""
    return {
        "type": "known",
        "accountId": account_id,
        "accountType": "atlassian",
        "email": account_id,
        "publicName": account_id,
        "displayName": account_id,
        "isExternalCollaborator": False,
    }


def space(space: Space) -> dict:
    return {
        "id": int(space.id),
        "key": space.key,
        "alias": space.key,
        "name": space.name,
        "icon": ICON,
        "type": space.type,
        "status": space.status,
    }


def content(sim, page: Page) -> dict:
    return {
        "id": page.id,
        "type": page.type,
        "status": page.status,
        "title": page.title,
        "space": space(sim.spaces[page.space_id]),
        "history": {
            "latest": True,
            "createdBy": user(page.author_id),
            "ownedBy": user(page.author_id),
            "createdDate": iso(page.created_at),
        },
        "version": {
            "by": user(page.version.author_id),
            "when": iso(page.version.created_at),
            "number": page.version.number,
            "minorEdit": page.version.minor_edit,
        },
    }


def envelope(sim) -> dict:
    return {
        "atlassianId": sim.default_user().account_id,
        # Each event has its own moment, as in Confluence: moves, status and label changes make no new version, so
        # two such changes of one page differ by this date alone (receivers dedupe redeliveries by it).
        "eventCreatedDate": iso(sim.clock.tick()),
        "suppressNotifications": False,
    }


def page_event(sim, content_payload: dict, **extra) -> dict:
    return {**envelope(sim), "content": content_payload, **extra}


def space_event(sim, space_obj: Space) -> dict:
    payload = space(space_obj)
    payload["history"] = {"createdBy": user(space_obj.author_id), "createdDate": iso(space_obj.created_at)}
    return {**envelope(sim), "space": payload}


def attachment_event(sim, attachment: Attachment, *, status: str | None = None) -> dict:
    """`status` overrides the attachment's (a purged attachment is reported "deleted", as pages are)."""
    page = sim.pages[attachment.page_id]
    latest = attachment.latest
    return {
        **envelope(sim),
        "attachment": {
            "id": attachment.id,
            "type": "attachment",
            "status": status or attachment.status,
            "title": attachment.title,
            "container": {
                "id": page.id,
                "type": "page",
                "status": page.status,
                "title": page.title,
                "space": space(sim.spaces[page.space_id]),
            },
            "space": space(sim.spaces[page.space_id]),
            "version": {"by": user(latest.author_id), "when": iso(latest.created_at), "number": latest.number},
            "extensions": {
                "mediaType": latest.media_type,
                "fileSize": latest.file_size,
                "fileId": latest.file_id,
                "downloadPath": f"/download/attachments/{page.id}/{attachment.title}?version={latest.number}",
            },
        },
    }


def label(sim, name: str) -> dict:
    return {"id": sim.label_ids[name], "name": name, "prefix": "global"}


def label_event(sim, page: Page, name: str) -> dict:
    """A label added to or removed from a page: the label, and the page with the labels it carries now."""
    labelled = {**content(sim, page), "labels": [label(sim, n) for n in page.labels]}
    base = envelope(sim)
    del base["suppressNotifications"]  # the reference's label payload has none
    return {**base, "label": label(sim, name), "content": labelled}


def lifecycle_event(sim, installation, app_id: str) -> dict:
    return {
        "id": installation.id,
        "installerAccountId": installation.installer_account_id,
        "app": {"id": app_id, "version": "1"},
        "environment": {"id": installation.environment_id},
        "context": f"ari:cloud:confluence::site/{installation.cloud_id}",
    }
