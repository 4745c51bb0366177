"""A Confluence connection's status: what stops it from working (`confluence.setup.readiness`), and queueing the
sync a setup change calls for once the connection can sync."""

from __future__ import annotations

from confluence.models import AtlassianSite, SyncRun, SyncTarget
from confluence.setup.readiness import Problem, needing_attention
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.models import Connection


def problems(connection: Connection) -> list[Problem]:
    """What stops this connection from working, each with its words for its owners (empty when nothing does)."""
    site = AtlassianSite.objects.filter(connection=connection).first()
    target = SyncTarget.objects.filter(connection=connection).select_related("repository__installation").first()
    return needing_attention(site=site, forge=site.forge() if site else None, target=target)


def update_status(connection: Connection) -> bool:
    """Needs attention when something above is wrong, else derived from the setup tasks. Returns whether the
    connection just became active and unpaused: the caller decides whether that starts a sync (a wizard step
    does; a run that just finished does not, it is the sync)."""
    was_active = connection.status == Connection.Status.ACTIVE
    found = problems(connection)
    if found:
        connection.set_status(Connection.Status.ATTENTION, " ".join(problem.message for problem in found))
    else:
        connection.clear_attention()
    return not was_active and connection.status == Connection.Status.ACTIVE and not connection.paused


def update_status_and_sync(connection: Connection) -> None:
    """After a setup step or a fixed problem: becoming active starts a sync."""
    if update_status(connection):
        sync_if_ready(connection, trigger=SyncRun.Trigger.SETUP)


def sync_if_ready(connection: Connection, *, trigger: str) -> SyncRun | None:
    """A setup change syncs a connection that can sync; one still being set up (or paused) syncs once it can."""
    try:
        return enqueue_sync(connection, trigger=trigger)
    except NotReady:
        return None
