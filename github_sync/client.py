"""GitHub calls made as one installation of the ctx| App: repositories, branches, the Git Data API, files and the
repository archive, through PyGithub.

Every call goes through the client's `connectors.http.ApiSession` (`github_sync.transport`), which counts, retries
and waits by our rules; PyGithub's lazy objects are used wherever a fetch would cost a request the call does not
need. The App's own calls and tokens are in `github_sync.app_auth`, the errors in `github_sync.errors` (both
re-exported here, where callers have always found them).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urljoin

import requests
import urllib3
from django.conf import settings
from github import Github, GithubException, InputGitAuthor, InputGitTreeElement
from github.GitCommit import GitCommit
from github.GithubObject import NotSet
from github.GitRef import GitRef
from github.GitTree import GitTree
from github.Installation import Installation
from github.Repository import Repository

from connectors.http import ApiSession
from github_sync.app_auth import (
    forget_installation_token,
    installation_github,
)
from github_sync.errors import (
    EmptyRepository,
    GitHubError,
    GitHubUnavailable,
    InstallationGone,
    RepositoryGone,
    from_pygithub,
    from_response,
)
from github_sync.transport import new_session

T = TypeVar("T")


@dataclass(frozen=True)
class RepoInfo:
    github_id: int
    full_name: str
    default_branch: str
    private: bool
    archived: bool
    html_url: str

    @classmethod
    def of(cls, repo: Repository) -> RepoInfo:
        return cls(
            github_id=int(repo.id),
            full_name=repo.full_name,
            default_branch=repo.default_branch or "main",
            private=bool(repo.private if repo.private is not None else True),
            archived=bool(repo.archived),
            html_url=repo.html_url or "",
        )


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    type: str
    sha: str
    size: int | None = None


class InstallationClient:
    """Calls made with one installation's token; `stats` counts them for the run that owns this client."""

    def __init__(self, installation_id: int, *, session: ApiSession | None = None):
        self.installation_id = installation_id
        self.session = session or new_session()

    @cached_property
    def github(self) -> Github:
        """PyGithub as this installation, made at the first call (an unconfigured App fails there, as GitHubError)."""
        return installation_github(self.installation_id, self.session)

    @property
    def stats(self):
        return self.session.stats

    def _repo(self, full_name: str) -> Repository:
        return self.github.get_repo(full_name)  # lazy: no request

    def _call(self, call: Callable[[], T], *, gone: type[GitHubError] = RepositoryGone) -> T:
        """What `call` returns, PyGithub's exception turned into ours (`gone`: what a 404 means here)."""
        try:
            return call()
        except GithubException as error:
            if error.status != 401:
                raise from_pygithub(error, gone=gone) from None
        except requests.RequestException as error:  # unreachable after our session's retries, or a declined wait
            raise GitHubUnavailable(f"GitHub could not be reached: {type(error).__name__}") from None
        # The cached token may have been revoked early (the installation was suspended, say): renew once.
        forget_installation_token(self.installation_id)
        try:
            return call()
        except GithubException as error:
            raise from_pygithub(error, gone=gone) from None
        except requests.RequestException as error:
            raise GitHubUnavailable(f"GitHub could not be reached: {type(error).__name__}") from None

    def list_repositories(self) -> list[RepoInfo]:
        installation = Installation(self.github.requester, {}, {"id": self.installation_id})
        return self._call(lambda: [RepoInfo.of(repo) for repo in installation.get_repos()], gone=InstallationGone)

    def get_repository(self, full_name: str) -> RepoInfo:
        return self._call(lambda: RepoInfo.of(self._repo(full_name).complete()))

    def branch_head(self, full_name: str, branch: str) -> tuple[str, str] | None:
        """(commit sha, tree sha) at the tip of `branch`, or None for an empty repository or a missing branch.
        RepositoryGone when the repository itself is gone: callers write a missing branch from scratch, and that
        must never be how a deleted (or no longer reachable) repository is read."""
        try:
            tip = self._call(lambda: self._repo(full_name).get_branch(branch).commit, gone=_NotFound)
        except EmptyRepository:
            return None
        except _NotFound as missing:
            # GitHub names a missing branch ("Branch not found"); a missing repository is a plain "Not Found".
            if not str(missing).endswith(BRANCH_NOT_FOUND):
                self._require_repository(full_name)
            return None
        return tip.sha, tip.commit.tree.sha

    def _require_repository(self, full_name: str) -> None:
        """After a 404 inside a repository: GitHub answers 404 alike for a missing branch or file and for a missing
        (or hidden) repository, so one more request tells which (RepositoryGone for the repository)."""
        self._call(lambda: self._repo(full_name).complete())

    def get_tree(self, full_name: str, tree_sha: str, *, recursive: bool = True) -> tuple[list[TreeEntry], bool]:
        """Entries of a tree and whether GitHub truncated the listing (over 100,000 entries or 7 MB)."""
        tree = self._call(lambda: self._repo(full_name).get_git_tree(tree_sha, recursive=recursive))
        entries = [TreeEntry(path=e.path, mode=e.mode, type=e.type, sha=e.sha, size=e.size) for e in tree.tree]
        return entries, bool(tree.truncated)

    def list_files(
        self, full_name: str, tree_sha: str, *, descend: Callable[[str], bool] = lambda directory: True
    ) -> list[TreeEntry]:
        """Every file under the tree (a commit sha works too), with its path from the top: one request, unless
        GitHub truncates the recursive listing (over 100,000 entries or 7 MB). Then the top level is listed and
        each subtree `descend` accepts (given its path) is listed the same way, so only a subtree still too large
        is split further, and directories the caller has no use for are never read."""
        entries, truncated = self.get_tree(full_name, tree_sha, recursive=True)
        if not truncated:
            return [e for e in entries if e.type == "blob"]
        level, _ = self.get_tree(full_name, tree_sha, recursive=False)
        files = [e for e in level if e.type == "blob"]
        for tree in (e for e in level if e.type == "tree" and descend(e.path)):
            below = self.list_files(full_name, tree.sha, descend=lambda path, top=tree.path: descend(f"{top}/{path}"))
            files += [replace(e, path=f"{tree.path}/{e.path}") for e in below]
        return files

    def get_file(self, full_name: str, path: str, *, ref: str) -> bytes | None:
        """A file's bytes at `ref`, or None when it does not exist (RepositoryGone when the repository does not):
        one request, or two for a file over 1 MB (the contents API then leaves the content out, and the blob is
        read) or for a missing one (the repository is looked up)."""
        try:
            found = self._call(lambda: self._repo(full_name).get_contents(path, ref=ref), gone=_NotFound)
        except _NotFound:
            self._require_repository(full_name)
            return None
        if isinstance(found, list):  # a directory
            return None
        return found.decoded_content if found.content else self.get_blob(full_name, found.sha)

    @contextmanager
    def open_tarball(self, full_name: str, ref: str) -> Iterator[_Download]:
        """The gzip'd tar GitHub makes of the repository at `ref` (top folder `<owner>-<repo>-<short sha>/`), as a
        stream read while it arrives. Two requests: the API answers 302 with a short-lived download URL (on
        codeload, carrying its own token when the repository is private), which is fetched without our
        Authorization header: it needs none and must not see the installation's token. The download goes
        through the session itself: PyGithub reads every answer into memory as text."""
        # Reference: https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
        try:
            location = self._call(lambda: self._repo(full_name).get_archive_link("tarball", ref))
        except KeyError:
            raise GitHubError("GitHub answered without a download link", status=302) from None
        api_url = f"{settings.GITHUB_API_URL}/repos/{full_name}/tarball/{quote(ref, safe='')}"
        # The query carries the download's token: passed apart, so that no log line or error message shows it.
        url, _, query = urljoin(api_url, location).partition("?")
        try:
            download = self.session.request("GET", url, params=parse_qsl(query), stream=True, allow_redirects=False)
        except requests.RequestException as error:
            raise GitHubUnavailable(f"The archive download failed: {type(error).__name__}") from None
        with download:
            if download.status_code >= 300:
                raise from_response(download)
            yield _Download(download.raw)

    def get_blob(self, full_name: str, sha: str) -> bytes:
        blob = self._call(lambda: self._repo(full_name).get_git_blob(sha))
        return base64.b64decode(blob.content) if blob.encoding == "base64" else blob.content.encode()

    def create_blob(self, full_name: str, content: bytes) -> str:
        encoded = base64.b64encode(content).decode()
        return self._call(lambda: self._repo(full_name).create_git_blob(encoded, "base64").sha)

    def create_tree(self, full_name: str, entries: list[dict], *, base_tree: str | None) -> str:
        """`entries` as GitHub takes them: path, mode, type and either content or sha (None deletes the path)."""
        repo = self._repo(full_name)
        elements = [InputGitTreeElement(**entry) for entry in entries]
        base = _lazy(GitTree, repo, f"git/trees/{base_tree}", sha=base_tree) if base_tree else NotSet
        return self._call(lambda: repo.create_git_tree(elements, base_tree=base).sha)

    def create_commit(self, full_name: str, *, message: str, tree: str, parents: list[str], author: dict | None) -> str:
        repo = self._repo(full_name)
        commit_tree = _lazy(GitTree, repo, f"git/trees/{tree}", sha=tree)
        parent_commits = [_lazy(GitCommit, repo, f"git/commits/{sha}", sha=sha) for sha in parents]
        git_author = InputGitAuthor(**author) if author else NotSet
        return self._call(lambda: repo.create_git_commit(message, commit_tree, parent_commits, git_author).sha)

    def update_branch(self, full_name: str, branch: str, sha: str) -> None:
        """Move the branch to `sha` only if that is a fast forward; NotFastForward if someone pushed meanwhile."""
        ref = _lazy(GitRef, self._repo(full_name), f"git/refs/heads/{quote(branch)}")
        self._call(lambda: ref.edit(sha, force=False))

    def put_file(self, full_name: str, *, path: str, content: bytes, message: str, branch: str) -> str:
        """Create a file with the Contents API: the only way to make the first commit of an empty repository."""
        repo = self._repo(full_name)
        return self._call(lambda: repo.create_file(path, message, content, branch=branch)["commit"].sha)


# GitHub's message for GET /repos/{owner}/{repo}/branches/{branch} when the repository exists but the branch does not.
BRANCH_NOT_FOUND = "Branch not found"


class _NotFound(GitHubError):
    """A 404 inside a repository, before it is known whether the repository is still there."""


def _lazy(cls: type[T], repo: Repository, path: str, *, sha: str | None = None) -> T:
    """A PyGithub object of `repo` known by its URL (and sha): building it costs no request."""
    return cls(repo.requester, url=f"{repo.url}/{path}", attributes={"sha": sha} if sha else None)


class _Download:
    """A download's body as a stream (`read(n)`), its connection failures turned into GitHubUnavailable."""

    def __init__(self, raw: urllib3.BaseHTTPResponse):
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(None if size < 0 else size, decode_content=True)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            raise GitHubUnavailable(f"The download from GitHub broke off: {error}") from error
