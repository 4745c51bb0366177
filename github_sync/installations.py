"""The GitHub App installation flow: a signed state out, a verified installation back.

GitHub redirects to the setup URL with `installation_id`, `setup_action` and our `state`. Anyone can call that
URL with a made-up installation_id, so the claim is checked with the user's own token (`GET /user/installations`
must list it) before the installation is recorded for the organization.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction

from connectors.models import Connection
from github_sync import client
from github_sync.models import Installation, Repository

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


def verify_claim(*, user_token: str, installation_id: int) -> client.InstallationInfo:
    for info in client.user_installations(user_token):
        if info.installation_id == installation_id:
            return info
    raise InstallationClaimError("GitHub does not list that installation for your GitHub account.")


def record_installation(*, connection: Connection, info: client.InstallationInfo, user) -> Installation:
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


def sync_repositories(installation: Installation) -> list[Repository]:
    """Upsert every repository the installation reaches; the others are marked unreachable, never deleted."""
    infos = client.InstallationClient(installation.installation_id).list_repositories()
    seen = []
    for info in infos:
        repo, _ = Repository.objects.update_or_create(
            installation=installation,
            github_id=info.github_id,
            defaults={
                "full_name": info.full_name,
                "default_branch": info.default_branch,
                "private": info.private,
                "html_url": info.html_url,
                "accessible": True,
            },
        )
        seen.append(repo)
    installation.repositories.exclude(pk__in=[r.pk for r in seen]).update(accessible=False)
    return seen


def complete_link_step_if_installed(connection: Connection, *, user=None) -> bool:
    """The "Link GitHub" step is done at once when the organization already has an active installation."""
    installation = connection.org.github_installations.filter(status=Installation.Status.ACTIVE).first()
    task = connection.tasks.filter(kind="link_github").first()
    if installation is None or task is None:
        return False
    if task.state != task.State.DONE:
        task.mark(task.State.DONE, f"GitHub App installed on {installation.account_login}", by=user)
    return True
