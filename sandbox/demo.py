"""A fully set-up Confluence connection against a simulated world, through the same functions the wizard uses.

Used by `manage.py sandbox_demo`, the test suite and the benchmarks: the Atlassian grant comes from the simulated
consent, the Forge app is installed in the simulated site, the GitHub App on the simulated account, and the scope
is saved with `confluence.setup.save_scope`. `World.grant_connection` does the simulated side (in this process or,
for bench/faults.py, in the simulator server) and `connect_with_grants` the site's side.
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
    grants = world.grant_connection(
        cloud_id=cloud_id, space_keys=space_keys, repository=repository, account_id=account_id
    )
    return connect_with_grants(grants, org=org, user=user, name=name, excluded_labels=excluded_labels)


def connect_with_grants(
    grants: dict, *, org: Organization, user, name: str = "", excluded_labels: tuple[str, ...] = ()
) -> Connection:
    connection = Connection.create_with_tasks(org=org, kind=Connection.Kind.CONFLUENCE, created_by=user, name=name)
    link_atlassian(connection, grants, user=user)
    setup.record_forge_installed(cloud_id=grants["site"]["id"], installation_id=grants["forge_installation_id"])
    repo = install_github(connection, grants, user=user)
    setup.select_repository(connection, repo, user=user, public_confirmed=True)
    setup.save_scope(
        connection,
        spaces=grants["spaces"],
        pages=[],
        excluded_pages=[],
        excluded_labels=list(excluded_labels),
        user=user,
        summary=f"Spaces {', '.join(space['key'] for space in grants['spaces'])}",
    )
    connection.refresh_from_db()
    return connection


def link_atlassian(connection: Connection, grants: dict, *, user):
    tokens, account = grants["tokens"], grants["account"]
    pending = PendingAtlassianLink.objects.create(
        user=user,
        account_id=account["id"],
        account_name=account["name"],
        account_email=account["email"],
        access_token=tokens["access_token"],
        refresh_token=tokens.get("refresh_token", ""),
        access_expires_at=timezone.now() + timedelta(seconds=int(tokens["expires_in"])),
        sites=[grants["site"]],
    )
    return setup.link_site(connection, pending, cloud_id=grants["site"]["id"], user=user)


def install_github(connection: Connection, grants: dict, *, user) -> Repository:
    info = github_client.get_installation(grants["github_installation_id"])
    installation = record_installation(connection=connection, info=info, user=user)
    complete_link_step_if_installed(connection, user=user)
    return installation.repositories.get(full_name__iexact=grants["repository"])
