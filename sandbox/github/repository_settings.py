"""A repository's settings an admin changes on github.com: visibility, archiving, the default branch.

`RepositorySettingsMixin` is the simulator's Python API for them (the repository page in browse.py calls it too).
Each change sends the `repository` webhook GitHub documents for it, with the repository as it is afterwards
(https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository); a setting left as it was sends
nothing.
"""

from __future__ import annotations

from sandbox.github import gitstore, webhooks
from sandbox.github.models import Repo


class RepositorySettingsMixin:
    def set_repository_private(self, owner: str, name: str, private: bool, *, sender: str | None = None) -> Repo:
        """Change the visibility; sends `privatized` or `publicized`."""
        return self._change_setting(
            owner, name, "private", private, action="privatized" if private else "publicized", sender=sender
        )

    def archive_repository(self, owner: str, name: str, *, sender: str | None = None) -> Repo:
        """Make the repository read-only: the REST API answers every write with 403 until it is unarchived."""
        return self._change_setting(owner, name, "archived", True, action="archived", sender=sender)

    def unarchive_repository(self, owner: str, name: str, *, sender: str | None = None) -> Repo:
        return self._change_setting(owner, name, "archived", False, action="unarchived", sender=sender)

    def set_default_branch(self, owner: str, name: str, branch: str, *, sender: str | None = None) -> Repo:
        """Point the default branch at an existing branch (ValueError otherwise); sends `edited` with `changes`."""
        with self.lock:
            repo = self.get_repository(owner, name)
            git = self.repository_path(repo.owner, repo.name)
            if gitstore.read_ref(git, f"refs/heads/{branch}") is None:
                raise ValueError(f"{repo.full_name} has no branch {branch!r}")
            old = repo.default_branch
            if old != branch:
                repo.default_branch = branch
                # A clone checks out the default branch, as it does from GitHub.
                gitstore.set_head(git, branch)
                changes = {"default_branch": {"from": old}}
                webhooks.repository_event(self, repo, "edited", changes=changes, sender=sender)
        self._flush_unless_serving()
        return repo

    def _change_setting(
        self, owner: str, name: str, setting: str, value: bool, *, action: str, sender: str | None
    ) -> Repo:
        with self.lock:
            repo = self.get_repository(owner, name)
            if getattr(repo, setting) != value:
                setattr(repo, setting, value)
                webhooks.repository_event(self, repo, action, sender=sender)
        self._flush_unless_serving()
        return repo
