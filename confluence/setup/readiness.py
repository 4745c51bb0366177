"""What is wrong with a Confluence connection: each problem a code, with its words for the connection's owners.

Two kinds of problem. A paused connection, or one whose setup is not finished, takes no sync: `sync_blocker`
names the reason, and `confluence.sync.queue.enqueue_sync` refuses such a connection. The others need the owners'
attention (the card's warning and its fixing button) but stop no sync: the run meets them itself and fails, or
works without what is missing (a removed Forge app leaves the reconciliation schedule and "Sync now").

Models only, so that the queue can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from confluence.models import AtlassianSite, ForgeInstallation, SyncTarget
from connectors.models import Connection, SetupTask
from github_sync.models import Installation


class Code(StrEnum):
    PAUSED = "paused"
    SETUP_INCOMPLETE = "setup_incomplete"
    GRANT_REVOKED = "grant_revoked"
    FORGE_REMOVED = "forge_removed"
    INSTALLATION_REMOVED = "installation_removed"
    INSTALLATION_SUSPENDED = "installation_suspended"
    REPOSITORY_UNREACHABLE = "repository_unreachable"
    REPOSITORY_ARCHIVED = "repository_archived"
    REPOSITORY_PUBLIC = "repository_public"


@dataclass(frozen=True)
class Problem:
    code: Code
    message: str


FORGE_REMOVED = "Forge app removed — changes are no longer captured. A site admin can reinstall it."
GRANT_REVOKED = "Atlassian access was revoked: link your Atlassian account again."
ARCHIVED = "{repository} is archived on GitHub (read-only): unarchive it or choose another."


def sync_blocker(connection: Connection) -> Problem | None:
    """Why the connection takes no sync now, or None. Every setup step must be done except the Forge app's: without
    Forge nothing tells us about changes, but the reconciliation schedule and "Sync now" keep the repository right."""
    if connection.paused:
        return Problem(Code.PAUSED, "connection paused")
    steps = connection.tasks.exclude(kind="install_forge").values_list("state", flat=True)
    states = set(steps)
    if not states or states != {SetupTask.State.DONE}:
        return Problem(Code.SETUP_INCOMPLETE, "setup not finished")
    return None


def needing_attention(
    *, site: AtlassianSite | None, forge: ForgeInstallation | None, target: SyncTarget | None
) -> list[Problem]:
    """What stops the connection from working as it should, from its rows (the card passes the rows it read for
    every card at once). Empty when nothing does."""
    found = []
    if site and site.grant_status == AtlassianSite.Grant.REVOKED:
        found.append(Problem(Code.GRANT_REVOKED, site.grant_detail or GRANT_REVOKED))
    if forge and forge.uninstalled_at and not forge.is_installed:
        found.append(Problem(Code.FORGE_REMOVED, FORGE_REMOVED))
    if target:
        found += _repository_problems(target)
    return found


def _repository_problems(target: SyncTarget) -> list[Problem]:
    installation, repository = target.repository.installation, target.repository
    if installation.status == Installation.Status.REMOVED:
        message = f"The GitHub App was removed from {installation.account_login}: install it again."
        return [Problem(Code.INSTALLATION_REMOVED, message)]
    if installation.status == Installation.Status.SUSPENDED:
        message = f"The GitHub App is suspended on {installation.account_login}: an owner can unsuspend it."
        return [Problem(Code.INSTALLATION_SUSPENDED, message)]
    if not repository.accessible:
        message = f"ctx| can no longer reach {repository.full_name}: grant access or pick another."
        return [Problem(Code.REPOSITORY_UNREACHABLE, message)]
    refusal = write_refusal(target)
    return [refusal] if refusal else []


def write_refusal(target: SyncTarget) -> Problem | None:
    """Why no sync may write to the connection's repository now, as GitHub last told us about it: archived (GitHub
    refuses every write), or public without anyone having confirmed that synced pages will be public (it was
    private when chosen, or made private since): pages readable only inside Confluence must not be published
    because someone changed a setting on GitHub."""
    repository = target.repository
    if repository.archived:
        return Problem(Code.REPOSITORY_ARCHIVED, ARCHIVED.format(repository=repository.full_name))
    if not repository.private and target.public_confirmed_at is None:
        message = (
            f"{repository.full_name} is public on GitHub now, so syncing stopped: make it private again, or confirm "
            "in the repository step that synced pages will be public."
        )
        return Problem(Code.REPOSITORY_PUBLIC, message)
    return None
