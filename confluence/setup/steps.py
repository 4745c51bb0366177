"""What each step of the Confluence setup does. The wizard views, the Forge lifecycle events, the admin and
`sandbox_demo` all call these functions, so every path through setup leaves the same rows behind.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from confluence.auth import mark_revoked
from confluence.models import (
    AtlassianSite,
    ForgeInstallation,
    PendingAtlassianLink,
    SyncRun,
    SyncScope,
    SyncState,
    SyncTarget,
)
from confluence.setup.readiness import ARCHIVED, FORGE_REMOVED

# Every step ends by updating the status (`confluence.setup.status`), which says whether a sync may start.
from confluence.setup.status import sync_if_ready, update_status, update_status_and_sync
from connectors.models import Connection, SetupTask
from github_sync.ingest import drop_documents
from github_sync.installations import still_archived
from github_sync.models import Installation, Repository, Source


def task(connection: Connection, kind: str) -> SetupTask:
    return connection.tasks.get(kind=kind)


# 1. Link Atlassian account ---------------------------------------------------------------------------------


def conflicting_connections(connection: Connection, account_id: str):
    """Connections of other organizations that read Confluence through this Atlassian account."""
    return (
        Connection.objects.filter(atlassian_site__account_id=account_id)
        .exclude(org=connection.org)
        .exclude(atlassian_site__grant_status=AtlassianSite.Grant.REVOKED)
        .select_related("org")
    )


def link_site(connection: Connection, pending: PendingAtlassianLink, *, cloud_id: str, user) -> AtlassianSite:
    """Take the pending grant for one of its sites; other organizations' claims on the account end here."""
    site_info = next(s for s in pending.sites if s["id"] == cloud_id)
    with transaction.atomic():
        for other in conflicting_connections(connection, pending.account_id):
            mark_revoked(
                other.atlassian_site,
                detail=(
                    # Never the other organization's name: tenants do not learn of each other.
                    f"Re-link needed: the Atlassian account {pending.account_name or pending.account_id} was linked "
                    "to another organization. Link an Atlassian account again to resume."
                ),
            )
        previous = AtlassianSite.objects.filter(connection=connection).first()
        site, _ = AtlassianSite.objects.update_or_create(
            connection=connection, defaults=granted_site(pending, site_info, user=user)
        )
        if previous is not None and previous.cloud_id != cloud_id:
            # Another site: its scope and Forge installation mean nothing here.
            SyncScope.objects.filter(connection=connection).delete()
            task(connection, "configure_scope").mark(
                SetupTask.State.PENDING, "The site changed: choose the scope again."
            )
        pending.delete()
        account = pending.account_name or pending.account_email or pending.account_id
        task(connection, "link_atlassian").mark(SetupTask.State.DONE, f"{site.name} ({site.url}) as {account}", by=user)
        sync_forge_step(connection)
        update_status_and_sync(connection)
    return site


def granted_site(pending: PendingAtlassianLink, site_info: dict, *, user) -> dict:
    """The `AtlassianSite` fields of a site linked through the pending grant: the site, the account, the tokens."""
    return {
        "cloud_id": site_info["id"],
        "url": site_info["url"],
        "name": site_info["name"],
        "account_id": pending.account_id,
        "account_name": pending.account_name,
        "account_email": pending.account_email,
        "access_token": pending.access_token,
        "refresh_token": pending.refresh_token,
        "access_expires_at": pending.access_expires_at,
        "scopes": " ".join(site_info.get("scopes", [])),
        "grant_status": AtlassianSite.Grant.ACTIVE,
        "grant_detail": "",
        "linked_by": user,
        "linked_at": timezone.now(),
    }


# 2. Install the Forge app ----------------------------------------------------------------------------------


def sync_forge_step(connection: Connection) -> None:
    """Set the Forge step from what we know about the connection's site."""
    site = AtlassianSite.objects.filter(connection=connection).first()
    step = task(connection, "install_forge")
    forge = site.forge() if site else None
    if site is None:
        step.mark(SetupTask.State.PENDING, "")
    elif forge and forge.is_installed:
        step.mark(SetupTask.State.DONE, f"Installed in {site.name}; confirmed {forge.installed_at:%Y-%m-%d %H:%M} UTC")
    elif forge and forge.uninstalled_at:
        step.mark(SetupTask.State.WAITING, FORGE_REMOVED)
    else:
        step.mark(SetupTask.State.WAITING, f"Waiting for a site admin of {site.name} to install the ctx| Forge app.")


def record_forge_installed(*, cloud_id: str, installation_id: str, when=None) -> list[Connection]:
    """An `avi:forge:installed:app` event for this site: the Forge step is done for every connection to it."""
    ForgeInstallation.objects.update_or_create(
        cloud_id=cloud_id,
        defaults={"installation_id": installation_id, "installed_at": when or timezone.now(), "uninstalled_at": None},
    )
    return _refresh_site_connections(cloud_id)


def record_forge_uninstalled(*, cloud_id: str, when=None) -> list[Connection]:
    """`avi:forge:uninstalled:app`: changes are no longer captured; the reconciliation schedule keeps syncing."""
    ForgeInstallation.objects.update_or_create(cloud_id=cloud_id, defaults={"uninstalled_at": when or timezone.now()})
    return _refresh_site_connections(cloud_id)


def _refresh_site_connections(cloud_id: str) -> list[Connection]:
    connections = list(Connection.objects.filter(atlassian_site__cloud_id=cloud_id))
    for connection in connections:
        sync_forge_step(connection)
        update_status_and_sync(connection)
    return connections


# 3. Link GitHub --------------------------------------------------------------------------------------------


def active_installation(connection: Connection) -> Installation | None:
    return connection.org.github_installations.filter(status=Installation.Status.ACTIVE).first()


def sync_github_step(connection: Connection, *, user=None) -> bool:
    """Done at once when the organization already has an active installation of the GitHub App."""
    installation = active_installation(connection)
    step = task(connection, "link_github")
    if installation is not None:
        if step.state != SetupTask.State.DONE:
            step.mark(SetupTask.State.DONE, f"GitHub App installed on {installation.account_login}", by=user)
        return True
    return False


# 4. Select the sync repository -----------------------------------------------------------------------------


def selectable_repositories(connection: Connection):
    return Repository.objects.filter(
        installation__org=connection.org, installation__status=Installation.Status.ACTIVE, accessible=True
    ).select_related("installation")


class RepositoryTaken(ValueError):
    """Another connection writes to that repository. A repository has one writer, or two connections would each
    remove the other's pages on every sync."""

    def __init__(self, repository: Repository, holder: Connection, *, viewer_org_id: int):
        self.repository, self.holder = repository, holder
        super().__init__(taken_detail(repository, holder, viewer_org_id=viewer_org_id))


def taken_detail(repository: Repository, holder: Connection, *, viewer_org_id: int) -> str:
    # Another organization's connection is named to staff only (in the admin), never in the wizard.
    same_org = holder.org_id == viewer_org_id
    writer = f"the connection “{holder.name}”" if same_org else "a connection of another organization"
    return f"{repository.full_name} is written by {writer}; choose another repository."


def repository_writer(repository: Repository, *, other_than: Connection | None) -> Connection | None:
    """The connection that writes to `repository`, unless it is `other_than`."""
    targets = SyncTarget.objects.filter(repository=repository).select_related("connection")
    if other_than is not None:
        targets = targets.exclude(connection=other_than)
    target = targets.first()
    return target.connection if target else None


def repository_writers(connection: Connection) -> dict[int, Connection]:
    """Repository id → the other connection writing to it, for the repositories `connection` could choose."""
    targets = (
        SyncTarget.objects.filter(repository__in=selectable_repositories(connection))
        .exclude(connection=connection)
        .select_related("connection")
    )
    return {target.repository_id: target.connection for target in targets}


def select_repository(connection: Connection, repository: Repository, *, user, public_confirmed: bool) -> SyncTarget:
    if not selectable_repositories(connection).filter(pk=repository.pk).exists():
        raise ValueError("That repository is not reachable by this organization's GitHub App installation.")
    holder = repository_writer(repository, other_than=connection)
    if holder is not None:
        raise RepositoryTaken(repository, holder, viewer_org_id=connection.org_id)
    if repository.archived and still_archived(repository):
        raise ValueError(ARCHIVED.format(repository=repository.full_name))
    if not repository.private and not public_confirmed:
        raise ValueError("The repository is public: confirm that synced pages will be public.")
    previous = SyncTarget.objects.filter(connection=connection).select_related("repository").first()
    try:
        # A savepoint: the unique constraint refuses a repository another connection took since the check above.
        with transaction.atomic():
            target, _ = SyncTarget.objects.update_or_create(
                connection=connection,
                defaults={
                    "repository": repository,
                    "selected_by": user,
                    "selected_at": timezone.now(),
                    "public_confirmed_by": user if not repository.private else None,
                    "public_confirmed_at": timezone.now() if not repository.private else None,
                },
            )
    except IntegrityError:
        holder = repository_writer(repository, other_than=connection)
        if holder is None:
            raise
        raise RepositoryTaken(repository, holder, viewer_org_id=connection.org_id) from None
    visibility = "public" if not repository.private else "private"
    task(connection, "select_repository").mark(
        SetupTask.State.DONE, f"{repository.full_name} ({visibility}, branch {repository.default_branch})", by=user
    )
    use_repository(connection, repository, previous=previous.repository if previous else None, user=user)
    return target


def use_repository(connection: Connection, repository: Repository, *, previous: Repository | None, user) -> None:
    """After the target was set (the wizard or staff in the admin): ingest the new repository, stop ingesting the
    old one for this connection, and sync into the new one at once when the rest of setup is done."""
    # The target repository is a source like any other: ingested on every commit, searchable by the org.
    Source.connect(connection, repository, by=user)
    if previous is not None and previous.pk != repository.pk:
        release_repository(connection, previous)
    became_active = update_status(connection)
    if became_active or previous is None or previous.pk != repository.pk:
        sync_if_ready(connection, trigger=SyncRun.Trigger.SETUP)


def release_repository(connection: Connection, repository: Repository) -> None:
    """The connection no longer writes to `repository`. Its files stay there (nothing is removed from a repository
    the connection no longer holds), but they are no longer kept current, so the connection stops ingesting them;
    once no connection uses the repository nothing of it stays searchable. The saved index described that
    repository: the next run reads the new one's own index instead."""
    SyncState.objects.filter(connection=connection).delete()
    connection.sources.filter(repository=repository).delete()
    if not repository.sources.exists():
        drop_documents(repository)


# 5. Configure the scope ------------------------------------------------------------------------------------


def save_scope(
    connection: Connection, *, spaces, pages, excluded_pages, excluded_labels, user, summary: str
) -> SyncScope:
    scope, _ = SyncScope.objects.update_or_create(
        connection=connection,
        defaults={
            "spaces": spaces,
            "pages": pages,
            "excluded_pages": excluded_pages,
            "excluded_labels": excluded_labels,
            "updated_by": user,
        },
    )
    task(connection, "configure_scope").mark(SetupTask.State.DONE, summary, by=user)
    update_status(connection)  # the scope's own sync below covers a connection that just became active
    sync_if_ready(connection, trigger=SyncRun.Trigger.SCOPE)
    return scope


def set_include_restricted(connection: Connection, *, include: bool, user) -> SyncScope:
    """An organization admin's choice to sync pages with a view restriction (or to stop): the scope file records
    it, and a run over the whole scope adds or removes those pages."""
    scope = SyncScope.objects.get(connection=connection)
    if scope.include_restricted != include:
        scope.include_restricted, scope.updated_by = include, user
        scope.save(update_fields=["include_restricted", "updated_by", "updated_at"])
        sync_if_ready(connection, trigger=SyncRun.Trigger.SCOPE)
    return scope
