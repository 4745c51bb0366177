"""Signals other apps listen to, so github_sync never needs to know them.

`installation_changed(sender=Installation, installation=…, action=…)` is sent after an `installation` or
`installation_repositories` webhook has been applied to our rows (inside the delivery's transaction). `action`
is the event's action ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted") or
"repositories_added" / "repositories_removed". Receivers must be quick and never call GitHub: enqueue instead.

    @receiver(installation_changed)
    def on_installation_changed(sender, installation, action, **kwargs):
        ...

`repository_changed(sender=Repository, repository=…, action=…)` is sent after a `repository` webhook was applied to
the repository's row (`action` is the event's: "renamed", "transferred", "edited", "publicized", "privatized",
"archived", "unarchived", "deleted"), and after GitHub's API was read for it ("refreshed"). A payload only makes the
row stricter (public, archived): a repository made private or unarchived is so in the row once the API says it. The
same rules hold for its receivers.
"""

from django.dispatch import Signal

installation_changed = Signal()
repository_changed = Signal()
