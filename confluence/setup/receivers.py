"""What Confluence connections do when GitHub tells us an installation changed (removed, suspended, repos) or a
repository did (renamed, made public or private, archived, deleted)."""

from __future__ import annotations

from django.dispatch import receiver

from confluence.models import SyncTarget
from confluence.setup import status
from connectors.models import Connection
from github_sync.signals import installation_changed, repository_changed


@receiver(installation_changed)
def on_installation_changed(sender, installation, action, **kwargs) -> None:
    """Re-derive the card of every Confluence connection writing to one of the installation's repositories."""
    for connection in Connection.objects.filter(sync_target__repository__installation=installation):
        status.update_status_and_sync(connection)


@receiver(repository_changed)
def on_repository_changed(sender, repository, action, **kwargs) -> None:
    """Re-derive the card of the connection writing to the repository. Seen private (our row says so only after
    GitHub's API did: a `privatized` delivery may be an old one sent again), it withdraws any confirmation that
    synced pages will be public."""
    if repository.private:
        SyncTarget.withdraw_public_confirmations(repository)
    for connection in Connection.objects.filter(sync_target__repository=repository):
        status.update_status_and_sync(connection)
