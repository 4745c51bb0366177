"""What Confluence connections do when GitHub tells us an installation changed (removed, suspended, repos)."""

from __future__ import annotations

from django.dispatch import receiver

from confluence.setup import status
from connectors.models import Connection
from github_sync.signals import installation_changed


@receiver(installation_changed)
def on_installation_changed(sender, installation, action, **kwargs) -> None:
    """Re-derive the card of every Confluence connection writing to one of the installation's repositories."""
    for connection in Connection.objects.filter(sync_target__repository__installation=installation):
        status.update_status_and_sync(connection)
