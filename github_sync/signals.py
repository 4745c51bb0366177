"""Signals other apps listen to, so github_sync never needs to know them.

`installation_changed(sender=Installation, installation=…, action=…)` is sent after an `installation` or
`installation_repositories` webhook has been applied to our rows (inside the delivery's transaction). `action`
is the event's action ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted") or
"repositories_added" / "repositories_removed". Receivers must be quick and never call GitHub: enqueue instead.

    @receiver(installation_changed)
    def on_installation_changed(sender, installation, action, **kwargs):
        ...
"""

from django.dispatch import Signal

installation_changed = Signal()
