"""What each GitHub webhook event does to our rows. Handlers are idempotent and never call GitHub.

Each returns (delivery status, what happened in words). Installations are claimed by an organization through the
setup callback (`installations.record_installation`); events about an installation nobody claimed are ignored,
because we would not know whose it is. Connections affected by an installation's trouble are the GitHub
connections that use one of its repositories; other kinds listen to `signals.installation_changed`.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from connectors.models import Connection
from github_sync.app_auth import forget_installation_token
from github_sync.installations import fulfil_request
from github_sync.models import Installation, Repository, WebhookDelivery
from github_sync.signals import installation_changed, repository_changed

PROCESSED, IGNORED = WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED
# Actions that would make our row less strict: only GitHub's API is believed for those (see _refresh).
LOOSENING = frozenset({"privatized", "unarchived"})
REFRESH_TASK = "github_sync.installations.refresh_repository"
ZERO_SHA = "0" * 40
SHA = re.compile(r"[0-9a-f]{40}")


# Reading payloads tolerantly: a field of the wrong type reads as absent, so a malformed delivery is recorded
# as ignored (and answered 200) instead of failing in a handler.


def obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def items(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def flag(value, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def github_id(value) -> int | None:
    """A GitHub id (a positive integer, or its digits) that fits a bigint column; None for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def handle_installation(payload: dict) -> tuple[str, str]:
    """`installation`: created, deleted, suspend, unsuspend, new_permissions_accepted.

    Example payload (trimmed): {"action": "suspend", "installation": {"id": 2, "account": {"login": "acme"},
    "repository_selection": "selected", "suspended_at": "…"}, "repositories": [{"id": 1, "full_name": …}]}
    """
    action, data = text(payload.get("action"), 60), obj(payload.get("installation"))
    installation = Installation.objects.filter(installation_id=github_id(data.get("id"))).first()
    if installation is None and action == "created" and github_id(data.get("id")):
        # An owner approved a member's request: its `requester` says whose (installations.fulfil_request).
        installation = fulfil_request(
            installation_id=github_id(data.get("id")),
            account=obj(data.get("account")),
            requester=obj(payload.get("requester")),
        )
    if installation is None:
        return IGNORED, f"Installation {github_id(data.get('id'))} is not claimed by any organization."
    account = obj(data.get("account"))
    installation.account_login = text(account.get("login"), 100) or installation.account_login
    installation.account_type = text(account.get("type"), 20) or installation.account_type
    installation.repository_selection = text(data.get("repository_selection"), 20) or installation.repository_selection
    login = installation.account_login
    if action == "deleted":
        installation.status = Installation.Status.REMOVED
        _disconnect(installation, f"The ctx| GitHub App was uninstalled from {login}. Install it again to resume.")
    elif action == "suspend":
        installation.status = Installation.Status.SUSPENDED
        _disconnect(installation, f"The ctx| GitHub App is suspended on {login}. Unsuspend it on GitHub to resume.")
    elif action in ("created", "unsuspend", "new_permissions_accepted") and not data.get("suspended_at"):
        installation.status = Installation.Status.ACTIVE
        _upsert_repositories(installation, payload.get("repositories"))
        _reconnect(installation, installation.repositories.filter(accessible=True), catch_up=action == "unsuspend")
    installation.save()
    installation_changed.send(sender=Installation, installation=installation, action=action)
    return PROCESSED, f"Installation on {login}: {action}; status {installation.status}."


def handle_installation_repositories(payload: dict) -> tuple[str, str]:
    """`installation_repositories`: repositories added to or removed from the App's selection."""
    data = obj(payload.get("installation"))
    installation = Installation.objects.filter(installation_id=github_id(data.get("id"))).first()
    if installation is None:
        return IGNORED, f"Installation {github_id(data.get('id'))} is not claimed by any organization."
    selection = text(payload.get("repository_selection"), 20)
    installation.repository_selection = selection or installation.repository_selection
    installation.save(update_fields=["repository_selection", "updated_at"])
    added = _upsert_repositories(installation, payload.get("repositories_added"))
    removed_ids = [i for i in (github_id(r.get("id")) for r in items(payload.get("repositories_removed"))) if i]
    removed = Repository.objects.filter(installation=installation, github_id__in=removed_ids)
    for repository in removed:
        detail = f"{repository.full_name} was removed from the ctx| GitHub App's repositories on GitHub."
        Repository.objects.filter(id=repository.id).update(accessible=False, status_detail=detail)
        for connection in _github_connections(Repository.objects.filter(id=repository.id)):
            connection.set_status(Connection.Status.ATTENTION, detail)
    _reconnect(installation, Repository.objects.filter(id__in=[r.id for r in added]), catch_up=True)
    for action, changed in (("repositories_added", added), ("repositories_removed", removed_ids)):
        if changed:
            installation_changed.send(sender=Installation, installation=installation, action=action)
    return PROCESSED, f"{len(added)} repositories added, {len(removed_ids)} removed on {installation.account_login}."


def handle_push(payload: dict) -> tuple[str, str]:
    """`push` to the default branch of a repository some connection uses → ingest the pushed commit."""
    from github_sync.tasks import enqueue_ingest  # tasks imports ingest, which is heavier than event handling

    data, after, ref = obj(payload.get("repository")), text(payload.get("after"), 40) or ZERO_SHA, payload.get("ref")
    repository = _claimed_repository(payload)
    if repository is None:
        return IGNORED, f"{text(data.get('full_name'), 200)} is not a repository of a claimed installation."
    _refresh(repository, data)
    if after == ZERO_SHA:
        return IGNORED, f"{text(ref, 300)} was deleted."
    if not SHA.fullmatch(after):
        return IGNORED, "The push names no commit."
    if ref != f"refs/heads/{repository.default_branch}":
        return IGNORED, f"Push to {text(ref, 300)}, not the default branch {repository.default_branch}."
    if not repository.sources.exists():
        return IGNORED, f"No connection ingests {repository.full_name}."
    if not repository.accessible or not repository.installation.is_active:
        return IGNORED, f"{repository.full_name} is not reachable by an active installation."
    run = enqueue_ingest(repository, after, trigger="push")
    return PROCESSED, f"Ingest run {run.id} queued for {repository.full_name} at {after[:12]}."


def handle_repository(payload: dict) -> tuple[str, str]:
    """`repository`: renamed, transferred, edited (default branch), publicized, privatized, archived, unarchived,
    deleted. The row follows what the payload says the repository is now, stricter only (see _refresh); receivers
    of `repository_changed` decide what that means for their connections (a repository made public takes no
    Confluence pages unconfirmed)."""
    action, data = text(payload.get("action"), 60), obj(payload.get("repository"))
    repository = _claimed_repository(payload)
    if repository is None:
        return IGNORED, f"{text(data.get('full_name'), 200)} is not a repository of a claimed installation."
    _refresh(repository, data)
    if action in LOOSENING:
        transaction.on_commit(lambda: async_task(REFRESH_TASK, repository.pk, task_name=f"repository-{repository.pk}"))
    if action == "deleted":
        repository.accessible, repository.status_detail = False, f"{repository.full_name} was deleted on GitHub."
        repository.save(update_fields=["accessible", "status_detail", "updated_at"])
        for connection in _github_connections([repository]):
            connection.set_status(Connection.Status.ATTENTION, repository.status_detail)
    repository_changed.send(sender=Repository, repository=repository, action=action)
    return PROCESSED, f"{repository.full_name}: {action or 'changed'}."


def _claimed_repository(payload: dict) -> Repository | None:
    """The repository row the delivery is about, under the installation that sent it (None: nobody claimed it)."""
    return (
        Repository.objects.select_related("installation")
        .filter(
            installation__installation_id=github_id(obj(payload.get("installation")).get("id")),
            github_id=github_id(obj(payload.get("repository")).get("id")),
        )
        .first()
    )


# Helpers ---------------------------------------------------------------------------------------------------


def _upsert_repositories(installation: Installation, summaries) -> list[Repository]:
    """Create or refresh repository rows from webhook summaries (`id`, `full_name`, `private`); skip malformed ones."""
    repositories = []
    for item in items(summaries):
        repo_id, full_name = github_id(item.get("id")), text(item.get("full_name"), 200)
        if repo_id is None or not full_name:
            continue
        fields = {
            "full_name": full_name,
            "html_url": f"{settings.GITHUB_WEB_URL}/{full_name}"[:500],
            "accessible": True,
            "status_detail": "",
        }
        private = flag(item.get("private"), True)
        created = {**fields, "private": private}
        repository, _ = Repository.objects.update_or_create(
            installation=installation, github_id=repo_id, defaults=fields, create_defaults=created
        )
        if repository.private and not private:  # a known row: payloads only make it stricter (see _refresh)
            repository.private = False
            repository.save(update_fields=["private", "updated_at"])
        repositories.append(repository)
    return repositories


def _refresh(repository: Repository, data: dict) -> None:
    """A push or a `repository` event carries the repository as it is now: keep our row in step (renames, a new
    default branch, visibility, archiving)."""
    fields = {
        "full_name": text(data.get("full_name"), 200) or repository.full_name,
        "default_branch": text(data.get("default_branch"), 255) or repository.default_branch,
        "html_url": text(data.get("html_url"), 500) or repository.html_url,
        # Payloads only ever make the row stricter: an old delivery can be sent again (staff "process again",
        # GitHub's redelivery, a replayed body under a new delivery id), so a repository seen public stays public
        # for us until GitHub's API says otherwise (installations.refresh_repository).
        "private": repository.private and flag(data.get("private"), True),
        "archived": repository.archived or flag(data.get("archived"), False),
    }
    if any(getattr(repository, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(repository, name, value)
        repository.save(update_fields=[*fields, "updated_at"])


def _github_connections(repositories) -> list[Connection]:
    return list(Connection.objects.filter(kind=Connection.Kind.GITHUB, sources__repository__in=repositories).distinct())


def _disconnect(installation: Installation, detail: str) -> None:
    forget_installation_token(installation.installation_id)
    installation.repositories.update(status_detail=detail[:300])
    for connection in _github_connections(installation.repositories.all()):
        connection.set_status(Connection.Status.ATTENTION, detail)


def _reconnect(installation: Installation, repositories, *, catch_up: bool) -> None:
    """Clear our own trouble notes once the installation reaches the repositories again; catch up on pushes."""
    from github_sync.tasks import enqueue_ingest

    repositories = list(repositories)
    Repository.objects.filter(id__in=[r.id for r in repositories]).update(status_detail="")
    for connection in _github_connections(repositories):
        lost = connection.sources.filter(repository__accessible=False).exists()
        if connection.status == Connection.Status.ATTENTION and not lost:
            connection.status = Connection.Status.SETUP  # let the setup tasks decide: active, or still setting up
            connection.refresh_status()
    for repository in repositories if catch_up else []:
        if repository.sources.exists():
            # GitHub sends no push while an installation is suspended or a repository is deselected.
            enqueue_ingest(repository, None, trigger="reconnected")
