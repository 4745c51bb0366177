"""A fully set-up Confluence connection against a simulated world, through the same functions the wizard uses.

Used by `manage.py sandbox_demo`, the test suite and the benchmarks: the Atlassian grant comes from the simulated
consent, the Forge app is installed in the simulated site, the GitHub App on the simulated account, and the scope
is saved with `confluence.setup.save_scope`.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from confluence import setup
from confluence.models import PendingAtlassianLink
from connectors.models import Connection, Organization
from github_sync import client as github_client
from github_sync.installations import complete_link_step_if_installed, record_installation
from github_sync.models import Repository


def connect(
    world,
    *,
    org: Organization,
    user,
    cloud_id: str,
    space_keys: list[str],
    repository: str,
    account_id: str | None = None,
    name: str = "",
    excluded_labels: tuple[str, ...] = (),
) -> Connection:
    """Create a Confluence connection of `org` syncing whole spaces of the site into `owner/name`."""
    connection = Connection.create_with_tasks(org=org, kind=Connection.Kind.CONFLUENCE, created_by=user, name=name)
    link_atlassian(world, connection, user=user, cloud_id=cloud_id, account_id=account_id)
    install_forge(world, cloud_id)
    repo = install_github(world, connection, user=user, repository=repository)
    setup.select_repository(connection, repo, user=user, public_confirmed=True)
    spaces = [world.atlassian.space_by_key(cloud_id, key) for key in space_keys]
    setup.save_scope(
        connection,
        spaces=[{"id": s.id, "key": s.key, "name": s.name} for s in spaces],
        pages=[],
        excluded_pages=[],
        excluded_labels=list(excluded_labels),
        user=user,
        summary=f"Spaces {', '.join(space_keys)}",
    )
    connection.refresh_from_db()
    return connection


def link_atlassian(world, connection: Connection, *, user, cloud_id: str, account_id: str | None = None):
    atlassian = world.atlassian
    account_id = account_id or atlassian.default_user().account_id
    tokens = atlassian.connect(account_id=account_id, sites=[cloud_id])
    site = atlassian.sites[cloud_id]
    person = atlassian.users[account_id]
    pending = PendingAtlassianLink.objects.create(
        user=user,
        account_id=account_id,
        account_name=person.name,
        account_email=person.email,
        access_token=tokens["access_token"],
        refresh_token=tokens.get("refresh_token", ""),
        access_expires_at=timezone.now() + timedelta(seconds=int(tokens["expires_in"])),
        sites=[{"id": site.cloud_id, "name": site.name, "url": site.url, "scopes": []}],
    )
    return setup.link_site(connection, pending, cloud_id=cloud_id, user=user)


def install_forge(world, cloud_id: str) -> None:
    """The simulated admin installs the Forge app; the lifecycle event completes the step (or we record it)."""
    installation_id = world.atlassian.install_forge_app(cloud_id)
    setup.record_forge_installed(cloud_id=cloud_id, installation_id=installation_id)


def install_github(world, connection: Connection, *, user, repository: str) -> Repository:
    owner, name = repository.split("/")
    github = world.github
    existing = github.installation_for_repo(github.find_repository(owner, name))
    installation_id = existing.id if existing else github.install_app(owner, repositories="all")
    info = github_client.get_installation(installation_id)
    installation = record_installation(connection=connection, info=info, user=user)
    complete_link_step_if_installed(connection, user=user)
    return installation.repositories.get(full_name__iexact=repository)
