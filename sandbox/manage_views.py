"""Pages to change the simulated Confluence by hand during `make run`, and to trigger the Forge events it sends.

Every change that Confluence reports to Forge (page edits, moves and states, labels, attachments, restrictions,
spaces and their permissions) has a "Send the Forge event" box, ticked by default: untick it to make a change that no
event announces. Accounts can be closed, deactivated or changed, which the personal data reporting API or the user
lookup then reports.

Every view works on the shared live world (`world_for_request`); the pages that only show it change nothing, so
it is not saved after them. Forge events are signed inside the lock but posted after it is released: the site
verifies them by fetching the JWKS from this same server.
"""

from __future__ import annotations

import contextlib
import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from sandbox.atlassian.forge import post_event
from sandbox.atlassian.users import deactivate_account
from sandbox.store import world_for_request

MAX_TREE_ROWS = 2000


@contextlib.contextmanager
def changing_world():
    """The live world for a change; the Forge events it causes go out once the world is saved and unlocked."""
    with world_for_request() as world:
        world.atlassian.defer_deliveries = True
        try:
            yield world
        finally:
            world.atlassian.defer_deliveries = False
            deliveries = world.atlassian.take_outbox()
    answers = [(json.loads(body)["eventType"], post_event(url, body, headers)) for url, body, headers in deliveries]
    if answers:
        with world_for_request() as world:
            for event_type, status in answers:
                world.atlassian.record_delivery(event_type, status)


@contextlib.contextmanager
def shown_atlassian():
    """The live simulated Atlassian for a page that only shows it: the world is not saved after it."""
    with world_for_request(only_marked_changes=True) as world:
        yield world.atlassian


def _one(items: dict, key: str, what: str):
    """`items[key]` of the live world, or a 404 for a page or form that names one it does not have."""
    found = items.get(key)
    if found is None:
        raise Http404(f"No such {what}")
    return found


def _emit(request: HttpRequest) -> bool:
    return request.POST.get("emit") == "1"


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    with shown_atlassian() as atlassian:
        sites = [
            {
                "site": site,
                "spaces": atlassian.site_spaces(site.cloud_id),
                "installation": atlassian.installations.get(site.cloud_id),
            }
            for site in atlassian.sites.values()
        ]
        grants = [g for g in atlassian.grants.values() if not g.revoked]
        groups = [
            {"group": g, "members": [_name(atlassian, m) for m in g.member_ids]} for g in atlassian.groups.values()
        ]
        context = {
            "sites": sites,
            "users": list(atlassian.users.values()),
            "groups": groups,
            "grants": grants,
            "deliveries": list(reversed(atlassian.deliveries[-20:])),
        }
    return render(request, "sandbox/manage_index.html", context)


@require_POST
def create_site(request: HttpRequest) -> HttpResponse:
    with changing_world() as world:
        site = world.atlassian.create_site(name=request.POST.get("name") or "Sandbox site")
    messages.success(request, f"Created site {site.name}.")
    return redirect("sandbox-manage")


def _create_space(atlassian, cloud_id: str, request: HttpRequest) -> None:
    # Upper-cased as the form always did (keys read as ENG, OPS); the simulator refuses what Confluence refuses.
    key = request.POST.get("key", "").strip().upper()
    try:
        atlassian.create_space(cloud_id, key=key, name=request.POST.get("name") or key, emit=_emit(request))
    except ValueError as error:
        raise ValueError(f"Could not create the space {key!r}: {error}") from None


SITE_ACTIONS = {
    "create_space": _create_space,
    "delete_space": lambda sim, cloud_id, request: sim.delete_space(cloud_id, request.POST["key"], emit=_emit(request)),
    "install": lambda sim, cloud_id, request: sim.install_forge_app(cloud_id),
    "uninstall": lambda sim, cloud_id, request: sim.uninstall_forge_app(cloud_id),
}


@require_POST
def site_action(request: HttpRequest, cloud_id: str) -> HttpResponse:
    if _apply_form_action(request, SITE_ACTIONS, kind="sites", key=cloud_id):
        messages.success(request, f"Done: {request.POST['action'].replace('_', ' ')}.")
    return redirect("sandbox-manage")


def _apply_form_action(request: HttpRequest, actions: dict, *, kind: str, key: str) -> bool:
    """Apply the form's action to `key` among the live world's `kind` (sites, users), a 404 if there is none there.
    False, with the error shown, when the form names no action of `actions` or the simulator refuses it."""
    action = request.POST.get("action", "")
    with changing_world() as world:
        _one(getattr(world.atlassian, kind), key, kind)
        try:
            if action not in actions:
                raise ValueError(f"unknown action {action!r}")
            actions[action](world.atlassian, key, request)
        except (KeyError, ValueError) as error:
            messages.error(request, str(error))
            return False
    return True


@require_POST
def revoke_grant(request: HttpRequest) -> HttpResponse:
    with changing_world() as world:
        world.atlassian.revoke_grant(request.POST.get("account_id", ""))
    messages.success(request, "Revoked: the user's refresh tokens now answer invalid_grant.")
    return redirect("sandbox-manage")


def _name(atlassian, account_id: str) -> str:
    user = atlassian.users.get(account_id)
    return user.name if user else account_id


ACCOUNT_ACTIONS = {
    "close": lambda sim, account_id, request: sim.close_account(account_id),
    "deactivate": lambda sim, account_id, request: deactivate_account(sim, account_id),
    "update": lambda sim, account_id, request: sim.update_account(
        account_id, name=request.POST.get("name", "").strip() or None
    ),
}


@require_POST
def account_action(request: HttpRequest, account_id: str) -> HttpResponse:
    """Close, deactivate or update an account: what the personal data reporting API and the user lookup then say."""
    if _apply_form_action(request, ACCOUNT_ACTIONS, kind="users", key=account_id):
        messages.success(request, f"Done: {request.POST['action']} account.")
    return redirect("sandbox-manage")


@require_POST
def create_group(request: HttpRequest) -> HttpResponse:
    with changing_world() as world:
        try:
            world.atlassian.create_group(request.POST.get("name", "").strip(), members=request.POST.getlist("member"))
        except ValueError as error:
            messages.error(request, str(error))
            return redirect("sandbox-manage")
    messages.success(request, "Created the group.")
    return redirect("sandbox-manage")


@require_POST
def space_access(request: HttpRequest, space_id: str) -> HttpResponse:
    """Take an account out of a space's permissions, or give its access back."""
    action = request.POST.get("action", "")
    with changing_world() as world:
        atlassian = world.atlassian
        space = _one(atlassian.spaces, space_id, "space")
        change = {"revoke": atlassian.revoke_space_access, "grant": atlassian.grant_space_access}.get(action)
        account_id = request.POST.get("account_id", "")
        if change is None or account_id not in atlassian.users:
            messages.error(request, "Choose an account and an action.")
            return redirect("sandbox-manage-space", space_id=space_id)
        change(space.cloud_id, space.key, account_id, emit=_emit(request))
    messages.success(request, f"Done: {action} space access.")
    return redirect("sandbox-manage-space", space_id=space_id)


@require_GET
def space_detail(request: HttpRequest, space_id: str) -> HttpResponse:
    with shown_atlassian() as atlassian:
        space = _one(atlassian.spaces, space_id, "space")
        pages = [atlassian.pages[str(i)] for i in atlassian.space_page_ids[space.id]]
        roots = sorted((p for p in pages if p.parent_id is None and p.status != "trashed"), key=lambda p: p.position)
        rows = _tree_rows(atlassian, roots)
        context = {
            "site": atlassian.sites[space.cloud_id],
            "space": space,
            "rows": rows[:MAX_TREE_ROWS],
            "truncated": len(rows) > MAX_TREE_ROWS,
            "trash": [p for p in pages if p.status == "trashed"],
            "users": list(atlassian.users.values()),
            "denied": [_name(atlassian, a) for a in space.denied_account_ids],
        }
    return render(request, "sandbox/manage_space.html", context)


def _tree_rows(atlassian, roots) -> list[dict]:
    rows, stack = [], [(0, page) for page in reversed(roots)]
    while stack:
        depth, page = stack.pop()
        lock = "own" if atlassian.read_restricted(page) else "inherited" if atlassian.restricted_by(page) else ""
        rows.append({"depth": depth, "indent": "\u2003" * depth, "page": page, "lock": lock})
        children = [atlassian.pages[c] for c in page.child_ids if atlassian.pages[c].status != "trashed"]
        stack.extend((depth + 1, child) for child in reversed(children))
    return rows


@require_POST
def create_page(request: HttpRequest, space_id: str) -> HttpResponse:
    with changing_world() as world:
        space = _one(world.atlassian.spaces, space_id, "space")
        try:
            page = world.atlassian.create_page(
                space.cloud_id,
                space_key=space.key,
                title=request.POST["title"],
                body=request.POST.get("body", ""),
                parent_id=request.POST.get("parent_id") or None,
                emit=_emit(request),
            )
        except (KeyError, ValueError) as error:
            messages.error(request, f"Could not create the page: {error}")
            return redirect("sandbox-manage-space", space_id=space_id)
    messages.success(request, f"Created page {page.title}.")
    return redirect("sandbox-manage-page", page_id=page.id)


@require_GET
def page_detail(request: HttpRequest, page_id: str) -> HttpResponse:
    with shown_atlassian() as atlassian:
        page = _one(atlassian.pages, page_id, "page (purged?)")
        context = {
            "page": page,
            "space": atlassian.spaces[page.space_id],
            "site": atlassian.sites[page.cloud_id],
            "spaces": atlassian.site_spaces(page.cloud_id),
            "ancestors": atlassian.ancestors(page),
            "attachments": [atlassian.attachments[a] for a in page.attachment_ids],
            "restrictions": _restrictions_of(atlassian, page),
            "inherited_from": [p for p in atlassian.restricted_by(page) if p.id != page.id],
            "users": list(atlassian.users.values()),
            "groups": list(atlassian.groups.values()),
        }
    return render(request, "sandbox/manage_page.html", context)


def _restrictions_of(atlassian, page) -> list[dict]:
    """The page's own restrictions, by operation, with people and groups by name."""
    found = []
    for operation, subjects in page.restrictions.items():
        groups = [atlassian.groups[g].name if g in atlassian.groups else g for g in subjects.get("group", ())]
        users = [_name(atlassian, a) for a in subjects.get("user", ())]
        found.append({"operation": operation, "users": users, "groups": groups})
    return found


def _restrict(atlassian, page, request: HttpRequest) -> None:
    atlassian.restrict_page(
        page.id,
        operation=request.POST.get("operation") or "read",
        users=request.POST.getlist("user"),
        groups=request.POST.getlist("group"),
        emit=_emit(request),
    )


def _edit(atlassian, page, request: HttpRequest) -> None:
    atlassian.update_page(
        page.id,
        title=request.POST.get("title") or page.title,
        body=request.POST.get("body"),
        message=request.POST.get("message", ""),
        minor_edit=request.POST.get("minor_edit") == "1",
        emit=_emit(request),
    )


def _move(atlassian, page, request: HttpRequest) -> None:
    position = request.POST.get("position")
    atlassian.move_page(
        page.id,
        parent_id=request.POST.get("parent_id") or None,
        space_key=request.POST.get("space_key") or None,
        position=int(position) if position else None,
        emit=_emit(request),
    )


def _attach(atlassian, page, request: HttpRequest) -> None:
    upload = request.FILES["file"]
    atlassian.add_attachment(
        page.id,
        filename=upload.name,
        data=upload.read(),
        media_type=upload.content_type or "application/octet-stream",
        emit=_emit(request),
    )


def _attachment_of(page, request: HttpRequest) -> str:
    """The id of one of this page's attachments, named by the form (KeyError, shown as an error, otherwise)."""
    attachment_id = request.POST.get("attachment_id", "")
    if attachment_id not in page.attachment_ids:
        raise KeyError(f"the page has no attachment {attachment_id}")
    return attachment_id


def _label(request: HttpRequest) -> str:
    return request.POST.get("label", "").strip()


PAGE_ACTIONS = {
    "edit": _edit,
    "move": _move,
    "attach": _attach,
    "trash": lambda sim, page, request: sim.trash_page(page.id, emit=_emit(request)),
    "restore": lambda sim, page, request: sim.restore_page(page.id, emit=_emit(request)),
    "archive": lambda sim, page, request: sim.archive_page(page.id, emit=_emit(request)),
    "unarchive": lambda sim, page, request: sim.unarchive_page(page.id, emit=_emit(request)),
    "purge": lambda sim, page, request: sim.purge_page(page.id, emit=_emit(request)),
    "restrict": _restrict,
    "unrestrict": lambda sim, page, request: sim.unrestrict_page(
        page.id, operation=request.POST.get("operation") or None, emit=_emit(request)
    ),
    "add_label": lambda sim, page, request: sim.add_label(page.id, _label(request), emit=_emit(request)),
    "remove_label": lambda sim, page, request: sim.remove_label(page.id, _label(request), emit=_emit(request)),
    "trash_attachment": lambda sim, page, request: sim.trash_attachment(
        _attachment_of(page, request), emit=_emit(request)
    ),
    "restore_attachment": lambda sim, page, request: sim.restore_attachment(
        _attachment_of(page, request), emit=_emit(request)
    ),
    "purge_attachment": lambda sim, page, request: sim.purge_attachment(
        _attachment_of(page, request), emit=_emit(request)
    ),
}


@require_POST
def page_action(request: HttpRequest, page_id: str) -> HttpResponse:
    action = request.POST.get("action", "")
    if action not in PAGE_ACTIONS:
        messages.error(request, f"Unknown action {action!r}.")
        return redirect("sandbox-manage-page", page_id=page_id)
    with changing_world() as world:
        atlassian = world.atlassian
        page = _one(atlassian.pages, page_id, "page")
        space = atlassian.spaces[page.space_id]
        try:
            PAGE_ACTIONS[action](atlassian, page, request)
        except (KeyError, ValueError) as error:
            messages.error(request, f"Could not {action.replace('_', ' ')}: {error}")
            return redirect("sandbox-manage-page", page_id=page_id)
    messages.success(request, f"Done: {action.replace('_', ' ')}.")
    if action == "purge":
        return redirect("sandbox-manage-space", space_id=space.id)
    return redirect("sandbox-manage-page", page_id=page_id)
