"""Repositories: each one a bare git repository under the simulator's root. `RepositoriesMixin` is the
simulator's Python API for them; the REST handlers are in repos.py and git_api.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sandbox.github import gitstore, repos, shapes, trees, webhooks
from sandbox.github.models import Repo

# "ASCII letters, digits, and the characters `.`, `-`, and `_`", at most 100 characters
# (https://docs.github.com/en/repositories/creating-and-managing-repositories/repository-limits), and never "."
# or "..": the name becomes a directory.
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class RepositoriesMixin:
    def create_repository(
        self, owner: str, name: str, *, private: bool = True, default_branch: str = "main", description: str = ""
    ) -> Repo:
        _check_repository_name(name)
        with self.lock:
            owner = self.account(owner).login
            if self.find_repository(owner, name):
                raise ValueError(f"repository {owner}/{name} exists")
            repo = Repo(
                id=self.state.new_id(),
                owner=owner,
                name=name,
                private=private,
                default_branch=default_branch,
                description=description,
                created_at=self.now(),
            )
            gitstore.init_repository(self.repository_path(owner, name), default_branch=default_branch)
            self.state.repos[repo.id] = repo
            return repo

    def find_repository(self, owner: str, name: str) -> Repo | None:
        full_name = f"{owner}/{name}".lower()
        return next((r for r in self.state.repos.values() if r.full_name.lower() == full_name), None)

    def get_repository(self, owner: str, name: str) -> Repo:
        repo = self.find_repository(owner, name)
        if repo is None:
            raise KeyError(f"no repository {owner}/{name}")
        return repo

    def delete_repository(self, owner: str, name: str, *, sender: str | None = None) -> None:
        """Delete; sends `repository` `deleted` with the repository as it was."""
        with self.lock:
            repo = self.get_repository(owner, name)
            # Before it goes: the installation that gets the event is found through the repository.
            webhooks.repository_event(self, repo, "deleted", sender=sender)
            del self.state.repos[repo.id]
            shutil.rmtree(self.repository_path(repo.owner, repo.name), ignore_errors=True)
            gitstore.forget_repositories()
        self._flush_unless_serving()

    def rename_repository(self, owner: str, name: str, new_name: str, *, sender: str | None = None) -> Repo:
        """Rename; the old URLs answer 301 with the new location, as GitHub's do. Sends `repository` `renamed`."""
        _check_repository_name(new_name)
        with self.lock:
            repo = self.get_repository(owner, name)
            old_name, old_path = repo.name, self.repository_path(repo.owner, repo.name)
            self.state.redirects[repo.full_name.lower()] = repo.id
            repo.name = new_name
            self.state.redirects.pop(repo.full_name.lower(), None)
            old_path.rename(self.repository_path(repo.owner, new_name))
            changes = {"repository": {"name": {"from": old_name}}}
            webhooks.repository_event(self, repo, "renamed", changes=changes, sender=sender)
        self._flush_unless_serving()
        return repo

    def repository_path(self, owner: str, repo: str) -> Path:
        found = self.find_repository(owner, repo)
        if found:
            owner, repo = found.owner, found.name
        return self.root / owner / f"{repo}.git"

    def head_sha(self, owner: str, repo: str, branch: str | None = None) -> str | None:
        found = self.get_repository(owner, repo)
        return gitstore.read_ref(self.repository_path(owner, repo), f"refs/heads/{branch or found.default_branch}")

    def read_tree(self, owner: str, repo: str, ref: str) -> dict[str, bytes]:
        """Every file at `ref` (a branch name or a commit sha) and its content; for tests."""
        path = self.repository_path(owner, repo)
        sha = gitstore.read_ref(path, f"refs/heads/{ref}") or ref
        commit = gitstore.read_commit(path, sha)
        if commit is None:
            raise KeyError(f"no commit {ref!r} in {owner}/{repo}")
        contents = {p: gitstore.read_blob(path, e.sha) for p, e in trees.blobs(path, commit.tree).items()}
        return {p: data for p, data in contents.items() if data is not None}

    def push_outside_commit(
        self,
        owner: str,
        repo: str,
        *,
        files: dict[str, str | bytes | None],
        message: str,
        branch: str | None = None,
        author: str = "someone",
    ) -> str:
        """Commit `files` (None deletes) on top of the branch as someone else would push it; sends `push`. An
        archived repository takes no push: PermissionError."""
        with self.lock:
            found = self.get_repository(owner, repo)
            if found.archived:
                raise PermissionError(f"{found.full_name}: {shapes.ARCHIVED_MESSAGE}")
            sha = repos.commit_files(
                self, found, files=files, message=message, branch=branch or found.default_branch, author=author
            )
        self._flush_unless_serving()
        return sha


def _check_repository_name(name: str) -> None:
    if not _REPOSITORY_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a GitHub repository name: letters, digits, '.', '-' and '_', up to 100")
