"""A fully set-up Confluence connection against a simulated world, through the same functions the wizard uses.

Used by `manage.py sandbox_demo`, the test suite and the benchmarks: the Atlassian grant comes from the simulated
consent, the Forge app is installed in the simulated site, the GitHub App on the simulated account, and the scope
is saved with `confluence.setup.steps.save_scope`. `World.grant_connection` does the simulated side (in this process or,
for bench/faults.py, in the simulator server) and `connect_with_grants` the site's side.

`build_demo` is the command's part: the demo has an Atlassian account and a GitHub account of its own, so it
never competes with what someone set up through the wizard, and a re-run finds its organization and connection
again. Before it changes anything it checks that no other organization uses those accounts, and stops with an
explanation if one does: the demo never takes anything away from another organization.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from confluence.models import AtlassianSite, PendingAtlassianLink, SyncTarget
from confluence.setup import steps
from connectors.models import Connection, Membership, Organization
from github_sync.app_auth import get_installation
from github_sync.installations import complete_link_step_if_installed, record_installation
from github_sync.models import Installation, Repository
from sandbox.seed import DEMO_ACCOUNT_ID
from sandbox.seed_constructs import seed_constructs

DEMO_ORG_NAME = "Demo"
# The demo's own simulated accounts: the wizard's are the sites' default Atlassian user and `sandbox-user`.
DEMO_ATLASSIAN_ACCOUNT_ID = DEMO_ACCOUNT_ID  # the seed lets this account read its restricted pages
DEMO_GITHUB_LOGIN = "ctx-demo"
DEMO_REPOSITORY = f"{DEMO_GITHUB_LOGIN}/confluence-docs"


class DemoBlocked(Exception):
    """Another organization uses something the demo needs; the message says what, for the developer."""


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
    grants: dict,
    *,
    org: Organization,
    user,
    name: str = "",
    excluded_labels: tuple[str, ...] = (),
    connection: Connection | None = None,
) -> Connection:
    """Set up `connection` (a new one when None) with the grants, through the steps the wizard calls."""
    if connection is None:
        connection = Connection.create_with_tasks(org=org, kind=Connection.Kind.CONFLUENCE, created_by=user, name=name)
    link_atlassian(connection, grants, user=user)
    steps.record_forge_installed(cloud_id=grants["site"]["id"], installation_id=grants["forge_installation_id"])
    repo = install_github(connection, grants, user=user)
    steps.select_repository(connection, repo, user=user, public_confirmed=True)
    steps.save_scope(
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
    return steps.link_site(connection, pending, cloud_id=grants["site"]["id"], user=user)


def install_github(connection: Connection, grants: dict, *, user) -> Repository:
    info = get_installation(grants["github_installation_id"])
    installation = record_installation(connection=connection, info=info, user=user)
    complete_link_step_if_installed(connection, user=user)
    return installation.repositories.get(full_name__iexact=grants["repository"])


# The demo command ------------------------------------------------------------------------------------------


def build_demo(world, *, user) -> Connection:
    """The demo organization's set-up Confluence connection: found again on a re-run, else set up now, with the
    construct tour (sandbox.seed_constructs) seeded into the site if it is not there yet.

    Checks first, changes after: a conflict with another organization stops here with nothing changed."""
    org = demo_organization(user)
    site = next(iter(world.atlassian.sites.values()))
    keys = sorted(space.key for space in world.atlassian.site_spaces(site.cloud_id))
    ensure_demo_accounts(world)
    connection = org.connections.filter(kind=Connection.Kind.CONFLUENCE).order_by("created_at").first()
    if connection is not None and connection.is_ready:
        return connection
    refuse_what_others_use(org)
    # The demo shows every construct the converter carries; a site seeded before the tour existed gets it now.
    seed_constructs(world.atlassian, site.cloud_id)
    grants = world.grant_connection(
        cloud_id=site.cloud_id, space_keys=keys, repository=DEMO_REPOSITORY, account_id=DEMO_ATLASSIAN_ACCOUNT_ID
    )
    # The demo syncs the spaces' blog posts too (an opt-in a person makes per space in the scope editor).
    grants["spaces"] = [{**space, "blog": True} for space in grants["spaces"]]
    # A connection an earlier, interrupted run left half set up is finished rather than doubled.
    return connect_with_grants(
        grants, org=org, user=user, name=f"Confluence ({', '.join(keys)})", connection=connection
    )


def demo_organization(user) -> Organization:
    """The organization the demo user owns and named "Demo"; created on the first run only."""
    org = Organization.objects.filter(
        name=DEMO_ORG_NAME, memberships__user=user, memberships__role=Membership.Role.OWNER
    ).first()
    return org or Organization.create_with_owner(name=DEMO_ORG_NAME, owner=user)


def ensure_demo_accounts(world) -> None:
    """The demo's Atlassian user and its GitHub account with an empty private repository, made once."""
    atlassian, github = world.atlassian, world.github
    atlassian.default_user()  # made first, so the consent page keeps signing in the wizard's user by default
    if DEMO_ATLASSIAN_ACCOUNT_ID not in atlassian.users:
        atlassian.create_user(account_id=DEMO_ATLASSIAN_ACCOUNT_ID, name="Demo User", email="demo@example.com")
    if DEMO_GITHUB_LOGIN.lower() not in github.state.users:
        github.create_user(DEMO_GITHUB_LOGIN, name="ctx| demo", email="demo@example.com")
    owner, name = DEMO_REPOSITORY.split("/")
    if github.find_repository(owner, name) is None:
        github.create_repository(owner, name, private=True, default_branch="main")


def refuse_what_others_use(org: Organization) -> None:
    """DemoBlocked when another organization uses the demo's Atlassian account, GitHub installation or repository."""
    others = (
        Connection.objects.exclude(org=org)
        .filter(atlassian_site__account_id=DEMO_ATLASSIAN_ACCOUNT_ID)
        .exclude(atlassian_site__grant_status=AtlassianSite.Grant.REVOKED)
    )
    if others.exists():
        raise DemoBlocked(
            "Another organization's connection reads Confluence as the demo's Atlassian account (Demo User). "
            "Link that connection to another account, or delete it, then run sandbox_demo again."
        )
    installations = Installation.objects.exclude(org=org).exclude(status=Installation.Status.REMOVED)
    if installations.filter(account_login__iexact=DEMO_GITHUB_LOGIN).exists():
        raise DemoBlocked(
            f"Another organization uses the GitHub App installation on {DEMO_GITHUB_LOGIN}. Remove it from that "
            "organization (its GitHub step, or the admin), then run sandbox_demo again."
        )
    if SyncTarget.objects.exclude(connection__org=org).filter(repository__full_name__iexact=DEMO_REPOSITORY).exists():
        raise DemoBlocked(f"Another organization's connection writes to {DEMO_REPOSITORY}.")
