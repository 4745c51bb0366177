"""The GitHub App installation flow: a signed state out, a verified installation back.

GitHub redirects to the setup URL with `installation_id`, `setup_action` and our `state`. Anyone can call that
URL with a made-up installation_id, so the claim is checked with the user's own token (`GET /user/installations`
must list it) before the installation is recorded for the organization.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict, fields
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import RestrictedError
from django.utils import timezone
from django_q.tasks import async_task

from connectors.models import Connection
from github_sync.app_auth import InstallationInfo, user_installations
from github_sync.client import InstallationClient, RepoInfo
from github_sync.errors import GitHubError
from github_sync.models import Installation, InstallationRequest, Repository
from github_sync.signals import repository_changed

STATE_SALT = "github-app-install"
STATE_MAX_AGE = 3600


class InstallationClaimError(Exception):
    """The installation cannot be recorded for this organization; the message says why, for the user."""


def install_url(*, user, connection: Connection) -> str:
    state = signing.dumps({"u": user.pk, "c": connection.pk}, salt=STATE_SALT)
    return f"{settings.GITHUB_WEB_URL}/apps/{settings.GITHUB_APP_SLUG}/installations/new?{urlencode({'state': state})}"


def read_state(state: str, *, user) -> Connection:
    """The connection the flow was started for; raises signing.BadSignature when forged, expired or someone else's."""
    data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    if data.get("u") != user.pk:
        raise signing.BadSignature("The installation link was started by another user.")
    return Connection.objects.select_related("org").get(pk=data["c"])


def verify_claim(*, user_token: str, installation_id: int) -> InstallationInfo:
    for info in user_installations(user_token):
        if info.installation_id == installation_id:
            return info
    raise InstallationClaimError("GitHub does not list that installation for your GitHub account.")


def record_installation(*, connection: Connection, info: InstallationInfo, user) -> Installation:
    """Claim the installation for the connection's organization and record the repositories it reaches."""
    with transaction.atomic():
        existing = Installation.objects.filter(installation_id=info.installation_id).select_related("org").first()
        if existing is not None and existing.org_id != connection.org_id:
            raise InstallationClaimError(
                f"The installation on {info.account_login} is already used by another organization in ctx|."
            )
        installation, _ = Installation.objects.update_or_create(
            installation_id=info.installation_id,
            defaults={
                "org": connection.org,
                "account_login": info.account_login,
                "account_type": info.account_type,
                "repository_selection": info.repository_selection,
                "status": Installation.Status.SUSPENDED if info.suspended else Installation.Status.ACTIVE,
                "created_by": existing.created_by if existing else user,
            },
        )
    sync_repositories(installation)
    return installation


# What the API tells of a repository (RepoInfo's fields are named as Repository's), its id aside.
API_FIELDS = [f.name for f in fields(RepoInfo) if f.name != "github_id"]


def sync_repositories(installation: Installation) -> None:
    """Upsert every repository the installation reaches, in one query however many there are; the others are
    marked unreachable, never deleted."""
    infos = InstallationClient(installation.installation_id).list_repositories()
    # RepoInfo's fields are named as Repository's: each row holds what GitHub says now.
    now = timezone.now()
    rows = [Repository(installation=installation, accessible=True, checked_at=now, **asdict(info)) for info in infos]
    Repository.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["installation", "github_id"],
        update_fields=[*API_FIELDS, "accessible", "checked_at", "updated_at"],
    )
    installation.repositories.exclude(github_id__in=[info.github_id for info in infos]).update(accessible=False)


def complete_link_step_if_installed(connection: Connection, *, user=None) -> bool:
    """The "Link GitHub" step is done at once when the organization already has an active installation."""
    installation = connection.org.github_installations.filter(status=Installation.Status.ACTIVE).first()
    task = connection.tasks.filter(kind="link_github").first()
    if installation is None or task is None:
        return False
    if task.state != task.State.DONE:
        task.mark(task.State.DONE, f"GitHub App installed on {installation.account_login}", by=user)
    return True


def forget_link_step_if_uninstalled(connection: Connection, *, detail: str) -> None:
    """Back to "to do" when the organization has no active installation left (one was removed from it)."""
    task = connection.tasks.filter(kind="link_github").first()
    if task is None or connection.org.github_installations.filter(status=Installation.Status.ACTIVE).exists():
        return
    if task.state == task.State.DONE:
        task.mark(task.State.PENDING, detail)


class InstallationInUse(Exception):
    """A connection writes to one of the installation's repositories; the message says which, for the user."""


def remove_installation(installation: Installation) -> None:
    """Forget an installation for its organization; the App stays installed on GitHub until someone removes it
    there. Its repositories stop being ingested and searchable. Refused while a connection writes to one of them:
    that connection must choose another repository first."""
    org, login = installation.org, installation.account_login
    try:
        with transaction.atomic():
            installation.delete()
    except RestrictedError as error:
        writers = sorted({str(getattr(obj, "connection", obj).name) for obj in error.restricted_objects})
        raise InstallationInUse(
            f"{login} cannot be removed: {', '.join(writers)} write{'s' if len(writers) == 1 else ''} to one of its "
            "repositories. Choose another repository for it first (its step “Select the sync repository”)."
        ) from None
    detail = f"The installation on {login} was removed from this organization. Link GitHub again."
    for connection in org.connections.all():
        forget_link_step_if_uninstalled(connection, detail=detail)


# Installation requests (setup_action=request) ---------------------------------------------------------------


def record_request(*, connection: Connection, user, identity) -> InstallationRequest:
    """Remember who asked, from which connection; one pending request per connection and GitHub user."""
    request, _ = InstallationRequest.objects.update_or_create(
        connection=connection,
        requester_login=identity.login,
        fulfilled_at=None,
        defaults={"org": connection.org, "requested_by": user, "requester_github_id": identity.github_user_id or None},
    )
    return request


def pending_request(connection: Connection) -> InstallationRequest | None:
    return connection.github_installation_requests.filter(fulfilled_at=None).first()


def fulfil_request(*, installation_id: int, account: dict, requester: dict) -> Installation | None:
    """An owner approved a member's request: the `installation` `created` webhook for an installation nobody
    claimed, whose `requester` asked from one of our connections. Returns the installation, or None when no
    pending request is this one's (then nobody here asked, and it stays unclaimed)."""
    account_login = account.get("login") or ""
    request = _pending_request_of(requester, account_login=account_login)
    if request is None:
        return None
    with transaction.atomic():
        installation, created = Installation.objects.get_or_create(
            installation_id=installation_id,
            defaults={
                "org": request.org,
                "account_login": account_login[:100],
                "account_type": str(account.get("type") or "User")[:20],
                "created_by": request.requested_by,
            },
        )
        if not created and installation.org_id != request.org_id:
            return None  # claimed meanwhile by another organization; theirs
        request.fulfilled_at, request.installation = timezone.now(), installation
        request.account_login = request.account_login or account_login[:100]
        request.save(update_fields=["fulfilled_at", "installation", "account_login"])
        # Every request of that organization for the account is answered by this installation.
        InstallationRequest.objects.filter(
            org=request.org, fulfilled_at=None, account_login__iexact=account_login
        ).update(fulfilled_at=request.fulfilled_at, installation=installation)
    for connection in request.org.connections.filter(tasks__kind="link_github", tasks__state="waiting"):
        complete_link_step_if_installed(connection, user=request.requested_by)
    complete_link_step_if_installed(request.connection, user=request.requested_by)
    # The webhook lists the repositories without their default branches: read them from GitHub in a task.
    transaction.on_commit(lambda: async_task("github_sync.installations.refresh_repositories", installation.pk))
    return installation


def _pending_request_of(requester: dict, *, account_login: str) -> InstallationRequest | None:
    """The pending request `requester` (the webhook's user: login and id) made for this account, or for no account
    in particular."""
    login, github_id = requester.get("login"), requester.get("id")
    if not isinstance(login, str) or not login:
        return None
    candidates = InstallationRequest.objects.filter(fulfilled_at=None).select_related("connection__org")
    by_requester = candidates.filter(requester_login__iexact=login)
    if isinstance(github_id, int) and not isinstance(github_id, bool):
        # The id survives a renamed login; a request recorded without one still matches by login.
        by_requester = candidates.filter(requester_github_id=github_id) | by_requester.filter(requester_github_id=None)
    # A request that named another account is not this one's.
    return (
        by_requester.filter(account_login__iexact=account_login).first()
        or by_requester.filter(account_login="").first()
    )


def refresh_repositories(installation_pk: int) -> None:
    """Task: read the repositories an installation reaches (names, default branches, visibility) from GitHub."""
    installation = Installation.objects.filter(pk=installation_pk, status=Installation.Status.ACTIVE).first()
    if installation is not None:
        sync_repositories(installation)


def refresh_repository(repository_pk: int) -> None:
    """Task: what GitHub's API says of one repository now (name, default branch, visibility, archived), after a
    webhook said it was made private or unarchived, which our row believes only from the API (events._refresh). A
    delivery applied to the row while GitHub was asked is newer than the answer: the row is then left as it is."""
    repository = Repository.objects.select_related("installation").filter(pk=repository_pk, accessible=True).first()
    if repository is None or repository.installation.status != Installation.Status.ACTIVE:
        return
    info = InstallationClient(repository.installation.installation_id).get_repository(repository.full_name)
    if info.github_id != repository.github_id:
        return  # another repository under the name: the next sync's identity check says so
    now, fresh = timezone.now(), {name: getattr(info, name) for name in API_FIELDS}
    unchanged = Repository.objects.filter(pk=repository.pk, updated_at=repository.updated_at)
    if unchanged.update(**fresh, checked_at=now, updated_at=now):
        repository.refresh_from_db()
        repository_changed.send(sender=Repository, repository=repository, action="refreshed")


def still_archived(repository: Repository) -> bool:
    """Whether GitHub says the repository is archived, asked before refusing it (one request): our row stays
    archived until the API says otherwise, and an `unarchived` whose read failed would refuse it for good."""
    with suppress(GitHubError):
        refresh_repository(repository.pk)
    return Repository.objects.filter(pk=repository.pk, archived=True).exists()
